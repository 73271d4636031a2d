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
from checks.sources.backups import BackupEvidence

#: The check template of the backup rules, whose ``product`` param names the evidence.


@dataclass(frozen=True)
class BackupRow:
    """A ``--backup`` given for a product, and what the backup rules made of it.

    Every report shows these rows: a backup rule that passes must show the
    evidence it passed on (path, format, size, digest, age and its source,
    what was checked). Paths are shown, never file contents.
    """

    product: str
    evidence: BackupEvidence
    rules: tuple[tuple[str, Outcome], ...]  # (rule id, outcome) of the rules that judged it
    #: The installation it was given for (``--backup PRODUCT@INSTALLATION``), or None.
    installation: str | None = None

    @property
    def summary(self) -> str:
        e = self.evidence
        state = "valid" if e.valid else f"not usable: {e.reason}"
        parts = [e.format or "unrecognised format", state]
        if e.size_bytes is not None:
            parts.append(f"{e.size_bytes} bytes")
        if e.sha256:
            parts.append(f"sha256 {e.sha256}")
        if e.age_seconds is not None:
            parts.append(f"{e.describe_age()} (age from the {e.age_source})")
        if e.checked:
            parts.append(f"checked: {e.checked}")
        return "; ".join(parts)


OUTCOME_ORDER = (Outcome.FAILED, Outcome.INVALID_INPUT, Outcome.WAIVED, Outcome.NOT_EVALUATED,
                 Outcome.NOT_APPLICABLE, Outcome.PASSED)


@dataclass(frozen=True)
class Tally:
    """A report's results counted: by outcome and severity, how many gate, how
    many are existing findings, the unevaluated ones that would gate, and the
    products with a verdict (passed, failed or waived)."""

    by_outcome: dict[Outcome, Counter[Severity]]
    gating: int
    existing: int
    unevaluated_gating: tuple[Result, ...]
    judged_products: frozenset[str]

    @classmethod
    def of(cls, report: Report) -> Tally:
        by_outcome: dict[Outcome, Counter[Severity]] = {o: Counter() for o in OUTCOME_ORDER}
        gating = existing = 0
        unevaluated: list[Result] = []
        judged: set[str] = set()
        fail_on, require_evaluated = report.fail_on, report.require_evaluated
        for r in report.results:
            outcome, severity = r.outcome, r.severity
            by_outcome[outcome][severity] += 1
            if r.existing:
                existing += 1
            elif gates(outcome, severity, fail_on, require_evaluated):
                gating += 1
            if outcome is Outcome.NOT_EVALUATED and gates(Outcome.FAILED, severity, fail_on):
                unevaluated.append(r)
            if outcome in _JUDGED:
                judged.add(r.product)
        return cls(by_outcome, gating, existing, tuple(unevaluated), frozenset(judged))


#: Outcomes that are a verdict on a product's objects.
_JUDGED = frozenset({Outcome.PASSED, Outcome.FAILED, Outcome.WAIVED})


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
    #: A readiness gate: blocker and error rules that could not be evaluated fail.
    require_evaluated: bool = False
    #: The pytest selection the results went through: ``keyword`` (-k) and
    #: ``markers`` (-m) expressions, when given. Readers must know a report
    #: covers only part of the catalog.
    selection: tuple[tuple[str, str], ...] = ()

    @classmethod
    def build(cls, scan: ScanResult, results: Sequence[Result], fail_on: Severity,
              paths: Sequence[str], require_evaluated: bool = False,
              selection: Mapping[str, str] | None = None) -> Report:
        return cls(scan, tuple(results), fail_on, tuple(paths), __version__, require_evaluated,
                   tuple((selection or {}).items()))

    @property
    def selection_text(self) -> str:
        return selection_text(self.selection)

    @cached_property
    def items(self) -> tuple[ItemSpec, ...]:
        """The pytest items' grouping (JUnit's test cases); computed when asked for."""
        return tuple(group_items(self.results))

    def gates(self, result: Result) -> bool:
        return not result.existing and gates(result.outcome, result.severity, self.fail_on,
                                             self.require_evaluated)

    @cached_property
    def tally(self) -> Tally:
        """What the summaries count, in one pass over the results (tens of
        thousands in a large scan, and every report asks)."""
        return Tally.of(self)

    def unevaluated_gating(self) -> list[Result]:
        """Results of rules that would gate, had they been evaluated: a verdict
        with any of these is INCOMPLETE, never PASS."""
        return list(self.tally.unevaluated_gating)

    @property
    def verdict(self) -> str:
        """``fail``, ``incomplete`` (nothing gates, but gating rules could not be
        evaluated) or ``pass``."""
        if self.failed:
            return "fail"
        return "incomplete" if self.tally.unevaluated_gating else "pass"

    @property
    def failed(self) -> bool:
        return self.tally.gating > 0

    def count_by_outcome(self) -> dict[Outcome, Counter[Severity]]:
        return {outcome: Counter(counts) for outcome, counts in self.tally.by_outcome.items()}

    def rules(self) -> list[Rule]:
        selected = {r.rule_id for r in self.results}
        return [rule for rule in self.scan.catalog.rules if rule.id in selected]

    def backups(self) -> list[BackupRow]:
        """Each given backup with the outcomes of the selected backup rules about it
        (the rules that need evidence at upgrade time; for ``PRODUCT@INSTALLATION``
        their results in that installation)."""
        rows = []
        for key, evidence in sorted(self.scan.context.given_backups.items()):
            product, _, installation = key.partition("@")
            rule_ids = {rule.id for rule in self.scan.catalog.rules
                        if rule.applicability == "upgrade-evidence" and rule.product == product}
            judged: dict[str, Outcome] = {}
            for result in self.results:
                if result.rule_id in rule_ids and (not installation
                                                   or result.installation == installation):
                    worst = judged.get(result.rule_id)
                    if worst is None or OUTCOME_ORDER.index(result.outcome) < OUTCOME_ORDER.index(
                            worst):
                        judged[result.rule_id] = result.outcome
            rows.append(BackupRow(product, evidence, tuple(sorted(judged.items())),
                                  installation or None))
        return rows

    def live_lines(self) -> list[str]:
        """The live source in words (every report shows these): what was read,
        how many requests, notes, and each read that did not happen."""
        read = self.scan.live
        if read is None:
            return []
        server = f", server {read.server_version}" if read.server_version else ""
        lines = [f"live source: {read.source} ({len(read.resources)} object(s), "
                 f"{read.requests} request(s){server})"]
        lines += [f"    note: {note}" for note in read.notes]
        for item in read.unavailable:
            kind = f"{item.kind}.{item.group}" if item.group else item.kind
            where = f" in namespace {item.namespace}" if item.namespace else ""
            lines.append(f"    unavailable: {kind}{where}: {item.reason}")
        return lines

    def with_outcome(self, *outcomes: Outcome) -> list[Result]:
        return [r for r in self.results if r.outcome in outcomes]
