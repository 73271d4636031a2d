"""Live scans replayed from snapshots: the issue's acceptance, end to end.

The cluster reader is tested against the test API server (tests/live); here
a recorded cluster read (a snapshot, as ``--record`` writes it) goes through
the real command line and every report: a peering primary on gw-1 blocks and
names the peering object and the pods, a management whose reconciled version
lags its spec blocks, a backup older than the limit warns, and no Secret
value reaches any output.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from checks.model import Outcome
from checks.sources.live.model import PROBE_GROUP as PROBE
from checks.sources.live.model import LiveRead, Unavailable
from checks.sources.live.snapshot import SnapshotError, read_snapshot, write_snapshot
from tests.e2e.test_cli import run
from tests.support import REPO, of_rule, scan, write

SCHEMA = json.loads((REPO / "checks" / "reports" / "report.schema.json").read_text())
SECRET_VALUE = "pA55-w0rd-never-shown"
RECORDED = "2026-11-30T06:00:00Z"


def _mgmt(spec: str = "10.0.5.3", reconciled: str = "10.0.5.3-1234") -> dict[str, Any]:
    return {"apiVersion": "management.apiconnect.ibm.com/v1beta1", "kind": "ManagementCluster",
            "metadata": {"name": "mgmt", "namespace": "apic", "resourceVersion": "4711"},
            "spec": {"version": spec, "databaseBackup": {"protocol": "objstore"},
                     "license": {"accept": True, "use": "production",
                                 "license": "L-DZZQ-MGVN8V"}},
            "status": {"phase": "Running", "versions": {"reconciled": reconciled}}}


def _peering(primary_ip: str) -> dict[str, Any]:
    ips = ["10.1.2.10", "10.1.2.11", "10.1.2.12"]

    def entries() -> list[dict[str, Any]]:
        return [{"Address": ip, "Name": name, "PendingUpdates": 0, "ReplicationOffset": 1,
                 "LinkStatus": "ok", "Primary": "yes" if ip == primary_ip else "no"}
                for name in ("gwd", "rate-limit") for ip in ips]

    return {"apiVersion": "probes.upgrade-lint.io/v1", "kind": "DataPowerPeeringStatus",
            "metadata": {"name": "gwv6", "namespace": "apic"}, "statefulSet": "gwv6",
            "pods": [{"name": f"gwv6-{i}", "ip": ip, "ordinal": i} for i, ip in enumerate(ips)],
            "peers": [{"pod": f"gwv6-{i}", "entries": entries()} for i in range(3)]}


def _backup(name: str, stopped: str) -> dict[str, Any]:
    return {"apiVersion": "postgresql.k8s.enterprisedb.io/v1", "kind": "Backup",
            "metadata": {"name": name, "namespace": "apic", "resourceVersion": "9"},
            "spec": {"cluster": {"name": "mgmt-db"}},
            "status": {"phase": "completed", "stoppedAt": stopped}}


def _secret() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "gateway-admin", "namespace": "apic"},
            "data": {"username": "YWRtaW4=", "password": SECRET_VALUE},
            "stringData": {"token": SECRET_VALUE}}


def _snapshot(objects: list[dict[str, Any]], unavailable: list[dict[str, Any]] | None = None
              ) -> dict[str, Any]:
    return {"format": "upgrade-lint-snapshot/1", "source": "cluster://prod",
            "recordedAt": RECORDED, "serverVersion": "v1.30.4", "requests": 7,
            "objects": objects, "unavailable": unavailable or [], "notes": []}


def _cluster(primary_ip: str = "10.1.2.11", spec: str = "10.0.8.0") -> dict[str, Any]:
    """A cluster whose management is half-way to 10.0.8.0, whose peering
    primary is gw-1, and whose newest backup is two days old."""
    return _snapshot([_mgmt(spec=spec), _peering(primary_ip),
                      _backup("mgmt-db-old", "2026-11-28T03:00:00Z"), _secret()])


def _gz(path: Path, document: dict[str, Any]) -> Path:
    path.write_bytes(gzip.compress(json.dumps(document).encode()))
    return path


def test_acceptance_through_the_command_line_and_every_report(tmp_path: Path) -> None:
    snap = _gz(tmp_path / "nightly.json.gz", _cluster())
    reports = [str(tmp_path / name) for name in ("r.json", "r.xml", "r.html")]
    proc = run("scan", "--snapshot", str(snap), "--target", "apiconnect=10.0.8.0",
               "--json", reports[0], "--junit", reports[1], "--html", reports[2])
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    where = "snapshot://nightly.json.gz/apic"
    assert (f"{where}/DataPowerPeeringStatus/gwv6: apic-peering-primary-not-gw0 (blocker) "
            "peering object 'gwd': the primary is gwv6-1 (10.1.2.11, as gwv6-1 reports), not "
            "gwv6-0, the ordinal-0 pod the StatefulSet upgrades last; switch the primary to "
            "gwv6-0 (gateway-peering-switch-primary gwd)") in lines
    assert (f"{where}/ManagementCluster/mgmt?resourceVersion=4711: "
            "apic-management-upgrade-incomplete (blocker) ManagementCluster mgmt asks for "
            "version 10.0.8.0 (spec.version) but runs 10.0.5.3-1234 "
            "(status.versions.reconciled): its upgrade is not complete") in lines
    assert any(line.startswith(f"{where}/ManagementCluster/mgmt?resourceVersion=4711: "
                               "apic-backup-stale (warning) the newest completed backup of the "
                               "management database, Backup apic/mgmt-db-old, finished 2 d 3 h "
                               "ago") for line in lines), lines
    assert "live source: snapshot://nightly.json.gz (4 object(s), 7 request(s), server " \
           "v1.30.4)" in lines

    report = json.loads(Path(reports[0]).read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    assert report["schema_version"] == "1.2"
    assert report["live"] == {
        "source": "snapshot://nightly.json.gz", "server_version": "v1.30.4", "requests": 7,
        "objects": 4, "unavailable": [],
        "notes": [f"replayed from a snapshot of cluster://prod recorded at {RECORDED}"]}
    primary = [r for r in report["results"] if r["rule_id"] == "apic-peering-primary-not-gw0"
               and r["outcome"] == "failed"]
    assert [(r["path"], r["line"], r["json_path"]) for r in primary] == [
        (f"{where}/DataPowerPeeringStatus/gwv6", None, "$.peers[1].entries[1].Primary"),
        (f"{where}/DataPowerPeeringStatus/gwv6", None, "$.peers[1].entries[4].Primary")]
    junit, html = Path(reports[1]).read_text(), Path(reports[2]).read_text()
    assert "live.0" in junit and "DataPowerPeeringStatus/gwv6" in junit
    assert "<h2>Live source</h2>" in html and "DataPowerPeeringStatus/gwv6" in html
    for text in (proc.stdout, proc.stderr, Path(reports[0]).read_text(), junit, html):
        assert SECRET_VALUE not in text


def test_gateway_manifest_against_the_cluster_is_a_planned_upgrade(tmp_path: Path) -> None:
    """The manifest is the planned state, the cluster the current one."""
    snap = write(tmp_path / "c.json", json.dumps(_snapshot([_mgmt()])))
    gateway = write(tmp_path / "gw.yaml", "apiVersion: gateway.apiconnect.ibm.com/v1beta1\n"
                                          "kind: GatewayCluster\nmetadata: {name: gw1, "
                                          "namespace: apic}\nspec:\n  version: 10.0.8.0\n")
    result = scan(gateway, snapshot=str(snap))
    path = result.context.of("ns:apic").path("apiconnect")
    assert (str(path.current), str(path.target)) == ("10.0.5.3-1234", "10.0.8.0")
    assert path.current_source.startswith("snapshot://c.json/apic/ManagementCluster/mgmt")
    [ahead] = of_rule(result.results, "apic-gateway-ahead-of-management", Outcome.FAILED)
    assert (ahead.severity.label, ahead.path, ahead.line) == ("blocker", str(gateway), 5)
    given = scan(gateway, snapshot=str(snap), currents={"apiconnect": "10.0.8.0"})
    assert str(given.context.of("ns:apic").path("apiconnect").current) == "10.0.8.0"


def test_a_manifest_stands_for_its_live_copy(tmp_path: Path) -> None:
    """Same group, kind, namespace and name: only the manifest is evaluated."""
    snap = write(tmp_path / "c.json", json.dumps(_snapshot([_mgmt(spec="10.0.8.0")])))
    manifest = write(tmp_path / "mgmt.yaml", json.dumps(_mgmt(spec="10.0.8.0",
                                                              reconciled="10.0.8.0-1")))
    result = scan(manifest, snapshot=str(snap))
    license_results = of_rule(result.results, "apic-license-not-accepted")
    assert [r.path for r in license_results] == [str(manifest)]
    # A live rule looks at live objects only, even when the manifest's copy is there.
    [incomplete] = of_rule(result.results, "apic-management-upgrade-incomplete",
                           Outcome.FAILED)
    assert incomplete.path == "snapshot://c.json/apic/ManagementCluster/mgmt?resourceVersion=4711"


def test_live_rules_wait_for_a_live_source() -> None:
    result = scan(REPO / "fixtures" / "demo")
    [waiting] = of_rule(result.results, "apic-management-upgrade-incomplete")
    assert waiting.outcome is Outcome.NOT_EVALUATED and "--cluster or --snapshot" in \
        waiting.message
    [absent] = of_rule(result.results, "apic-peering-primary-not-gw0")
    assert absent.outcome is Outcome.NOT_APPLICABLE


def test_unavailable_reads_make_their_rules_not_evaluated(tmp_path: Path) -> None:
    snap = write(tmp_path / "c.json", json.dumps(_snapshot([_mgmt()], unavailable=[
        {"group": "gateway.apiconnect.ibm.com", "kind": "GatewayCluster", "namespace": None,
         "reason": "CRD gatewayclusters.gateway.apiconnect.ibm.com is not installed"},
        # The reader reports every wanted kind the cluster does not serve: a
        # kind missing here was served (and the rule reading it evaluated).
        {"group": "apiconnect.ibm.com", "kind": "APIConnectCluster", "namespace": None,
         "reason": "CRD apiconnectclusters.apiconnect.ibm.com is not installed"},
        {"group": "postgresql.k8s.enterprisedb.io", "kind": "Backup", "namespace": "apic",
         "reason": "forbidden: list backups.postgresql.k8s.enterprisedb.io in namespace apic "
                   "(403)"},
        {"group": PROBE, "kind": "DataPowerPeeringStatus", "namespace": "apic",
         "reason": "DataPower REST management interface of gwv6-0 unreachable: timed out"}])))
    result = scan(snapshot=str(snap), targets={"apiconnect": "10.0.8.0"})
    # Without any gateway object, the missing CRD is the reason, not "no gateway".
    assert [(r.outcome, r.message) for r in of_rule(result.results,
                                                    "apic-gateway-replicas-below-ha")] == [
        (Outcome.NOT_EVALUATED, "CRD gatewayclusters.gateway.apiconnect.ibm.com is not installed"),
        (Outcome.NOT_EVALUATED, "CRD apiconnectclusters.apiconnect.ibm.com is not installed")]
    # A rule that has objects to judge (the ManagementCluster was read): a kind
    # the cluster does not serve has no objects, and adds nothing.
    assert [r.outcome for r in of_rule(result.results, "apic-template-override")] == [
        Outcome.PASSED]
    backups = of_rule(result.results, "apic-backup-stale", Outcome.NOT_EVALUATED)
    assert [(r.message, r.installation) for r in backups] == [
        ("forbidden: list backups.postgresql.k8s.enterprisedb.io in namespace apic (403) "
         "(namespace apic)", "ns:apic")]
    [peering] = of_rule(result.results, "apic-peering-primary-not-gw0")
    assert (peering.outcome, peering.installation) == (Outcome.NOT_EVALUATED, "ns:apic")
    assert peering.message.startswith("DataPower REST management interface of gwv6-0")


def test_record_and_replay_give_the_same_results(tmp_path: Path) -> None:
    first = _gz(tmp_path / "first.json.gz", _cluster())
    again = tmp_path / "again.json.gz"
    proc = run("scan", "--snapshot", str(first), "--record", str(again),
               "--target", "apiconnect=10.0.8.0")
    assert proc.returncode == 1, proc.stderr
    recorded = gzip.decompress(again.read_bytes()).decode()  # gzip'd by its name
    assert SECRET_VALUE not in recorded and json.loads(recorded)["source"] == "snapshot://first.json.gz"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.json.gz", "first.json.gz"]

    def outcomes(path: Path) -> list[tuple[Any, ...]]:
        results = scan(snapshot=str(path), targets={"apiconnect": "10.0.8.0"}).results
        return [(r.rule_id, r.outcome, r.message, r.json_path,
                 (r.path or "").split("/", 3)[-1]) for r in results]

    assert outcomes(first) == outcomes(again)


def test_snapshot_writer_keeps_secret_key_names_only(tmp_path: Path) -> None:
    read = read_snapshot(str(write(tmp_path / "in.json", json.dumps(_cluster()))))
    secret = next(r for r in read.resources if r.kind == "Secret")
    assert secret.body["data"] == {"username": "", "password": ""}
    written = tmp_path / "out.json"
    write_snapshot(LiveRead("cluster://prod", read.resources,
                            [Unavailable("", "Secret", "kong", "forbidden (403)")],
                            requests=3, notes=["n"], server_version="v1"), str(written))
    text = written.read_text()
    assert SECRET_VALUE not in text and "YWRtaW4=" not in text
    again = read_snapshot(str(written))
    assert again.unavailable == [Unavailable("", "Secret", "kong", "forbidden (403)")]
    assert (again.requests, again.server_version) == (3, "v1")
    assert [r.origin.path for r in again.resources][:1] == [
        "snapshot://out.json/apic/ManagementCluster/mgmt?resourceVersion=4711"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.json", "out.json"]  # no temp left


@pytest.mark.parametrize(("content", "reason"), [
    (b"{not json", "not valid JSON (line 1)"),
    (b'{"format": "other/1"}', 'not an upgrade-lint snapshot (expected "format": '
                               '"upgrade-lint-snapshot/1")'),
    (b'{"format": "upgrade-lint-snapshot/1", "objects": [{"kind": "Pod"}]}',
     "objects[0] lacks apiVersion, kind or metadata.name"),
    (b'{"format": "upgrade-lint-snapshot/1", "objects": {}}',
     "objects, unavailable and notes must be lists"),
    (b"\xff\xfe", "not UTF-8 JSON"),
    (b'{"format": "upgrade-lint-snapshot/1", "objects": [' + b"[" * 600 + b"]" * 600 + b"]}",
     "nested more than 500 levels deep"),
    (b'{"format": "upgrade-lint-snapshot/1", "objects": [' + b"[" * 100000 + b"]" * 100000
     + b"]}", "nested more than 500 levels deep"),
])
def test_a_bad_snapshot_is_one_line_and_exit_2(tmp_path: Path, content: bytes,
                                               reason: str) -> None:
    bad = write(tmp_path / "bad.json", content)
    with pytest.raises(SnapshotError) as caught:
        read_snapshot(str(bad))
    assert str(caught.value) == f"--snapshot {bad}: {reason}"
    proc = run("scan", "--snapshot", str(bad))
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.strip().splitlines() == [f"ERROR: --snapshot {bad}: {reason}"]


def test_snapshot_limits_and_gzip(tmp_path: Path) -> None:
    big = write(tmp_path / "big.json.gz", gzip.compress(b" " * 5000 + b"{}"))
    with pytest.raises(SnapshotError, match=r"larger than 4096 bytes \(decompressed\)"):
        read_snapshot(str(big), limit=4096)
    broken = write(tmp_path / "broken.json.gz", b"not gzip at all")
    with pytest.raises(SnapshotError, match="cannot read: not a gzip file"):
        read_snapshot(str(broken))


@pytest.mark.parametrize(("args", "message"), [
    ((), "upgrade-lint scan: nothing to scan: give PATH, --cluster or --snapshot FILE"),
    (("--snapshot", "missing.json"), "ERROR: --snapshot missing.json: no such file"),
    (("--kubeconfig", "k", "fixtures/demo"), "ERROR: --kubeconfig needs --cluster"),
    (("--record", "r.json", "fixtures/demo"),
     "ERROR: --record needs --cluster (or --snapshot, to write it again)"),
    (("--snapshot", "fixtures/apiconnect/apic-backup-stale/fire.snapshot.json", "--record",
      "no/such/dir/r.json"), "ERROR: --record no/such/dir/r.json: cannot write: No such file or "
                             "directory"),
])
def test_live_option_errors_are_usage_errors(args: tuple[str, ...], message: str) -> None:
    proc = run("scan", *args)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [message]


def test_the_plugin_takes_the_same_options(pytester: pytest.Pytester) -> None:
    snap = pytester.path / "c.json"
    snap.write_text(json.dumps(_cluster()))
    result = pytester.runpytest("--upgrade-snapshot", str(snap), "--upgrade-target",
                                "apiconnect=10.0.8.0", "-p", "no:cacheprovider")
    assert result.ret == 1
    assert SECRET_VALUE not in result.stdout.str()
    result.stdout.fnmatch_lines(["*apic-peering-primary-not-gw0*gwv6*"])
    help_text = subprocess.run([sys.executable, "-m", "pytest", "--help"], capture_output=True,
                               text=True, cwd=REPO).stdout
    for option in ("--upgrade-cluster", "--upgrade-kubeconfig", "--upgrade-context",
                   "--upgrade-namespace", "--upgrade-exclude-namespace",
                   "--upgrade-connect-timeout", "--upgrade-read-timeout", "--upgrade-record",
                   "--upgrade-snapshot", "--upgrade-datapower-secret",
                   "--upgrade-kong-admin-url", "--upgrade-api7-dashboard-url",
                   "--upgrade-ca-bundle", "--upgrade-datapower-tls-server-name"):
        assert option in help_text, option


def test_a_live_scan_runs_in_one_process(tmp_path: Path) -> None:
    """--jobs applies to manifests: with a live source the results are those of one process."""
    snap = write(tmp_path / "c.json", json.dumps(_cluster()))
    one = scan(REPO / "fixtures" / "demo", snapshot=str(snap), jobs=1).results
    two = scan(REPO / "fixtures" / "demo", snapshot=str(snap), jobs=2)
    assert two.pre_encoded is None and two.results == one


def test_a_live_rule_ignores_manifests_when_the_cluster_is_read(tmp_path: Path) -> None:
    """The manifest's status is not what runs: with a live source that has no
    ManagementCluster, the live rule has nothing to judge."""
    snap = write(tmp_path / "c.json", json.dumps(_snapshot([_peering("10.1.2.10")])))
    manifest = write(tmp_path / "mgmt.yaml", json.dumps(_mgmt(spec="10.0.8.0")))
    [result] = of_rule(scan(manifest, snapshot=str(snap)).results,
                       "apic-management-upgrade-incomplete")
    assert (result.outcome, result.message) == (
        Outcome.NOT_APPLICABLE, "no ManagementCluster, APIConnectCluster in the live source")


def test_a_product_with_no_crd_installed_does_not_apply(tmp_path: Path) -> None:
    """A Kong-only cluster has no API Connect CRD at all: API Connect is not
    installed there, so its rules are not applicable -- not "not evaluated",
    which would fail a --require-evaluated nightly scan for a product that is
    not in the cluster. One API Connect CRD installed, and the others stay
    missing CRDs (the test above)."""
    from checks.engine.catalog import load_catalog
    from checks.sources.live.kinds import wanted_kinds

    missing = [{"group": k.group, "kind": k.kind, "namespace": None,
                "reason": f"CRD {k.kind.lower()}s.{k.group} is not installed"}
               for k in wanted_kinds(load_catalog().rules) if k.group.endswith("ibm.com")]
    kong = {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "kong", "namespace": "kong", "resourceVersion": "5"},
            "spec": {"template": {"spec": {"containers": [
                {"name": "proxy", "image": "kong/kong-gateway:3.10.0.1"}]}}}}
    snap = write(tmp_path / "kong-only.json", json.dumps(_snapshot([kong], missing)))
    results = scan(snapshot=str(snap)).results
    apic = [r for r in results if r.product == "apiconnect"]
    assert apic and not [r for r in apic if r.outcome is Outcome.NOT_EVALUATED]
    assert ("no ibm.com CRD is installed in this cluster (CRD gatewayclusters."
            "gateway.apiconnect.ibm.com is not installed)") in {
        r.message for r in of_rule(results, "apic-template-override")}
    # With one API Connect CRD installed (a ManagementCluster was read), the
    # gateway's missing CRD leaves the gateway rules unevaluated again.
    snap = write(tmp_path / "apic.json", json.dumps(_snapshot([kong, _mgmt()], missing)))
    assert [r.outcome for r in of_rule(scan(snapshot=str(snap)).results,
                                       "apic-gateway-replicas-below-ha")] == [
        Outcome.NOT_EVALUATED] * 2
