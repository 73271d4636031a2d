"""A self-contained HTML report: no external resources, every text escaped.

Report data is assembled first (``Report``) and rendered second with a
Jinja2 template whose autoescaping is always on, so manifest content such as
``<script>`` in an object name is shown, never run. The rendered page goes
through ``text.for_xml`` before it is encoded: control characters and lone
surrogates (in names, messages, file names) are shown escaped, and the page
stays encodable and well-formed. (Markup has neither, so only scanned text
is changed.)
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import BinaryIO

import jinja2

from checks.model import Outcome
from checks.reports.model import Report
from checks.reports.output import write_file
from checks.reports.text import for_terminal, for_xml


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("checks.reports", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    # Locations are file names from the scanned tree: a newline or control
    # character in one is shown escaped, as on the terminal, not rendered.
    environment.filters["visible"] = for_terminal
    return environment


def render(report: Report) -> str:
    template = _environment().get_template("report.html.j2")
    passed_by_rule: dict[str, int] = {}
    for result in report.with_outcome(Outcome.PASSED):
        passed_by_rule[result.rule_id] = passed_by_rule.get(result.rule_id, 0) + 1
    return template.render(
        report=report,
        scan=report.scan,
        counts={o.value: sum(c.values()) for o, c in report.count_by_outcome().items()},
        # Auditors read the worst first: gating findings by severity, then location.
        findings=sorted(report.with_outcome(Outcome.INVALID_INPUT, Outcome.FAILED),
                        key=lambda r: (not report.gates(r), -r.severity, r.path or "",
                                       r.line or 0)),
        not_evaluated=report.with_outcome(Outcome.NOT_EVALUATED),
        not_applicable=report.with_outcome(Outcome.NOT_APPLICABLE),
        waived=report.with_outcome(Outcome.WAIVED),
        passed_by_rule=passed_by_rule,
        backups=report.backups(),
        rules=report.rules(),
    )


def write(report: Report, path: Path) -> None:
    write_file(path, lambda out: write_to(report, out))


def write_to(report: Report, out: BinaryIO) -> None:
    out.write(for_xml(render(report)).encode("utf-8"))
