"""What every report renders: the selected results plus run metadata.

Built once from the scan (pytest selection applied) and handed to each
reporter, so JSON, JUnit, HTML and the terminal can never disagree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from checks import __version__
from checks.engine.catalog import Rule
from checks.engine.items import ItemSpec, group_items
from checks.engine.scan import ScanResult
from checks.model import Outcome, Result, Severity, gates

OUTCOME_ORDER = (Outcome.FAILED, Outcome.INVALID_INPUT, Outcome.WAIVED, Outcome.NOT_EVALUATED,
                 Outcome.NOT_APPLICABLE, Outcome.PASSED)


@dataclass(frozen=True)
class Report:
    scan: ScanResult
    results: tuple[Result, ...]
    fail_on: Severity
    paths: tuple[str, ...]
    tool_version: str = __version__
    #: A readiness gate: blocker and error rules that could not be evaluated fail.
    require_evaluated: bool = False

    @classmethod
    def build(cls, scan: ScanResult, results: Sequence[Result], fail_on: Severity,
              paths: Sequence[str], require_evaluated: bool = False) -> Report:
        return cls(scan, tuple(results), fail_on, tuple(paths), __version__, require_evaluated)

    @cached_property
    def items(self) -> tuple[ItemSpec, ...]:
        """The pytest items' grouping (JUnit's test cases); computed when asked for."""
        return tuple(group_items(self.results))

    def gates(self, result: Result) -> bool:
        return not result.existing and gates(result.outcome, result.severity, self.fail_on,
                                             self.require_evaluated)

    def unevaluated_gating(self) -> list[Result]:
        """Results of rules that would gate, had they been evaluated: a verdict
        with any of these is INCOMPLETE, never PASS."""
        return [r for r in self.results if r.outcome is Outcome.NOT_EVALUATED
                and gates(Outcome.FAILED, r.severity, self.fail_on)]

    @property
    def verdict(self) -> str:
        """``fail``, ``incomplete`` (nothing gates, but gating rules could not be
        evaluated) or ``pass``."""
        if self.failed:
            return "fail"
        return "incomplete" if self.unevaluated_gating() else "pass"

    @property
    def failed(self) -> bool:
        return any(self.gates(r) for r in self.results)

    def count_by_outcome(self) -> dict[Outcome, Counter[Severity]]:
        counts: dict[Outcome, Counter[Severity]] = {o: Counter() for o in OUTCOME_ORDER}
        for result in self.results:
            counts[result.outcome][result.severity] += 1
        return counts

    def rules(self) -> list[Rule]:
        selected = {r.rule_id for r in self.results}
        return [rule for rule in self.scan.catalog.rules if rule.id in selected]

    def with_outcome(self, *outcomes: Outcome) -> list[Result]:
        return [r for r in self.results if r.outcome in outcomes]
