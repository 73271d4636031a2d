"""pytest plugin: rule evaluations as test items.

Loaded through the ``pytest11`` entry point, it stays inert until
``--upgrade-lint PATH`` is given. Then the engine scans everything once at
session start, and items only *report* the engine's results, so selection
(``-k``, ``-m``), ordering and xdist never change a verdict. Item count is
proportional to findings and rules (see ``checks.engine.items``).

Teams add their own checks as ordinary test functions using the public
fixtures ``upgrade_scan``, ``upgrade_resources`` and ``upgrade_path``.
"""

from __future__ import annotations

import argparse
import re
import sys
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from checks.engine.catalog import CatalogError, load_catalog
from checks.engine.items import ItemSpec, group_items
from checks.engine.live_options import DESCRIPTION as LIVE_DESCRIPTION
from checks.engine.live_options import add_live_options, read_live_options
from checks.engine.request import LiveOptions, build_request
from checks.engine.scan import ScanRequest, ScanResult, ScanUsageError, run_scan
from checks.engine.upgrade_path import ScanContext
from checks.handoff import RunOutcome
from checks.model import Outcome, Resource, Result, Severity
from checks.reports.json_report import json_encoder
from checks.reports.model import Report, selection_text
from checks.reports.output import STDOUT, stdout_conflict, write_reports
from checks.reports.terminal import skipped_lines, summary_lines
from checks.reports.text import for_terminal
from checks.rule_items import RuleItem, ScanCollector, run_lean
from checks.sources.files import DEFAULT_MAX_FILE_BYTES
from checks.sources.helm import CHARTS
from checks.timings import mark
from checks.xdist_share import SharedScan, distributing, shared_scan_path, wait_for_scan

PRODUCT_MARKERS = {
    "apiconnect": "IBM API Connect / DataPower rules",
    "api7": "API7 Enterprise rules",
    "kong": "Kong Gateway rules",
    "3scale": "Red Hat 3scale rules",
    "kubernetes": "Kubernetes API rules",
    "input": "unreadable input files",
}
SESSION_PLUGIN = "upgrade-lint-session"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("upgrade-lint", "upgrade-lint: find what blocks a gateway upgrade")
    group.addoption("--upgrade-lint", action="append", default=[], metavar="PATH",
                    help="scan manifests, Helm values or directories (repeatable; - = stdin)")
    group.addoption("--upgrade-target", action="append", default=[], metavar="PRODUCT=VERSION",
                    help="version being upgraded to, e.g. apiconnect=10.0.8.0")
    group.addoption("--upgrade-from", action="append", default=[], metavar="PRODUCT=VERSION",
                    help="version running now, e.g. api7=3.4.2")
    group.addoption("--upgrade-values", action="append", default=[], metavar="CHART=FILE",
                    help=f"scan FILE as Helm values of CHART ({', '.join(CHARTS)})")
    group.addoption("--upgrade-backup", action="append", default=[], metavar="PRODUCT=PATH",
                    help="backup evidence for a product's backup rule, e.g. api7=backup.dump")
    group.addoption("--upgrade-max-backup-age", default="24h", metavar="DURATION",
                    help="oldest acceptable backup, e.g. 24h, 90m, 2d (default 24h)")
    group.addoption("--upgrade-fail-on", default="error",
                    choices=[s.label for s in Severity],
                    help="lowest severity that fails the run (default: error)")
    group.addoption("--upgrade-require-evaluated", action="store_true",
                    help="readiness gate: a blocker or error rule that could not be evaluated "
                         "fails the run")
    group.addoption("--upgrade-installation", action="append", default=[], metavar="NAME=GLOB",
                    help="files matching GLOB belong to installation NAME (repeatable)")
    group.addoption("--upgrade-base", metavar="REF",
                    help="merge-request gating: versions at git REF are what runs now, and "
                         "findings REF already had do not fail")
    group.addoption("--upgrade-baseline", metavar="FILE",
                    help="findings in this earlier JSON report do not fail")
    group.addoption("--upgrade-gate-all", action="store_true",
                    help="with --upgrade-base/--upgrade-baseline: existing findings fail too")
    group.addoption("--upgrade-json", metavar="FILE", help="write the JSON report")
    group.addoption("--upgrade-junit", metavar="FILE", help="write the JUnit XML report")
    group.addoption("--upgrade-html", metavar="FILE", help="write the HTML report")
    group.addoption("--upgrade-rules", metavar="DIR", help="use this rule catalog directory")
    group.addoption("--upgrade-jobs", default=None, metavar="N",
                    help="worker processes sharing the scan (N or auto; default 1, or the "
                         "number of pytest-xdist workers); the public fixtures need the "
                         "objects in this process, so they require 1 (xdist workers that "
                         "use them read the manifests again)")
    group.addoption("--upgrade-max-file-size", type=int, default=DEFAULT_MAX_FILE_BYTES,
                    metavar="BYTES", help="skip (and report) larger input files")
    group.addoption("--upgrade-exclude", action="append", default=[], metavar="GLOB",
                    help="leave out files below a scanned directory matching this "
                         "gitignore-style pattern (repeatable; .upgradelintignore adds more)")
    add_live_options(parser.getgroup("upgrade-lint live", "upgrade-lint: "
                                     + LIVE_DESCRIPTION).addoption, prefix="upgrade-")
    # Set by `upgrade-lint scan`: collect nothing but the rule items.
    group.addoption("--upgrade-lint-only", action="store_true", help=argparse.SUPPRESS)


