"""What every report renders: the selected results plus run metadata.

Built once from the scan (pytest selection applied) and handed to each
reporter, so JSON, JUnit, HTML and the terminal can never disagree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from checks import __version__
from checks.engine.catalog import Rule
from checks.engine.items import ItemSpec, group_items
from checks.engine.scan import ScanResult
from checks.model import Outcome, Result, Severity, gates

OUTCOME_ORDER = (Outcome.FAILED, Outcome.INVALID_INPUT, Outcome.WAIVED, Outcome.NOT_EVALUATED,
                 Outcome.NOT_APPLICABLE, Outcome.PASSED)


def selection_text(selection: Iterable[tuple[str, str]]) -> str:
    """``-k 'expr' -m 'expr'`` as the user typed it, or "" for no selection."""
    flags = {"keyword": "-k", "markers": "-m"}
    return " ".join(f"{flags.get(name, name)} {expr!r}" for name, expr in selection)


@dataclass(frozen=True)
class Report:
    scan: ScanResult
    results: tuple[Result, ...]
    fail_on: Severity
    paths: tuple[str, ...]
    tool_version: str = __version__
    #: The pytest selection the results went through: ``keyword`` (-k) and
    #: ``markers`` (-m) expressions, when given. Readers must know a report
    #: covers only part of the catalog.
    selection: tuple[tuple[str, str], ...] = ()

    @classmethod
    def build(cls, scan: ScanResult, results: Sequence[Result], fail_on: Severity,
              paths: Sequence[str], selection: Mapping[str, str] | None = None) -> Report:
        return cls(scan, tuple(results), fail_on, tuple(paths), __version__,
                   tuple((selection or {}).items()))

    @property
    def selection_text(self) -> str:
        return selection_text(self.selection)

    @cached_property
    def items(self) -> tuple[ItemSpec, ...]:
        """The pytest items' grouping (JUnit's test cases); computed when asked for."""
        return tuple(group_items(self.results))

    def gates(self, result: Result) -> bool:
        return gates(result.outcome, result.severity, self.fail_on)

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
