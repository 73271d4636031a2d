"""Grouping results into report items (pytest items, JUnit test cases).

pytest costs ~0.4 ms per item, so items are proportional to rules and
findings, never to rules x objects: one item per failing or waived
(rule x object), one item per rule for all objects that passed it, one per
rule and reason for objects not evaluated (a missing --from leaves hundreds
of objects unevaluated for one reason), one per rule-level outcome and one
per invalid input. The JSON report and JUnit still carry every
(rule x object) result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from checks.model import Outcome, Result, Severity, gates

PER_OBJECT = frozenset({Outcome.FAILED, Outcome.WAIVED})


@dataclass(frozen=True)
class ItemSpec:
    name: str
    rule_id: str
    product: str
    severity: Severity
    outcome: Outcome
    results: tuple[Result, ...]

    @property
    def first(self) -> Result:
        return self.results[0]

    def gates(self, fail_on: Severity, require_evaluated: bool = False) -> bool:
        """Does this item fail the run at threshold ``fail_on``?"""
        return not self.first.existing and gates(self.outcome, self.severity, fail_on,
                                                 require_evaluated)


def _object_label(result: Result) -> str:
    return f"{result.obj} @ {result.location}"


def group_items(results: Iterable[Result]) -> list[ItemSpec]:
    items: list[ItemSpec] = []
    passed: dict[str, list[Result]] = defaultdict(list)
    unevaluated: dict[tuple[str, str], list[Result]] = defaultdict(list)
    rank: dict[str, int] = {}  # rule id -> order of first appearance
    for result in results:
        if result.rule_id not in rank:
            rank[result.rule_id] = len(rank)
        if result.outcome is Outcome.INVALID_INPUT:
            name = f"invalid-input[{result.location}]"
        elif result.outcome is Outcome.PASSED:
            passed[result.rule_id].append(result)
            continue
        elif result.outcome is Outcome.NOT_EVALUATED and result.obj is not None:
            unevaluated[(result.rule_id, result.message)].append(result)
            continue
        elif result.outcome in PER_OBJECT and result.obj is not None:
            name = f"{result.rule_id}[{_object_label(result)}]"
        else:
            where = f" @ {result.installation}" if result.installation else ""
            name = f"{result.rule_id}[{result.outcome.value}{where}]"
        items.append(ItemSpec(name, result.rule_id, result.product, result.severity,
                              result.outcome, (result,)))
    for (rule_id, _), group in unevaluated.items():
        first = group[0]
        name = (f"{rule_id}[{_object_label(first)}]" if len(group) == 1
                else f"{rule_id}[{len(group)} objects not evaluated: {first.message}]")
        items.append(ItemSpec(name, rule_id, first.product, first.severity,
                              Outcome.NOT_EVALUATED, tuple(group)))
    for rule_id, group in passed.items():
        count = len(group)
        noun = "object" if count == 1 else "objects"
        items.append(ItemSpec(f"{rule_id}[{count} {noun} passed]", rule_id, group[0].product,
                              group[0].severity, Outcome.PASSED, tuple(group)))
    items.sort(key=lambda item: ((item.outcome is Outcome.INVALID_INPUT and -1) or 0,
                                 rank.get(item.rule_id, 0)))
    return _unique(items)


def _unique(items: Sequence[ItemSpec]) -> list[ItemSpec]:
    seen: dict[str, int] = {}
    out = []
    for item in items:
        count = seen.get(item.name, 0) + 1
        seen[item.name] = count
        if count > 1:
            item = ItemSpec(f"{item.name[:-1]} #{count}]", item.rule_id, item.product,
                            item.severity, item.outcome, item.results)
        out.append(item)
    return out
