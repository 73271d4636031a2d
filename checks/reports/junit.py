"""JUnit XML that the Jenkins xUnit schema (junit-10.xsd) accepts.

One testsuite per product (plus ``input`` for unreadable files) and one
testcase per report item, the same grouping as the pytest items. Test cases
fail only when their findings gate the run; findings below ``--fail-on`` are
listed in ``system-out`` so they stay visible without failing the build.

junit-xml builds each suite; the ``<testsuites>`` root is written here
because junit-xml adds a ``disabled`` attribute that the strict schema used
by Jenkins xUnit rejects.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import BinaryIO

from junit_xml import TestCase, TestSuite

from checks.engine.items import ItemSpec
from checks.model import Outcome
from checks.reports.model import Report
from checks.reports.terminal import finding_line


def _case(item: ItemSpec, report: Report) -> TestCase:
    case = TestCase(item.name, classname=f"upgrade-lint.{item.product}.{item.rule_id}",
                    elapsed_sec=0.0)
    first = item.first
    if item.outcome is Outcome.PASSED:
        objects = "\n".join(f"{r.obj} @ {r.location}" for r in item.results)
        case.stdout = f"{len(item.results)} object(s) passed:\n{objects}"
    elif item.outcome in (Outcome.NOT_APPLICABLE, Outcome.NOT_EVALUATED):
        case.add_skipped_info(message=f"{item.outcome.value}: {first.message}")
    elif item.outcome is Outcome.WAIVED:
        case.stdout = f"waived: {finding_line(first)}"
    elif report.gates(first):
        text = finding_line(first)
        case.add_failure_info(message=text, output=f"{text}\nremediation: {first.remediation}",
                              failure_type=first.severity.label)
    else:
        case.stdout = (f"{first.severity.label} below --fail-on {report.fail_on.label}: "
                       f"{finding_line(first)}\nremediation: {first.remediation}")
    return case


def _per_object(item: ItemSpec) -> list[ItemSpec]:
    """JUnit keeps one test case per not-evaluated (rule x object)."""
    if item.outcome is not Outcome.NOT_EVALUATED or len(item.results) == 1:
        return [item]
    return [ItemSpec(f"{item.rule_id}[{r.obj} @ {r.location}]", item.rule_id, item.product,
                     r.severity, item.outcome, (r,)) for r in item.results]


def _properties(report: Report) -> dict[str, str] | None:
    """The -k/-m selection, so a reader knows the suites cover part of the catalog."""
    if not report.selection:
        return None
    return {f"upgrade-lint.selection.{name}": expr for name, expr in report.selection}


def build(report: Report) -> ET.Element:
    by_product: dict[str, list[TestCase]] = defaultdict(list)
    for item in report.items:
        for case in _per_object(item):
            by_product[item.product].append(_case(case, report))
    root = ET.Element("testsuites", name="upgrade-lint")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for product in sorted(by_product):
        suite = TestSuite(product, by_product[product], package="upgrade-lint",
                          timestamp=report.scan.started_at.isoformat(timespec="seconds"),
                          properties=_properties(report))
        element = suite.build_xml_doc()
        element.attrib.pop("disabled", None)
        for key in totals:
            totals[key] += int(element.get(key, "0"))
        root.append(element)
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", "0")
    return root


def write(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        write_to(report, out)


def write_to(report: Report, out: BinaryIO) -> None:
    tree = ET.ElementTree(build(report))
    ET.indent(tree)
    tree.write(out, encoding="utf-8", xml_declaration=True)
