"""The pytest items that report the engine's results.

An item never evaluates anything: the engine did that at session start, and
the item's ``ItemSpec`` carries the verdict. So an item has no fixtures, no
setup and no teardown, which lets ``upgrade-lint scan`` run them with
``run_lean``: the reports pytest's own protocol would produce, without the
per-phase hook calls, fixture bookkeeping, timers and environment updates
(measured: half the per-item cost, 0.07 s of a 10,000-document scan).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Literal

import pytest
from _pytest.reports import TestReport

from checks.engine.catalog import Catalog
from checks.engine.items import ItemSpec
from checks.model import Outcome, Severity
from checks.reports.terminal import finding_block


class UpgradeLintFinding(UserWarning):
    """A finding below --fail-on: reported as a warning, does not fail the run."""


class FindingFailed(Exception):
    """Raised by an item whose findings gate the run."""


@functools.cache
def _marker(name: str) -> pytest.MarkDecorator:
    return getattr(pytest.mark, name)  # type: ignore[no-any-return]


#: Per session: a finding's path -> pytest's location path for it (``RuleItem.location``).
_RELATIVE_PATHS = pytest.StashKey[dict[str, str]]()


class RuleItem(pytest.Item):
    """One report item: a failing/not-evaluated (rule x object), or a rule rollup."""

    def __init__(self, *, spec: ItemSpec, fail_on: Severity, emit_warnings: bool = True,
                 require_evaluated: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.fail_on = fail_on
        self.require_evaluated = require_evaluated
        self.emit_warnings = emit_warnings  # upgrade-lint scan prints findings itself
        for marker in (spec.product, spec.severity.label, "upgrade_lint"):
            self.add_marker(_marker(marker))
        self._own_markers = len(self.own_markers)

    def has_own_markers_only(self) -> bool:
        """No marker was added after this plugin's (a conftest's ``skip``,
        ``xfail`` or ``usefixtures``, which pytest's protocol would honour)."""
        return len(self.own_markers) == self._own_markers

    def runtest(self) -> None:
        spec = self.spec
        if spec.gates(self.fail_on, self.require_evaluated):
            raise FindingFailed()
        if spec.outcome in (Outcome.FAILED, Outcome.INVALID_INPUT):
            if not self.emit_warnings:
                return
            # Below --fail-on a finding must stay a warning even where warnings
            # are errors (-W error, filterwarnings = error): pytest still records it.
            with warnings.catch_warnings():
                warnings.simplefilter("always", UpgradeLintFinding)
                warnings.warn(UpgradeLintFinding("\n".join(finding_block(spec.first))),
                              stacklevel=1)
        elif spec.outcome in (Outcome.NOT_APPLICABLE, Outcome.NOT_EVALUATED):
            count = f" ({len(spec.results)} objects)" if len(spec.results) > 1 else ""
            pytest.skip(f"{spec.outcome.value}{count}: {spec.first.message}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, FindingFailed):
            return self.failure_text()
        return str(super().repr_failure(excinfo, style=style))

    def failure_text(self) -> str:
        return "\n".join(finding_block(self.spec.first))

    @functools.cached_property
    def location(self) -> tuple[str, int | None, str]:
        """pytest's ``Item.location``, each path made relative once a session:
        pytest makes an absolute ``Path`` of it for every item, and the items
        of one file (its findings, its rules' rollups) share it."""
        path, line, name = self.reportinfo()
        relative = self.session.stash.setdefault(_RELATIVE_PATHS, {})
        found = relative.get(path)
        if found is None:
            found = relative[path] = super().location[0]
        return found, line, name

    def reportinfo(self) -> tuple[str, int | None, str]:
        first = self.spec.first
        line = first.line - 1 if first.line else None
        return first.path or "upgrade-lint", line, self.name

    def skip_location(self, catalog: Catalog | None) -> tuple[str, int]:
        """Where a skip points: the finding, or the rule file (not this plugin)."""
        first = self.spec.first
        if first.path is not None:
            return first.path, first.line or 0
        rule = catalog.get(first.rule_id) if catalog else None
        return (rule.source if rule else first.rule_id), 1


class ScanCollector(pytest.Collector):
    """Parent node of the rule items (their node ids start ``upgrade-lint::``)."""

    NODE_ID = "upgrade-lint"

    def collect(self) -> list[pytest.Item]:  # pragma: no cover - items are made directly
        return []


def run_lean(item: RuleItem, catalog: Catalog | None) -> None:
    """pytest's runtest protocol for one rule item, reduced to what it reports.

    For ``upgrade-lint scan``, whose pytest loads no plugin but this one, and
    under pytest where no other plugin looks at the phases (see
    ``UpgradeLintSession.pytest_runtest_protocol``): the same logstart,
    setup/call/teardown reports and logfinish as pytest's ``runtestprotocol``
    (a test compares them), with no fixture setup to run.
    """
    ihook, nodeid, location = item.ihook, item.nodeid, item.location
    keywords: dict[str, Literal[1]] = dict.fromkeys(item.keywords, 1)
    ihook.pytest_runtest_logstart(nodeid=nodeid, location=location)

    def log(outcome: Literal["passed", "failed", "skipped"], longrepr: Any,
            when: Literal["setup", "call", "teardown"]) -> None:
        ihook.pytest_runtest_logreport(report=TestReport(
            nodeid, location, keywords, outcome, longrepr, when,
            user_properties=item.user_properties))

    log("passed", None, "setup")
    try:
        item.runtest()
    except FindingFailed:
        log("failed", item.failure_text(), "call")
    except pytest.skip.Exception as exc:
        path, line = item.skip_location(catalog)
        log("skipped", (path, line, f"Skipped: {exc.msg}"), "call")
    else:
        log("passed", None, "call")
    log("passed", None, "teardown")
    ihook.pytest_runtest_logfinish(nodeid=nodeid, location=location)
