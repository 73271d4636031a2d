"""Golden and schema tests of the JSON, JUnit and HTML reports.

The demo scan is rendered with relative paths and compared to the committed
golden files (regenerate with ``UPDATE_GOLDEN=1`` and review the diff).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema

from checks.engine.scan import ScanRequest, run_scan
from checks.model import Outcome, Severity
from checks.reports import html, json_report, junit
from checks.reports.model import Report
from tests.support import DATA, DEMO, REPO, catalog, write

GOLDEN = DATA / "golden"
SCHEMA = json.loads((REPO / "checks" / "reports" / "report.schema.json").read_text())


@pytest.fixture
def demo_report(monkeypatch: pytest.MonkeyPatch) -> Report:
    monkeypatch.chdir(REPO)
    scan = run_scan(ScanRequest(paths=["fixtures/demo"], targets={"3scale": "2.5.0"}),
                    catalog=catalog())
    return Report.build(scan, scan.results, Severity.ERROR, ["fixtures/demo"])


def _normalised_json(report: Report) -> dict[str, Any]:
    data = json_report.build(report)
    data["generated_at"] = "<generated_at>"
    data["duration_seconds"] = 0
    data["tool"]["version"] = "<version>"
    data["catalog"]["digest"] = "<digest>"
    return data


def _normalised_xml(report: Report, tmp_path: Path) -> str:
    junit.write(report, tmp_path / "r.xml")
    return re.sub(r'timestamp="[^"]*"', 'timestamp="<ts>"', (tmp_path / "r.xml").read_text())


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        write(path, text)
    assert text == path.read_text(), f"{name} differs; UPDATE_GOLDEN=1 to regenerate and review"


def test_json_report_golden_and_schema(demo_report: Report) -> None:
    data = _normalised_json(demo_report)
    _check_golden("demo.json", json.dumps(data, indent=2) + "\n")
    jsonschema.Draft202012Validator(SCHEMA).validate(json_report.build(demo_report))


def test_json_report_keeps_every_object_outcome(demo_report: Report) -> None:
    data = json_report.build(demo_report)
    assert data["verdict"] == "fail" and data["summary"]["failed"] == 13
    assert len(data["results"]) == len(demo_report.scan.results)
    assert data["targets"]["apiconnect"] == {
        "from": "10.0.5.3-1234", "from_source": "fixtures/demo/apiconnect/management.yaml:16",
        "to": "10.0.8.0",
                                            "to_source": "fixtures/demo/apiconnect/gateway.yaml:7"}


def test_junit_golden_and_jenkins_xunit_schema(demo_report: Report, tmp_path: Path) -> None:
    text = _normalised_xml(demo_report, tmp_path)
    _check_golden("demo.junit.xml", text)
    xmlschema.XMLSchema(str(DATA / "junit-10.xsd")).validate(str(tmp_path / "r.xml"))


def test_junit_suites_per_product_and_counts(demo_report: Report) -> None:
    root = junit.build(demo_report)
    suites = {s.get("name"): (s.get("tests"), s.get("failures"), s.get("skipped")) for s in root}
    assert suites == {"3scale": ("10", "3", "5"), "api7": ("10", "1", "3"),
                      "apiconnect": ("20", "4", "5"), "kong": ("14", "2", "4"),
                      "kubernetes": ("3", "1", "0")}


def test_below_threshold_findings_do_not_fail_junit(demo_report: Report) -> None:
    lenient = Report.build(demo_report.scan, demo_report.results, Severity.BLOCKER, ["x"])
    kong = next(s for s in junit.build(lenient) if s.get("name") == "kong")
    assert kong.get("failures") == "1"
    assert "error below --fail-on blocker" in "".join(kong.itertext())


def test_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    evil = write(tmp_path / "evil.yaml", (DEMO / "apiconnect" / "gateway.yaml").read_text()
                 .replace("name: gw1", "name: '<script>alert(1)</script>'"))
    scan = run_scan(ScanRequest(paths=[str(evil)]), catalog=catalog())
    page = html.render(Report.build(scan, scan.results, Severity.ERROR, [str(evil)]))
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "<link" not in page and "@import" not in page


def test_invalid_input_appears_in_every_report(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yaml", b"kind: \xff\n")
    scan = run_scan(ScanRequest(paths=[str(bad)]), catalog=catalog())
    report = Report.build(scan, scan.results, Severity.ERROR, [str(bad)])
    [entry] = [r for r in json_report.build(report)["results"] if r["outcome"] == "invalid-input"]
    assert (entry["line"], entry["message"]) == (1, "not valid UTF-8: byte 0xff at column 7")
    assert "invalid-input" in html.render(report)
    assert any(s.get("name") == "input" and s.get("failures") == "1" for s in junit.build(report))
    assert report.failed and [r.outcome for r in report.results][:1] == [Outcome.INVALID_INPUT]


def test_streamed_json_file_is_the_compact_dump_of_the_report(demo_report: Report,
                                                             tmp_path: Path) -> None:
    json_report.write(demo_report, tmp_path / "r.json")
    written = (tmp_path / "r.json").read_text()
    assert written == json.dumps(json_report.build(demo_report), separators=(",", ":"),
                                 ensure_ascii=False) + "\n"


@pytest.mark.parametrize("batch", [1, 2, 1000])
def test_json_report_is_the_same_whatever_the_write_batch(
        demo_report: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int) -> None:
    """Results are written in batches; batch edges (batch 1: the results end on
    one) must not change a byte."""
    json_report.write(demo_report, tmp_path / "default.json")
    monkeypatch.setattr(json_report, "_BATCH", batch)
    json_report.write(demo_report, tmp_path / "batched.json")
    assert (tmp_path / "batched.json").read_bytes() == (tmp_path / "default.json").read_bytes()
    json.loads((tmp_path / "batched.json").read_text())
