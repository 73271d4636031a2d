"""A backup rule that passes shows the evidence it passed on, in every report.

The evidence is the committed gzip'd pg_dumpall of the zync database (no
timestamp inside, so its age comes from the file and the reports say so).
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import xmlschema

from checks.engine.scan import ScanRequest, run_scan
from checks.model import Outcome, Severity
from checks.reports import html, json_report, junit, terminal
from checks.reports.model import Report
from tests.support import DATA, FIXTURES, REPO, catalog

ZYNC = FIXTURES / "3scale" / "3scale-zync-backup-missing"
BACKUP = ZYNC / "backups" / "zync.sql.gz"
SCHEMA = json.loads((REPO / "checks" / "reports" / "report.schema.json").read_text())


@pytest.fixture(scope="module")
def report() -> Report:
    scan = run_scan(ScanRequest(paths=[str(ZYNC / "dont-fire.yaml")],
                                backups={"3scale": str(BACKUP)}, currents={"3scale": "2.4.0"},
                                targets={"3scale": "2.5.0"}, max_backup_age_seconds=1e12),
                    catalog=catalog())
    [result] = [r for r in scan.results if r.rule_id == "3scale-zync-backup-missing"]
    assert result.outcome is Outcome.PASSED
    return Report.build(scan, scan.results, Severity.ERROR, [str(ZYNC)])


DIGEST = hashlib.sha256(BACKUP.read_bytes()).hexdigest()
SIZE = str(BACKUP.stat().st_size)
CHECKED = ("gzip stream decompressed to the end (6868 bytes); pg_dumpall header and "
           "'dump complete' footer present")


def test_terminal_lists_the_evidence(report: Report) -> None:
    lines = terminal.summary_lines(report)
    assert lines[0] == f"backup 3scale: {BACKUP}"
    assert lines[1].startswith(f"    pg-dumpall; valid; {SIZE} bytes; sha256 {DIGEST}; ")
    assert "(age from the file modification time); checked: " + CHECKED in lines[1]
    assert lines[2] == "    rules: 3scale-zync-backup-missing passed"


def test_json_lists_the_evidence(report: Report) -> None:
    data = json_report.build(report)
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    [backup] = data["backups"]
    assert {k: backup[k] for k in ("product", "path", "format", "valid", "size_bytes", "sha256",
                                   "age_source", "checked", "rules")} == {
        "product": "3scale", "path": str(BACKUP), "format": "pg-dumpall", "valid": True,
        "size_bytes": int(SIZE), "sha256": DIGEST, "age_source": "file modification time",
        "checked": CHECKED,
        "rules": [{"rule_id": "3scale-zync-backup-missing", "outcome": "passed"}]}
    assert backup["created_at"].endswith("+00:00") and backup["age_seconds"] >= 0


def test_junit_suite_properties_carry_the_evidence(report: Report, tmp_path: Path) -> None:
    junit.write(report, tmp_path / "r.xml")
    xmlschema.XMLSchema(str(DATA / "junit-10.xsd")).validate(str(tmp_path / "r.xml"))
    suite = next(s for s in ET.parse(tmp_path / "r.xml").getroot() if s.get("name") == "3scale")
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert {k: properties[k] for k in ("backup.path", "backup.format", "backup.valid",
                                       "backup.size_bytes", "backup.sha256",
                                       "backup.age_source", "backup.checked")} == {
        "backup.path": str(BACKUP), "backup.format": "pg-dumpall", "backup.valid": "true",
        "backup.size_bytes": SIZE, "backup.sha256": DIGEST,
        "backup.age_source": "file modification time", "backup.checked": CHECKED}


def test_html_has_a_backups_section(report: Report) -> None:
    page = html.render(report)
    section = page[page.index("<h2>Backups (1)</h2>"):page.index("<h2>Summary</h2>")]
    for text in (str(BACKUP), "pg-dumpall, valid", f"{SIZE} bytes", DIGEST,
                 "(age from the file modification time)",
                 CHECKED.replace("'", "&#39;"), "3scale-zync-backup-missing</code> passed"):
        assert text in section, text
