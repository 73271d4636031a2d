"""The cluster reader (and with it the ``kubernetes`` client) is imported only
when a cluster is read: ScanRequest and the live helpers name its option
types for the type checker alone, so a manifest-only scan or a snapshot
replay starts without it."""

from __future__ import annotations

import subprocess
import sys

from tests.support import REPO

PROGRAM = """
import sys
from checks.cli import main
code = main(sys.argv[1:])
loaded = sorted(m for m in sys.modules
                if m.split(".")[0] == "kubernetes" or m == "checks.sources.live.kube")
print(code, loaded)
"""


def _loaded(*args: str) -> str:
    return subprocess.run([sys.executable, "-c", PROGRAM, *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120).stdout.strip().splitlines()[-1]


def test_a_manifest_scan_and_a_replay_do_not_import_the_cluster_reader() -> None:
    assert _loaded("scan", "fixtures/demo") == "1 []"
    assert _loaded("scan", "--snapshot",
                   "fixtures/apiconnect/apic-backup-stale/fire.snapshot.json").endswith(" []")


def test_the_request_names_the_real_option_types() -> None:
    from typing import get_type_hints

    from checks.engine import scan
    from checks.sources.live.kube import ClusterOptions
    from checks.sources.live.probes import ProbeOptions

    hints = get_type_hints(scan.ScanRequest, vars(scan) | {"ClusterOptions": ClusterOptions,
                                                           "ProbeOptions": ProbeOptions})
    assert hints["cluster"] == ClusterOptions | None
    assert hints["probes"] == ProbeOptions | None