def pytest_configure(config: pytest.Config) -> None:
    for product, text in PRODUCT_MARKERS.items():
        config.addinivalue_line("markers", f"{product}: {text}")
    for severity in Severity:
        config.addinivalue_line("markers", f"{severity.label}: findings of severity "
                                           f"{severity.label}")
    config.addinivalue_line("markers", "upgrade_lint: every upgrade-lint rule item")
    paths = config.getoption("upgrade_lint")
    if not paths and not config.getoption("upgrade_cluster") \
            and config.getoption("upgrade_snapshot") is None:
        return
    request = _request_from_options(config, paths)
    session = UpgradeLintSession(config, request)
    config.pluginmanager.register(session, SESSION_PLUGIN)
    if distributing(config):
        session.deferred = True
        config.pluginmanager.register(SharedScan(session), "upgrade-lint-xdist")


def report_targets(config: pytest.Config) -> list[tuple[str, str | None]]:
    """(format, target) of each report option: --upgrade-json etc."""
    return [(fmt, config.getoption(f"upgrade_{fmt}")) for fmt in ("json", "junit", "html")]


def _check_report_targets(config: pytest.Config) -> None:
    targets = report_targets(config)
    conflict = stdout_conflict(targets)
    if conflict is not None:
        raise pytest.UsageError(conflict)
    to_stdout = [f"--upgrade-{fmt} -" for fmt, target in targets if target == STDOUT]
    if to_stdout and not config.getoption("upgrade_lint_only"):
        raise pytest.UsageError(f"{to_stdout[0]}: standard output is pytest's terminal here; "
                                "give a file, or use 'upgrade-lint scan --json -'")


def _request_from_options(config: pytest.Config, paths: Sequence[str]) -> ScanRequest:
    _check_report_targets(config)
    stdin_data = None
    if "-" in paths:
        outcome = _run_outcome(config)
        if outcome is None or outcome.stdin_data is None:
            raise pytest.UsageError("reading manifests from stdin (-) works with "
                                    "'upgrade-lint scan -'; under pytest pass a file instead")
        stdin_data = outcome.stdin_data
    option = config.getoption
    try:
        return build_request(
            paths, values=option("upgrade_values"), targets=option("upgrade_target"),
            currents=option("upgrade_from"), backups=option("upgrade_backup"),
            rules=option("upgrade_rules"), max_file_bytes=option("upgrade_max_file_size"),
            max_backup_age=option("upgrade_max_backup_age"), jobs=_jobs(config),
            stdin_data=stdin_data, installations=option("upgrade_installation"),
            base=option("upgrade_base"), baseline=option("upgrade_baseline"),
            gate_all=option("upgrade_gate_all"), exclude=option("upgrade_exclude"),
            encode_results=json_encoder(option("upgrade_json"), option("upgrade_fail_on"),
                                        option("upgrade_require_evaluated")),
            live=live_options(config))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


