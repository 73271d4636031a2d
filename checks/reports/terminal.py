"""Terminal output: the finding contract, then one summary line per outcome.

Each finding is ``path:line: rule-id (severity) message`` so editors and CI
log parsers turn it into a link; the remediation follows, indented. Every
line that shows scanned text goes through ``text.for_terminal``: a name,
path or message cannot break a line in two (forging a finding) or send a
control sequence to the terminal.
"""

from __future__ import annotations

from checks.model import Outcome, Result
from checks.reports.model import Report
from checks.reports.text import for_terminal
from checks.sources.files import STDIN_PATH


def finding_line(result: Result, installation: bool = False) -> str:
    """``path:line: rule-id (severity) message``; rule-level results have no location.

    ``installation`` appends ``[installation]`` (a scan of several installations
    must say which one a finding is about); the contract prefix stays the same."""
    where = f"{result.location}: " if result.path is not None else ""
    line = f"{where}{result.rule_id} ({result.severity.label}) {result.message}"
    if installation and result.installation:
        line = f"{line} [{result.installation}]"
    return for_terminal(line)


def finding_block(result: Result, installation: bool = False) -> list[str]:
    lines = [finding_line(result, installation)]
    if result.remediation:
        lines.append(for_terminal(f"    remediation: {result.remediation}"))
    return lines


def render(report: Report) -> list[str]:
    lines: list[str] = []
    several = len(report.scan.context.installations) > 1
    problems = report.with_outcome(Outcome.INVALID_INPUT, Outcome.FAILED)
    blocking = [r for r in problems if report.gates(r)]
    existing = [r for r in problems if r.existing]
    below = [r for r in problems if not report.gates(r) and not r.existing]
    for result in blocking:
        lines.extend(finding_block(result, several))
    if below:
        lines.append(f"below --fail-on {report.fail_on.label} (reported, not failing):")
        for result in below:
            lines.extend(finding_block(result, several))
    if existing:
        lines.append("existing (already in the --base revision or --baseline; not failing):")
        for result in existing:
            lines.extend(finding_block(result, several))
    not_evaluated = report.with_outcome(Outcome.NOT_EVALUATED)
    if not_evaluated:
        lines.append("not evaluated:")
        lines.extend(finding_line(r, several) for r in not_evaluated)
    lines.extend(skipped_lines(report))
    lines.extend(summary_lines(report))
    return lines


def skipped_lines(report: Report) -> list[str]:
    """The files and documents that are not objects, each with its reason: a file
    named on purpose that turns out not to be a manifest is visible here."""
    if not report.scan.skipped:
        return []
    return ["skipped (not checked, not failing):",
            *(for_terminal(f"{s.path}:{s.line}: {s.reason}") for s in report.scan.skipped)]


def backup_lines(report: Report) -> list[str]:
    """The evidence behind every backup rule's outcome, one block per ``--backup``."""
    lines = []
    for row in report.backups():
        of = f"@{row.installation}" if row.installation else ""
        lines.append(for_terminal(f"backup {row.product}{of}: {row.evidence.path}"))
        lines.append(for_terminal(f"    {row.summary}"))
        judged = ", ".join(f"{rule_id} {outcome.value}" for rule_id, outcome in row.rules)
        lines.append(f"    rules: {judged or 'none selected'}")
    return lines


def summary_lines(report: Report) -> list[str]:
    lines = backup_lines(report) + [for_terminal(line) for line in report.live_lines()]
    tally = report.tally
    lines.extend(f"{product} target assumed: {version}, the newest {product} release the rules "
                 f"know (give --target {product}=X)"
                 for product, version in sorted(report.scan.context.assumed_targets.items())
                 if product in tally.judged_products)
    for outcome, severities in tally.by_outcome.items():
        total = sum(severities.values())
        if not total:
            continue
        detail = ""
        if outcome in (Outcome.FAILED, Outcome.NOT_EVALUATED, Outcome.WAIVED):
            parts = [f"{sev.label} {n}" for sev, n in sorted(severities.items(), reverse=True)]
            detail = f" ({', '.join(parts)})"
        lines.append(f"{outcome.value}: {total}{detail}")
        if outcome is Outcome.FAILED and tally.existing:
            lines.append(f"existing: {tally.existing} (not failing)")
    gating = tally.gating
    unevaluated = len({r.rule_id for r in tally.unevaluated_gating})
    lines.append(f"gating rules not evaluated: {unevaluated}"
                 + (" (--require-evaluated fails on them)" if report.require_evaluated
                    and unevaluated else ""))
    # A file the user named on purpose and that is not checked must not go
    # unnoticed in a long listing: it is repeated next to the verdict.
    named = {STDIN_PATH if path == "-" else path for path in report.paths}
    lines.extend(for_terminal(f"named but not checked: {s.path}: {s.reason}")
                 for s in report.scan.skipped if s.path in named)
    left_out = "".join(f", {n} {what}" for n, what in ((len(report.scan.skipped), "skipped"),
                                                        (report.scan.excluded, "excluded")) if n)
    lines.append(f"upgrade-lint {report.verdict.upper()}: {gating} finding(s) at or above "
                 f"{report.fail_on.label}; {report.scan.objects} object(s) in "
                 f"{report.scan.files} file(s){left_out}, {len(report.rules())} rule(s)")
    return lines


