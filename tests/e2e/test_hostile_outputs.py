"""Reports survive hostile text and failing disks (issue 9, reports).

Text from scanned files (names, values, file names) may hold lone surrogates,
control characters, newlines and ANSI sequences; every report is still written,
well-formed, and the terminal shows them escaped. A report that cannot be
written costs one line and leaves no truncated file behind.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import BinaryIO

import pytest

from checks.engine.echo import cut_value
from checks.model import Outcome, Severity
from checks.reports import json_report, output
from checks.reports.model import Report
from checks.reports.terminal import render
from tests.support import scan, write

COMMAND = [sys.executable, "-m", "checks.cli"]
KONG_DP = "image: {repository: kong, tag: '3.5'}\nenv: {role: data_plane, database: postgres}\n"
#: A file name that tries to end its line and forge a finding, then clear the screen.
FORGING = "x\nforged.yaml:1: kong-fake (blocker) owned\x1b[2J.yaml"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], cwd=cwd, capture_output=True, text=True,
                          errors="surrogateescape", timeout=120)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_hostile_file_names_reach_every_report_escaped(tmp_path: Path, jobs: str) -> None:
    """A file name that is not UTF-8 and one holding a newline and ESC: every
    report is written and parses, and the terminal shows both names escaped
    on the invalid-input line of their file."""
    scanned = tmp_path / "in"
    write(scanned / "kong-values.yaml", KONG_DP)
    scanned_bytes = os.fsencode(scanned)
    with open(scanned_bytes + b"/bad\xff.yaml", "wb") as broken:
        broken.write(b"a: [\n")
    with open(scanned_bytes + b"/kong\xfe.yaml", "wb") as values:  # a finding, not an error
        values.write(KONG_DP.encode())
    write(scanned / FORGING, "a: [\n")
    proc = _run("scan", "in", "--values", "kong=in/kong-values.yaml", "--jobs", jobs,
                "--json", "r.json", "--junit", "r.xml", "--html", "r.html", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    # (the line is the parser's business: where it found the list unclosed)
    assert [line.split(": invalid-input")[0].rsplit(":", 1)[0] for line in lines
            if ": invalid-input" in line] == [
        "in/bad\\xff.yaml", "in/x\\nforged.yaml:1: kong-fake (blocker) owned\\x1b[2J.yaml"]
    assert not any(line.startswith("forged.yaml") for line in lines)
    assert "\x1b" not in proc.stdout
    data = json.loads((tmp_path / "r.json").read_bytes())
    # (with --jobs 2 a worker encodes this one: the escaping holds there too)
    assert [r["path"] for r in data["results"]
            if r["rule_id"] == "kong-role-database-mismatch"] == [
        "in/kong-values.yaml", "in/kong\\xfe.yaml"]
    assert sorted(r["path"] for r in data["results"] if r["outcome"] == "invalid-input") == [
        "in/bad\\xff.yaml", f"in/{FORGING}"]  # JSON carries control characters exactly
    junit = ET.parse(tmp_path / "r.xml").getroot()
    messages = [f.get("message", "") for f in junit.iter("failure")]
    assert any(m.startswith("in/bad\\xff.yaml:") for m in messages)
    assert any(m.startswith("in/x\\nforged.yaml:1: kong-fake (blocker) owned\\x1b[2J.yaml:")
               for m in messages)
    page = (tmp_path / "r.html").read_bytes().decode("utf-8")
    assert "in/bad\\xff.yaml" in page and "owned\\x1b[2J.yaml" in page and "\x1b" not in page


def _hostile_report() -> Report:
    """A real scan whose finding quotes a lone surrogate and XML-forbidden characters."""
    result = scan(Path(__file__).parents[2] / "fixtures" / "demo")
    hostile = "lone \ud800 nul \x00 vt \x0b nonchar \ufffe esc \x1b[31m"
    results = [r._replace(message=r.message + " " + hostile, observed={"k\x01": "\udcff"})
               if r.outcome is Outcome.FAILED else r for r in result.results]
    assert any(r.outcome is Outcome.FAILED for r in results)
    return Report.build(result, results, Severity.ERROR, ["demo"])


def test_surrogates_and_control_characters_in_results_keep_every_report_well_formed(
        tmp_path: Path) -> None:
    report = _hostile_report()
    targets = [("json", str(tmp_path / "r.json")), ("junit", str(tmp_path / "r.xml")),
               ("html", str(tmp_path / "r.html"))]
    assert output.write_reports(report, targets) == []
    data = json.loads((tmp_path / "r.json").read_bytes().decode("utf-8"))
    failed = [r for r in data["results"] if r["outcome"] == "failed"]
    assert failed and all(r["message"].endswith(
        " lone \\ud800 nul \x00 vt \x0b nonchar \ufffe esc \x1b[31m") for r in failed)
    assert all(r["observed"] == {"k\x01": "\\xff"} for r in failed)
    junit = ET.parse(tmp_path / "r.xml").getroot()
    messages = [f.get("message", "") for f in junit.iter("failure")]
    assert messages and all(
        " lone \\ud800 nul \\x00 vt \\x0b nonchar \\ufffe esc \\x1b[31m" in m for m in messages)
    page = (tmp_path / "r.html").read_bytes().decode("utf-8")
    assert "lone \\ud800 nul \\x00 vt \\x0b nonchar \\ufffe esc \\x1b[31m" in page
    lines = render(report)
    finding_lines = [line for line in lines if "lone " in line]
    assert finding_lines and all(
        " lone \\ud800 nul \\x00 vt \\x0b nonchar \\ufffe esc \\x1b[31m" in line
        for line in finding_lines)
    assert all(line.encode("utf-8") for line in lines)  # printable: no surrogate left


def test_a_full_disk_leaves_no_truncated_report(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC in the middle of the JSON report: one line, the JUnit and HTML
    reports still written, no JSON file (nor temporary file) left, and a JSON
    report from an earlier run is kept as it was."""
    report = _hostile_report()
    write(tmp_path / "r.json", "{\"earlier\": true}\n")
    real = json_report.write_to

    def fills_the_disk(report: Report, out: BinaryIO) -> None:
        out.write(b'{"schema_version":')
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(json_report, "write_to", fills_the_disk)
    problems = output.write_reports(report, [
        ("json", str(tmp_path / "r.json")), ("junit", str(tmp_path / "r.xml")),
        ("html", str(tmp_path / "r.html"))])
    assert problems == [f"upgrade-lint: cannot write report {tmp_path / 'r.json'}: "
                        "No space left on device"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "r.json", "r.xml"]
    assert (tmp_path / "r.json").read_text() == "{\"earlier\": true}\n"
    monkeypatch.setattr(json_report, "write_to", real)
    assert output.write_reports(report, [("json", str(tmp_path / "r.json"))]) == []
    assert json.loads((tmp_path / "r.json").read_text())["verdict"] == "fail"


