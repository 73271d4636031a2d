"""pytest-xdist: one scan, on the controller, shared with every worker.

xdist workers collect independently, so each would parse every manifest again
(N workers, N scans). Instead the controller scans, with the engine's own
worker processes sharing out the parsing (``--upgrade-jobs``, by default the
number of xdist workers), saves the results to a private temporary file and
hands its path to each worker through ``workerinput``. Workers load the
results and make the same items from them. The controller writes the reports:
it has the results, and learns from the workers' collection which items
``-k``/``-m`` kept.

Registered by the plugin only when xdist distributes the session; every hook
here is optional, so nothing changes where xdist is not installed.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from checks.engine.scan import save_scan

if TYPE_CHECKING:
    from checks.plugin import UpgradeLintSession

#: ``workerinput`` key of the saved scan's path.
WORKERINPUT_KEY = "upgrade_lint_scan"


def distributing(config: pytest.Config) -> bool:
    """Is this the controller of an xdist session with workers?"""
    return (config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput")
            and config.getoption("dist", "no") != "no"
            and bool(config.getoption("numprocesses", 0)))


def shared_scan_path(config: pytest.Config) -> Path | None:
    """On an xdist worker: where the controller saved the scan."""
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    path = workerinput.get(WORKERINPUT_KEY)
    return Path(path) if path else None


class SharedScan:
    """The controller's side: save the scan, pass its path, learn the selection."""

    def __init__(self, session: UpgradeLintSession) -> None:
        self.session = session
        self.directory: str | None = None

    def pytest_sessionstart(self) -> None:
        """After the scan (the session plugin's hook runs first), before xdist
        starts its workers (its hook runs last)."""
        if self.session.scan is None:
            return
        self.directory = tempfile.mkdtemp(prefix="upgrade-lint-")
        save_scan(self.session.scan, Path(self.directory) / "scan.pickle")

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        if self.directory is not None:
            node.workerinput[WORKERINPUT_KEY] = str(Path(self.directory) / "scan.pickle")

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        self.session.select_by_node_ids(ids)

    def pytest_unconfigure(self) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
