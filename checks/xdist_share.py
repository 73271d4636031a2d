"""pytest-xdist: one scan, on the controller, shared with every worker.

xdist workers collect independently, so each would parse every manifest again
(N workers, N scans). Instead the controller scans, with the engine's own
worker processes sharing out the parsing (``--upgrade-jobs``, by default the
number of xdist workers), saves the results to a private temporary file and
hands its path to each worker through ``workerinput``, for the tests of the
team's own that read them.

The controller runs the rule items itself, before xdist hands the workers
their tests: an item only reports a verdict the scan already holds, and sent
to a worker it cost the controller more than running it (its reports, three
per item, came back one message each: 1.3 s after the scan for the 780 items
of 10,000 documents; run here the lean way, they take about 0.1 s, as in
``upgrade-lint scan``). The
items go through ``pytest_collection_modifyitems`` here, so -k, -m and a
conftest's hook select them as in one process; the controller writes the
reports.

The controller scans only once xdist has started its workers (in its
``pytest_collection``, which comes after xdist's ``pytest_sessionstart``):
their interpreters and pytest start while the scan runs, instead of after it.
A worker waits for the scan's file only when a test asks for the scan (a
public fixture): the file appears whole (written aside, then renamed), or
the mark of a failed scan does (the controller reports the failure; the
fixture skips). Loading 10,000 documents' results took a worker 0.4 s that
the session waited for, with no test needing them.

Registered by the plugin only when xdist distributes the session; every hook
here is optional, so nothing changes where xdist is not installed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from checks.engine.catalog import Catalog
from checks.engine.scan import ScanResult, load_scan, save_scan

if TYPE_CHECKING:
    from checks.plugin import UpgradeLintSession
    from checks.rule_items import RuleItem

#: ``workerinput`` key of the saved scan's path.
WORKERINPUT_KEY = "upgrade_lint_scan"
#: Next to the scan's file: the controller's scan failed, there will be none.
FAILED_SUFFIX = ".failed"
#: How often a waiting worker looks for the scan's file (seconds).
POLL_SECONDS = 0.005


def distributing(config: pytest.Config) -> bool:
    """Is this the controller of an xdist session with workers?"""
    return (config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput")
            and config.getoption("dist", "no") != "no"
            and bool(config.getoption("numprocesses", 0)))


def shared_scan_path(config: pytest.Config) -> Path | None:
    """On an xdist worker: where the controller saves the scan."""
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    path = workerinput.get(WORKERINPUT_KEY)
    return Path(path) if path else None


def wait_for_scan(path: Path, catalog: Catalog) -> ScanResult | None:
    """On an xdist worker: the controller's scan once it is saved; None when
    the controller's scan failed, or the controller is gone."""
    failed = path.with_name(path.name + FAILED_SUFFIX)
    parent = os.getppid()
    while not path.exists():
        if failed.exists() or os.getppid() != parent:
            return None
        time.sleep(POLL_SECONDS)
    return load_scan(path, catalog)


class SharedScan:
    """The controller's side: scan while the workers start, save the scan,
    pass its path, learn the selection."""

    def __init__(self, session: UpgradeLintSession) -> None:
        self.session = session
        self.directory = tempfile.mkdtemp(prefix="upgrade-lint-")
        self.path = Path(self.directory) / "scan.pickle"
        self.nodes = 0
        self.published = False
        self.items: list[RuleItem] = []
        self.workers_counted = False

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Called as xdist starts each worker, before the scan."""
        node.workerinput[WORKERINPUT_KEY] = str(self.path)
        self.nodes += 1

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> None:
        """The controller's scan, after xdist's ``pytest_sessionstart`` started
        the workers, before its ``pytest_collection`` (which collects nothing
        here), and the rule items it runs; with ``--collect-only`` xdist starts
        no worker and the controller collects the items itself after this."""
        try:
            self.session.run_scan()
        finally:
            self.publish()
        if self.nodes and self.session.scan is not None:
            self.items = self.session.select_on_controller(session)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Any:
        """The rule items, then xdist's loop over the workers' tests; as in
        pytest's own loop, ``-x`` or ``--maxfail`` stops the session."""
        session.testscollected = len(self.items)  # until xdist counts the workers' items
        try:
            for index, item in enumerate(self.items):
                nextitem = self.items[index + 1] if index + 1 < len(self.items) else None
                item.ihook.pytest_runtest_protocol(item=item, nextitem=nextitem)
                if session.shouldfail:
                    raise session.Failed(session.shouldfail)
                if session.shouldstop:
                    raise session.Interrupted(session.shouldstop)
            return (yield)
        finally:
            # xdist sets the count to the workers' items once they collect;
            # none there and none here would be "no tests ran" (exit 5).
            if self.workers_counted:
                session.testscollected += len(self.items)

    def publish(self) -> None:
        """The scan's file for the workers, or the mark that there is none."""
        if self.published or not self.nodes:
            return
        self.published = True
        scan = self.session.scan
        if scan is None:
            Path(str(self.path) + FAILED_SUFFIX).touch()
            return
        part = self.path.with_name(self.path.name + ".part")
        save_scan(scan, part)
        os.replace(part, self.path)  # a worker never sees half a file

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        """A session that ends before its scan (an error in another plugin)
        must not leave the workers waiting while xdist shuts them down."""
        self.publish()

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        self.session.workers_collected(ids)
        self.workers_counted = True  # xdist sets ``testscollected`` right after this

    def pytest_unconfigure(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