def live_options(config: pytest.Config) -> LiveOptions:
    """The ``--upgrade-cluster`` family of options."""
    return read_live_options(config.getoption, prefix="upgrade-", named_rules=tuple(
        re.findall(r"[\w.:/+-]+", config.getoption("keyword") or "")))


def _jobs(config: pytest.Config) -> str:
    """--upgrade-jobs, by default one per xdist worker when xdist distributes."""
    jobs = config.getoption("upgrade_jobs")
    if jobs is not None:
        return str(jobs)
    return str(config.getoption("numprocesses")) if distributing(config) else "1"


def _run_outcome(config: pytest.Config) -> RunOutcome | None:
    for plugin in config.pluginmanager.get_plugins():
        if isinstance(plugin, RunOutcome):
            return plugin
    return None


#: Plugins whose setup, call, teardown or makereport hooks do nothing for a
#: rule item, which has no fixture, prints nothing, logs nothing, starts no
#: thread and is neither a unittest nor a hypothesis test: pytest's own
#: (runner, skipping, output and log capture, thread and unraisable
#: exceptions, unittest, tmp_path's report keeping), hypothesis's, and this
#: one. Another plugin there (allure, rerunfailures, timeout ...) keeps
#: pytest's full protocol for every rule item.
PHASE_HOOKS_THAT_IGNORE_RULE_ITEMS = frozenset((
    "runner", "skipping", "capturemanager", "logging-plugin", "threadexception",
    "unraisableexception", "unittest", "tmpdir", "hypothesispytest", "upgrade-lint-session"))


