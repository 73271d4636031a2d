"""Terminal output: the finding contract, then one summary line per outcome.

Each finding is ``path:line: rule-id (severity) message`` so editors and CI
log parsers turn it into a link; the remediation follows, indented.
"""

from __future__ import annotations

from checks.model import Outcome, Result
from checks.reports.model import Report


def finding_line(result: Result) -> str:
    """``path:line: rule-id (severity) message``; rule-level results have no location."""
    where = f"{result.location}: " if result.path is not None else ""
    return f"{where}{result.rule_id} ({result.severity.label}) {result.message}"


def finding_block(result: Result) -> list[str]:
    lines = [finding_line(result)]
    if result.remediation:
        lines.append(f"    remediation: {result.remediation}")
    return lines


def render(report: Report) -> list[str]:
    lines: list[str] = []
    problems = report.with_outcome(Outcome.INVALID_INPUT, Outcome.FAILED)
    blocking = [r for r in problems if report.gates(r)]
    below = [r for r in problems if not report.gates(r)]
    for result in blocking:
        lines.extend(finding_block(result))
    if below:
        lines.append(f"below --fail-on {report.fail_on.label} (reported, not failing):")
        for result in below:
            lines.extend(finding_block(result))
    skipped = report.with_outcome(Outcome.NOT_EVALUATED)
    if skipped:
        lines.append("not evaluated:")
        lines.extend(finding_line(r) for r in skipped)
    lines.extend(summary_lines(report))
    return lines


def backup_lines(report: Report) -> list[str]:
    """The evidence behind every backup rule's outcome, one block per ``--backup``."""
    lines = []
    for row in report.backups():
        lines.append(f"backup {row.product}: {row.evidence.path}")
        lines.append(f"    {row.summary}")
        judged = ", ".join(f"{rule_id} {outcome.value}" for rule_id, outcome in row.rules)
        lines.append(f"    rules: {judged or 'none selected'}")
    return lines


def summary_lines(report: Report) -> list[str]:
    lines = backup_lines(report)
    for outcome, severities in report.count_by_outcome().items():
        total = sum(severities.values())
        if not total:
            continue
        detail = ""
        if outcome in (Outcome.FAILED, Outcome.NOT_EVALUATED, Outcome.WAIVED):
            parts = [f"{sev.label} {n}" for sev, n in sorted(severities.items(), reverse=True)]
            detail = f" ({', '.join(parts)})"
        lines.append(f"{outcome.value}: {total}{detail}")
    gating = sum(1 for r in report.results if report.gates(r))
    verdict = "FAIL" if gating else "PASS"
    lines.append(f"upgrade-lint {verdict}: {gating} finding(s) at or above "
                 f"{report.fail_on.label}; {report.scan.objects} object(s) in "
                 f"{report.scan.files} file(s), {len(report.rules())} rule(s)")
    return lines


