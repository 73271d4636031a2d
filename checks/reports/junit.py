"""JUnit XML that the Jenkins xUnit schema (junit-10.xsd) accepts.

One testsuite per product (plus ``input`` for unreadable files, and for
skipped files as skipped test cases, with the excluded count as a property)
and one testcase per report item, the same grouping as the pytest items. Test cases
fail only when their findings gate the run; findings below ``--fail-on`` are
listed in ``system-out`` so they stay visible without failing the build.

junit-xml builds each suite; the ``<testsuites>`` root is written here
because junit-xml adds a ``disabled`` attribute that the strict schema used
by Jenkins xUnit rejects. Every text and attribute of the finished tree goes
through ``text.for_xml`` (``_xml_safe``): a control character in a name,
value or file name must not leave a document no XML parser reads.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import BinaryIO

from junit_xml import TestCase, TestSuite

from checks.engine.items import ItemSpec
from checks.model import Outcome, Skipped
from checks.reports.model import Report
from checks.reports.output import write_file
from checks.reports.terminal import finding_line
from checks.reports.text import for_xml

#: The suite of unreadable and skipped input (the product of invalid-input results).
INPUT_SUITE = "input"


def _case(item: ItemSpec, report: Report) -> TestCase:
    case = TestCase(item.name, classname=f"upgrade-lint.{item.product}.{item.rule_id}",
                    elapsed_sec=0.0)
    first = item.first
    if item.outcome is Outcome.PASSED:
        objects = "\n".join(f"{r.obj} @ {r.location}" for r in item.results)
        case.stdout = f"{len(item.results)} object(s) passed:\n{objects}"
    elif item.outcome in (Outcome.NOT_APPLICABLE, Outcome.NOT_EVALUATED) and report.gates(first):
        case.add_failure_info(message=f"{item.outcome.value} (--require-evaluated): "
                                      f"{finding_line(first, installation=True)}",
                              failure_type=first.severity.label)
    elif item.outcome in (Outcome.NOT_APPLICABLE, Outcome.NOT_EVALUATED):
        case.add_skipped_info(message=f"{item.outcome.value}: {first.message}")
    elif item.outcome is Outcome.WAIVED:
        case.stdout = f"waived: {finding_line(first, installation=True)}"
    elif report.gates(first):
        text = finding_line(first, installation=True)
        case.add_failure_info(message=text, output=f"{text}\nremediation: {first.remediation}",
                              failure_type=first.severity.label)
    elif first.existing:
        case.stdout = (f"existing (already in the --base revision or --baseline), not failing: "
                       f"{finding_line(first, installation=True)}\n"
                       f"remediation: {first.remediation}")
    else:
        case.stdout = (f"{first.severity.label} below --fail-on {report.fail_on.label}: "
                       f"{finding_line(first, installation=True)}\n"
                       f"remediation: {first.remediation}")
    return case


def _per_object(item: ItemSpec) -> list[ItemSpec]:
    """JUnit keeps one test case per not-evaluated (rule x object)."""
    if item.outcome is not Outcome.NOT_EVALUATED or len(item.results) == 1:
        return [item]
    return [ItemSpec(f"{item.rule_id}[{r.obj} @ {r.location}]", item.rule_id, item.product,
                     r.severity, item.outcome, (r,)) for r in item.results]


def _skipped_file(skipped: Skipped) -> TestCase:
    """A file that is not an object: a skipped test case in the ``input`` suite,
    so CI test tabs list it with its reason without failing."""
    case = TestCase(f"{skipped.path}:{skipped.line}", classname="upgrade-lint.input.skipped",
                    elapsed_sec=0.0)
    case.add_skipped_info(message=f"skipped: {skipped.reason}")
    return case


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
    by_product[INPUT_SUITE] += [_skipped_file(s) for s in report.scan.skipped]
    if not by_product[INPUT_SUITE] and not report.scan.excluded:
        del by_product[INPUT_SUITE]
    root = ET.Element("testsuites", name="upgrade-lint")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for product in sorted(by_product):
        properties = ({"excluded-files": str(report.scan.excluded)}
                      if product == INPUT_SUITE and report.scan.excluded else None)
        suite = TestSuite(product, by_product[product], package="upgrade-lint",
                          timestamp=report.scan.started_at.isoformat(timespec="seconds"),
                          properties={**(properties or {}), **(_properties(report) or {})}
                          or None)
        element = suite.build_xml_doc()
        element.attrib.pop("disabled", None)
        for key in totals:
            totals[key] += int(element.get(key, "0"))
        root.append(element)
    _backup_properties(report, root)
    _live_properties(report, root)
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", "0")
    _xml_safe(root)
    return root


def _xml_safe(root: ET.Element) -> None:
    for element in root.iter():
        if element.text:
            element.text = for_xml(element.text)
        if element.tail:
            element.tail = for_xml(element.tail)
        for name, value in element.attrib.items():
            element.set(name, for_xml(value))


def _backup_properties(report: Report, root: ET.Element) -> None:
    """The backup evidence as ``<properties>`` of its product's suite (CI servers
    show suite properties next to the results)."""
    suites = {suite.get("name"): suite for suite in root}
    for row in report.backups():
        suite = suites.get(row.product)
        if suite is None:
            continue
        properties = suite.find("properties")
        if properties is None:
            properties = ET.Element("properties")
            suite.insert(0, properties)
        evidence = row.evidence
        values = {
            "path": evidence.path, "format": evidence.format or "unrecognised",
            "valid": str(evidence.valid).lower(),
            "size_bytes": "" if evidence.size_bytes is None else str(evidence.size_bytes),
            "sha256": evidence.sha256 or "",
            "age": evidence.describe_age(), "age_source": evidence.age_source or "",
            "created_at": evidence.describe_created() or "",
            "checked": evidence.checked or evidence.reason,
        }
        prefix = f"backup@{row.installation}." if row.installation else "backup."
        for key, value in values.items():
            ET.SubElement(properties, "property", name=f"{prefix}{key}", value=value)


def _live_properties(report: Report, root: ET.Element) -> None:
    """The live source (what was read, requests, notes, reads that did not
    happen) as ``<properties>`` of every suite: CI servers show them with the
    results, and the reads that did not happen explain the skipped cases."""
    lines = report.live_lines()
    if not lines:
        return
    for suite in root:
        properties = suite.find("properties")
        if properties is None:
            properties = ET.Element("properties")
            suite.insert(0, properties)
        for number, line in enumerate(lines):
            ET.SubElement(properties, "property", name=f"live.{number}", value=line.strip())


def write(report: Report, path: Path) -> None:
    write_file(path, lambda out: write_to(report, out))


def write_to(report: Report, out: BinaryIO) -> None:
    tree = ET.ElementTree(build(report))
    ET.indent(tree)
    tree.write(out, encoding="utf-8", xml_declaration=True)