class UpgradeLintSession:
    """Per-session state: the scan, its items and the reports."""

    def __init__(self, config: pytest.Config, request: ScanRequest) -> None:
        self.config = config
        self.request = request
        self.fail_on = Severity.parse(config.getoption("upgrade_fail_on"))
        self.require_evaluated = bool(config.getoption("upgrade_require_evaluated"))
        self.only = bool(config.getoption("upgrade_lint_only"))
        self.scan: ScanResult | None = None
        self.selected: list[Result] | None = None  # None: every result
        self.rule_items = 0
        #: True on an xdist worker that loaded the controller's scan (see xdist_share).
        self.shared = False
        #: On an xdist worker: where the controller saves its scan, until a test asks.
        self._shared_path: Path | None = None
        #: True on the xdist controller: the scan runs after the workers start.
        self.deferred = False
        self._with_objects: ScanResult | None = None
        #: The session ends in a usage error: no reports (they would claim a pass).
        self.usage_error = False
        #: That error, when found where it cannot be raised (the xdist controller).
        self.selection_problem: str | None = None
        #: The rule items the xdist controller runs itself (see xdist_share).
        self.controller_items: list[RuleItem] | None = None
        #: Whether pytest-run rule items may run the lean way (computed once).
        self._lean: bool | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        mark("pytest: session start")
        if not self.deferred:  # the xdist controller scans once its workers start
            self.run_scan()

    def run_scan(self) -> None:
        """The scan (on an xdist worker: where the controller's will be)."""
        outcome = _run_outcome(self.config)
        shared = shared_scan_path(self.config)
        try:
            if shared is not None:
                # The controller runs the rule items; only a test of the team's
                # own that reads the scan needs it here (``scan_for_tests``).
                self._shared_path = shared
                return
            if outcome is not None and outcome.prepared is not None:
                self.scan = outcome.prepared.finish()
            else:
                self.scan = run_scan(self.request)
        except CatalogError as exc:
            raise pytest.UsageError("rule catalog is invalid:\n" + "\n".join(exc.problems)) \
                from None
        except ScanUsageError as exc:
            raise pytest.UsageError(str(exc)) from None
        except Exception as exc:
            if outcome is None:
                raise  # plain pytest: its INTERNALERROR report, exit 3
            # `upgrade-lint scan` says what went wrong in one line first, then
            # the traceback (exit 3); pytest would print the traceback alone.
            outcome.crash = exc
            return
        mark("scan: done")

    def scan_for_tests(self) -> ScanResult | None:
        """The scan the public fixtures give; on an xdist worker the
        controller's, loaded the first time a test asks for it."""
        if self.scan is None and self._shared_path is not None:
            path, self._shared_path = self._shared_path, None
            self.scan = self._shared_scan(path)  # None: the controller's scan failed
            self.shared = self.scan is not None
        return self.scan

    def _shared_scan(self, path: Path) -> ScanResult | None:
        """On an xdist worker: the catalog, read while the controller scans, and
        the controller's results; None when its scan fails (it says why)."""
        try:
            catalog = load_catalog(self.request.rules_dir)
        except CatalogError:
            return None  # the controller's scan stops on it, and reports it
        return wait_for_scan(path, catalog)

    def pytest_ignore_collect(self) -> bool | None:
        """In ``upgrade-lint scan`` mode nothing but the rule items is collected."""
        return True if self.only else None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session: pytest.Session,
                                      items: list[pytest.Item]) -> None:
        if self.scan is None:  # the scan crashed (``RunOutcome.crash``)
            return
        if self.controller_items is not None or shared_scan_path(self.config) is not None:
            return  # the xdist controller runs the rule items (see xdist_share)
        rule_items = self.make_rule_items(session)
        self.rule_items = len(rule_items)
        if self.only:
            items[:] = rule_items
        else:
            items.extend(rule_items)

    def make_rule_items(self, session: pytest.Session) -> list[RuleItem]:
        assert self.scan is not None
        parent = ScanCollector.from_parent(session, name=ScanCollector.NODE_ID,
                                           nodeid=ScanCollector.NODE_ID)
        # Item names hold paths: escaped, so `-v` cannot be made to print forged lines.
        return [RuleItem.from_parent(parent, name=for_terminal(spec.name), spec=spec,
                                     fail_on=self.fail_on, emit_warnings=not self.only,
                                     require_evaluated=self.require_evaluated)
                for spec in group_items(self.scan.results)]

    def select_on_controller(self, session: pytest.Session) -> list[RuleItem]:
        """On the xdist controller: the rule items, less those -k, -m or a
        conftest's ``pytest_collection_modifyitems`` leave out (the hook runs
        on them as it would in one process)."""
        assert self.scan is not None
        made = self.make_rule_items(session)
        items: list[pytest.Item] = list(made)
        self.controller_items = []  # from here on, this plugin's own hook adds nothing
        self.config.hook.pytest_collection_modifyitems(session=session, config=self.config,
                                                       items=items)
        self.controller_items = [item for item in items if isinstance(item, RuleItem)]
        self.rule_items = len(made)
        self._keep([item.spec for item in self.controller_items], self.rule_items)
        return self.controller_items

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Reports cover what -k/-m selected (invalid input is always kept).

        A selection that keeps no rule item is a usage error, not a pass with
        nothing checked; under pytest only when it keeps no test at all (it may
        pick the team's own checks, ``-k team_policy``)."""
        if self.scan is None:  # the scan crashed (``RunOutcome.crash``)
            return
        kept = [item.spec for item in session.items if isinstance(item, RuleItem)]
        problem = self._selects_nothing(kept, self.rule_items, other_items=(
            not self.only and len(session.items) > len(kept)))
        if problem is not None:
            raise pytest.UsageError(problem)
        self._keep(kept, self.rule_items)

    def _selects_nothing(self, kept: Sequence[ItemSpec], items: int,
                         other_items: bool) -> str | None:
        """The usage error of a selection that keeps no rule item (and no test
        of the user's own), or None."""
        selection = self.selection()
        if selection and items and not kept and not other_items:
            self.usage_error = True
            return f"{selection_text(selection.items())} selects no rule"
        return None

    def selection(self) -> dict[str, str]:
        """The -k and -m expressions given, for the error above and the reports."""
        found = {"keyword": self.config.getoption("keyword"),
                 "markers": self.config.getoption("markexpr")}
        return {name: str(expr) for name, expr in found.items() if expr}

    def workers_collected(self, node_ids: Sequence[str]) -> None:
        """On the xdist controller: whether a selection that kept no rule item
        kept a test of the workers (the team's own); reported at the end."""
        kept = [item.spec for item in self.controller_items or ()]
        self.selection_problem = self._selects_nothing(kept, self.rule_items,
                                                       other_items=bool(node_ids))

    def _keep(self, kept: Sequence[ItemSpec], items: int) -> None:
        """The reports' results: those of the kept items of ``items`` in all."""
        assert self.scan is not None
        if len(kept) == items:
            self.selected = None  # nothing deselected: the reports cover every result
            return
        ids = {id(r) for spec in kept for r in spec.results}
        self.selected = [r for r in self.scan.results
                         if id(r) in ids or r.outcome is Outcome.INVALID_INPUT]

    def with_objects(self) -> ScanResult:
        """The scan, objects included, for the public fixtures."""
        scan = self.scan
        assert scan is not None
        if scan.objects == len(scan.resources):
            return scan
        if not self.shared:
            pytest.fail("the scan ran with --upgrade-jobs > 1, which keeps the objects in the "
                        "workers; use --upgrade-jobs 1 for tests that read them", pytrace=False)
        if self._with_objects is None:
            # An xdist worker got results only: tests that read the objects
            # make this worker read the manifests itself, once.
            self._with_objects = run_scan(replace(self.request, jobs=1, encode_results=None))
        return self._with_objects

    def report(self) -> Report:
        assert self.scan is not None
        results = self.selected if self.selected is not None else self.scan.results
        return Report.build(self.scan, results, self.fail_on, self.request.paths,
                            self.require_evaluated, self.selection())

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> bool | None:
        """Rule items run the lean way (see run_lean) where nothing could tell
        the difference: always in ``upgrade-lint scan``; under pytest when no
        plugin but pytest's own and this one looks at the phases, and no
        marker but this plugin's is on the item (a conftest may add ``skip``
        or ``usefixtures``). pytest's protocol cost 1 ms an item, 0.7 s for
        the 780 items of 10,000 documents."""
        if isinstance(item, RuleItem) and (self.only or (
                self._phases_unobserved() and item.has_own_markers_only())):
            run_lean(item, self.scan.catalog if self.scan else None)
            return True
        return None

    def _phases_unobserved(self) -> bool:
        if self._lean is None:
            pm = self.config.pluginmanager
            hooks = pm.hook
            self._lean = all(
                pm.get_name(impl.plugin) in PHASE_HOOKS_THAT_IGNORE_RULE_ITEMS
                for caller in (hooks.pytest_runtest_setup, hooks.pytest_runtest_call,
                               hooks.pytest_runtest_teardown, hooks.pytest_runtest_makereport)
                for impl in caller.get_hookimpls())
        return self._lean

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo[None]) -> Any:
        """Skips point at the finding (or the rule file), not at this plugin."""
        report = yield
        if isinstance(item, RuleItem) and report.skipped and isinstance(report.longrepr, tuple):
            path, line = item.skip_location(self.scan.catalog if self.scan else None)
            report.longrepr = (path, line, report.longrepr[2])
        return report

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        _forget_empty_phase_reports(self.config)
        if self.selection_problem is not None:
            print(f"ERROR: {self.selection_problem}", file=sys.stderr)
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        if self.scan is None or self.usage_error or hasattr(self.config, "workerinput"):
            return
        mark("items: done")
        report = self.report()
        outcome = _run_outcome(self.config)
        try:
            problems = write_reports(report, report_targets(self.config))
        except Exception:
            if outcome is not None:
                raise  # `upgrade-lint scan` reports it (exit 3)
            # Raised from here, it would escape pytest and exit 1 (findings).
            print("upgrade-lint: internal error while writing the reports (a bug, please "
                  "report it with the traceback below)", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
            return
        mark("reports: written")
        if outcome is not None:  # `upgrade-lint scan` prints them after its listing
            outcome.report = report
            outcome.report_problems = problems
        else:
            for problem in problems:
                print(problem, file=sys.stderr)
        if problems:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """The summary, where the reports are written: not on an xdist worker,
        whose terminal nobody reads (building it there cost 0.1 s a worker)."""
        if self.scan is None or self.usage_error or hasattr(self.config, "workerinput"):
            return
        terminalreporter.section("upgrade-lint")
        report = self.report()
        for line in [*skipped_lines(report), *summary_lines(report)]:
            terminalreporter.write_line(line)


# ---------------------------------------------------------------- public fixtures


class ResourceSet(Sequence[Resource]):
    """The scanned objects, with filters for writing your own checks."""

    def __init__(self, resources: Sequence[Resource]) -> None:
        self._resources = list(resources)

    def __getitem__(self, index: Any) -> Any:
        return self._resources[index]

    def __len__(self) -> int:
        return len(self._resources)

    def __iter__(self) -> Iterator[Resource]:
        return iter(self._resources)

    def of_kind(self, *kinds: str) -> ResourceSet:
        """Objects of these kinds, e.g. ``of_kind("Deployment", "StatefulSet")``."""
        return ResourceSet([r for r in self._resources if r.kind in kinds])

    def helm_values(self, chart: str) -> ResourceSet:
        """Helm values documents of a chart (``kong``, ``api7ee3``, ``api7-gateway``)."""
        return ResourceSet([r for r in self._resources if r.chart == chart])


def _session(config: pytest.Config) -> UpgradeLintSession:
    plugin = config.pluginmanager.get_plugin(SESSION_PLUGIN)
    if not isinstance(plugin, UpgradeLintSession) or plugin.scan_for_tests() is None:
        pytest.skip("no upgrade-lint scan in this session (pass --upgrade-lint PATH)")
    return plugin


@pytest.fixture(scope="session")
def upgrade_scan(pytestconfig: pytest.Config) -> ScanResult:
    """The whole scan: ``.resources``, ``.results`` and ``.context`` (upgrade path)."""
    return _session(pytestconfig).with_objects()


@pytest.fixture(scope="session")
def upgrade_resources(upgrade_scan: ScanResult) -> ResourceSet:
    """Every scanned object; filter with ``.of_kind("Deployment")`` or ``.helm_values("kong")``.

    Each Resource has ``api_version``, ``kind``, ``namespace``, ``name``, ``body``
    (values as Kubernetes decodes them) and ``origin`` (``path``, ``line``).
    """
    return ResourceSet(upgrade_scan.resources)


@pytest.fixture(scope="session")
def upgrade_path(upgrade_scan: ScanResult) -> ScanContext:
    """Current and target version per product: ``upgrade_path.path("kong").target``;
    per installation: ``upgrade_path.of("ns:kong").path("kong")``."""
    return upgrade_scan.context


def _forget_empty_phase_reports(config: pytest.Config) -> None:
    """pytest's terminal summary finds each failure's teardown report by going
    through every passing setup and teardown report of the session (the
    terminal reporter's uncategorised ``""`` reports): quadratic in the
    items, 0.2 s at 10,000 documents (489 failing rule items) and seconds at
    50,000. A rule item's passing setup and teardown report carries nothing
    to show (no captured output), so it leaves that list before the summary
    (this hook runs inside the terminal reporter's ``pytest_sessionfinish``
    wrapper, before its summary); no summary line counts that list."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    stats = getattr(reporter, "stats", None)
    if not isinstance(stats, dict) or not isinstance(stats.get(""), list):
        return
    prefix = f"{ScanCollector.NODE_ID}::"
    stats[""] = [report for report in stats[""]
                 if not (getattr(report, "nodeid", "").startswith(prefix)
                         and getattr(report, "when", None) in ("setup", "teardown")
                         and getattr(report, "passed", False)
                         and not getattr(report, "sections", None))]
