"""Every hostile input costs one result, nothing more (README, "Bad input never
crashes the run or hides other results"; issue 9).

Per case, in a subprocess with a time and an address-space limit: no
traceback; the documented exit code (never 3, never 2 for bad input); every
report written and well formed; the bad input listed with its path and a line
>= 1 in every report; the good manifest beside it still scanned, with its
finding at its exact line; wall time and peak memory bounded.
"""

from __future__ import annotations

import html
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.corpus import CASES, GOOD_FINDING, GOOD_TEXT, Built, Case
from tests.hostile.harness import Run, run_scan
from tests.hostile.known_broken import KNOWN_BROKEN

#: Resident memory any scan may use (interpreter, libraries, the catalog),
#: and how much more per byte of hostile input: "a small multiple".
BASE_RSS_BYTES = 150 * 1024**2
RSS_PER_INPUT_BYTE = 8


def _params() -> list[Any]:
    params = []
    for case in CASES:
        marks: list[Any] = [pytest.mark.slow] if case.slow else []
        if case.id in KNOWN_BROKEN:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BROKEN[case.id]))
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


def _skip_reason(case: Case) -> str | None:
    if case.id == "unreadable-file" and os.geteuid() == 0:
        return "running as root: root reads a chmod 000 file, so nothing is unreadable"
    return None


def _run_case(case: Case, root: Path) -> tuple[Built, Run]:
    built = case.build(root)
    (root / "good.yaml").write_text(GOOD_TEXT, encoding="utf-8")
    paths = built.paths if case.alone else [*built.paths, "good.yaml"]
    run = run_scan([*paths, *built.extra_args], cwd=root, reports=root / "reports",
                   timeout=case.seconds * (1 if case.id in KNOWN_BROKEN else 2), stdin=built.stdin)
    return built, run


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> dict[str, tuple[Built, Run]]:
    """Every selected case, run two at a time (the suite runs on two cores
    without xdist); under xdist each test runs its own case instead."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return {}
    selected = [item.callspec.params["case"] for item in request.session.items
                if getattr(item, "originalname", "") == "test_hostile_input_costs_one_result"
                and hasattr(item, "callspec")]
    # Longest first, so the two lanes finish together.
    todo = sorted((case for case in selected if _skip_reason(case) is None),
                  key=lambda case: -case.seconds)

    def one(case: Case) -> tuple[str, tuple[Built, Run]]:
        return case.id, _run_case(case, tmp_path_factory.mktemp(case.id[:40]))

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(one, todo))


def _show(entries: list[dict[str, Any]]) -> str:
    return "; ".join(f"{e.get('path')}:{e.get('line')} {e.get('outcome')} "
                     f"{e.get('message') or e.get('reason')}" for e in entries)[:1500]


def _json_entries(report: dict[str, Any]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = list(report["results"])
    entries += [{**s, "outcome": "skipped"} for s in report.get("skipped", [])]
    return entries


def _at(entry: dict[str, Any], built: Built) -> bool:
    path = entry.get("path")
    return isinstance(path, str) and (
        path == built.subject or (built.subject_is_prefix and path.startswith(built.subject)))


def _lines_in_text(text: str, subject: str) -> bool:
    """``subject:LINE`` with LINE >= 1 somewhere in a report's text."""
    start = text.find(subject)
    while start >= 0:
        rest = text[start + len(subject):]
        head = rest.split(":", 1)
        if len(head) == 2 and head[0].find("\n") < 0:
            digits = head[1][:12]
            number = digits[:len(digits) - len(digits.lstrip("0123456789"))]
            if number and int(number) >= 1:
                return True
        start = text.find(subject, start + 1)
    return False


def _check_subject(run: Run, case: Case, built: Built, report: dict[str, Any],
                   junit: str, page: str) -> None:
    subject = built.subject
    entries = [e for e in _json_entries(report) if _at(e, built)]
    invalid = [e for e in entries if e["outcome"] == "invalid-input"]
    listed = [e for e in entries if e["outcome"] in ("invalid-input", "skipped")]
    junit_text, page_text = html.unescape(junit), html.unescape(page)
    if case.expect == "invalid":
        assert invalid, f"no invalid-input result for {subject} in the JSON report"
        assert all(isinstance(e["line"], int) and e["line"] >= 1 for e in invalid), _show(invalid)
    elif case.expect == "listed":
        assert listed, f"{subject} neither invalid-input nor skipped in the JSON report"
        assert all(isinstance(e["line"], int) and e["line"] >= 1 for e in listed), _show(listed)
    elif case.expect == "loads":
        assert not invalid, _show(invalid)
        assert any(isinstance(e["line"], int) and e["line"] >= 1 for e in entries), \
            f"{subject} not evaluated"
    elif case.expect == "mention":
        assert entries, f"{subject} appears nowhere in the JSON report"
        assert all(isinstance(e["line"], int) and e["line"] >= 1 for e in entries
                   if e["outcome"] in ("invalid-input", "skipped")), _show(entries)
    if case.expect in ("invalid", "listed", "mention", "loads"):
        assert _lines_in_text(junit_text, subject), f"{subject}:LINE missing from the JUnit report"
    if case.expect in ("invalid", "listed"):
        assert _lines_in_text(page_text, subject), f"{subject}:LINE missing from the HTML report"
        output = run.stdout + run.stderr
        assert subject in output or "\\" in output, f"{subject} missing from the terminal output"


@pytest.mark.parametrize("case", _params())
def test_hostile_input_costs_one_result(case: Case, runs: dict[str, tuple[Built, Run]],
                                        tmp_path: Path) -> None:
    reason = _skip_reason(case)
    if reason is not None:
        pytest.skip(reason)
    built, run = runs[case.id] if case.id in runs else _run_case(case, tmp_path)
    output = run.stdout + run.stderr
    assert not run.timed_out, f"killed after {run.seconds:.0f} s"
    assert "Traceback" not in output, output[-3000:]
    assert run.returncode in case.exit_codes, f"exit {run.returncode}:\n{output[-3000:]}"
    report, junit, page = run.json_report(), run.junit_text(), run.html_text()
    if not case.alone:
        rule, line = GOOD_FINDING
        assert any(r["rule_id"] == rule and r["outcome"] == "failed" and r["path"] == "good.yaml"
                   and r["line"] == line for r in report["results"]), "good manifest's finding lost"
        where = f"good.yaml:{line}"
        assert where in junit and where in page and f"{where}: {rule}" in output
    for rule, line in built.findings:
        assert any(r["rule_id"] == rule and r["outcome"] == "failed" and r["path"] == built.subject
                   and r["line"] == line for r in report["results"]), \
            f"{rule} at {built.subject}:{line} lost"
    _check_subject(run, case, built, report, junit, page)
    # CPU time: on a busy machine the wall clock measures the other jobs too.
    # An input that makes the scan wait rather than work is caught by the
    # timeout above (twice the budget).
    assert run.cpu_seconds <= case.seconds, \
        f"took {run.cpu_seconds:.1f} s of CPU (budget {case.seconds} s)"
    budget = BASE_RSS_BYTES + RSS_PER_INPUT_BYTE * built.size
    assert run.peak_rss_bytes <= budget, \
        f"peak RSS {run.peak_rss_bytes / 2**20:.0f} MiB over {budget / 2**20:.0f} MiB"