def test_a_report_is_written_with_the_usual_permissions(tmp_path: Path) -> None:
    report = _hostile_report()
    old = os.umask(0o022)
    try:
        assert output.write_reports(report, [("junit", str(tmp_path / "r.xml"))]) == []
    finally:
        os.umask(old)
    assert (tmp_path / "r.xml").stat().st_mode & 0o777 == 0o644


def test_echoed_values_are_cut_to_a_bounded_length(tmp_path: Path) -> None:
    """A 3,000-character image tag is quoted with its first 200 characters,
    an ellipsis and its length, in the message and in ``observed``."""
    tag = "v" + "9" * 2999
    write(tmp_path / "kong.yaml", f"image: {{repository: kong, tag: '{tag}'}}\n"
                                  "env: {role: data_plane, database: postgres}\n")
    result = scan(tmp_path / "kong.yaml", values={"kong": str(tmp_path / "kong.yaml")})
    quoted = [r for r in result.results if r.rule_id == "kong-dp-ahead-of-cp"]
    shown = f"'{tag[:200]}\u2026' (3000 characters)"
    assert [(r.outcome, r.message) for r in quoted] == [
        (Outcome.NOT_EVALUATED, f"data plane version {shown} cannot be read: "
                                f"{tag[:40] + '...'!r} has a number of 2999 digits; not a "
                                "version")]
    assert not any("9" * 201 in r.message or "9" * 201 in str(r.observed)
               for r in result.results)
    assert cut_value({"a": ["x" * 500]}) == {"a": ["x" * 200 + "\u2026 (500 characters)"]}
    assert cut_value(cut_value("y" * 999)) == "y" * 200 + "\u2026 (999 characters)"


def test_an_input_error_quoting_a_huge_key_is_cut(tmp_path: Path) -> None:
    key = "k" * 5000
    # (explicit keys: an implicit one is at most 1,024 characters)
    write(tmp_path / "dup.yaml", f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\n"
                                 f"data:\n  ? {key}\n  : a\n  ? {key}\n  : b\n")
    invalid = [r for r in scan(tmp_path / "dup.yaml").results
               if r.outcome is Outcome.INVALID_INPUT]
    assert [(r.line, r.message) for r in invalid] == [
        (7, f"duplicate key '{key[:200]}\u2026' (5000 characters) (first defined at line 5)")]


def test_an_interruption_removes_the_report_being_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the SIGINT/SIGTERM handler calls (``remove_partial``) removes the
    temporary file of the report being written, and nothing else."""
    report = _hostile_report()
    assert output.write_reports(report, [("junit", str(tmp_path / "done.xml"))]) == []
    seen: list[list[str]] = []

    def interrupted(report: Report, out: BinaryIO) -> None:
        out.write(b'{"schema_version":')
        out.flush()
        seen.append(sorted(p.name for p in tmp_path.iterdir()))
        output.remove_partial()
        raise KeyboardInterrupt

    monkeypatch.setattr(json_report, "write_to", interrupted)
    with pytest.raises(KeyboardInterrupt):
        output.write_reports(report, [("json", str(tmp_path / "r.json"))])
    assert len(seen) == 1 and len(seen[0]) == 2 and seen[0][0].startswith(".r.json.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["done.xml"]
