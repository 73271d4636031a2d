"""Exit codes keep their meaning under crashes, signals and dying workers (issue 9).

- a crash (an internal exception) is exit 3 in ``upgrade-lint scan`` and in
  ``pytest --upgrade-lint``, never 1 (findings) or 2 (usage);
- SIGINT and SIGTERM stop the workers (none is left running), leave no report
  behind, print one line and exit 130 or 143;
- a worker that dies is noticed at once and its files are scanned in the
  parent: the results are those of ``--jobs 1``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from checks.engine import parallel
from checks.model import Severity
from checks.reports import json_report
from checks.reports.json_report import json_encoder
from checks.reports.model import Report
from tests.support import DEMO, REPO, scan, write

INTERNAL = ("upgrade-lint: internal error (a bug, please report it with the traceback below): "
            "RuntimeError: planted bug")
#: Runs a front end in a process whose JSON writer has a bug.
BUGGY_WRITER = """\
import sys
from checks.reports import json_report

def planted_bug(report, out):
    out.write(b'{"schema_version":')
    raise RuntimeError("planted bug")

json_report.write_to = planted_bug
"""


def test_a_crash_in_the_cli_is_exit_3_with_one_line_and_no_report(tmp_path: Path) -> None:
    code = BUGGY_WRITER + textwrap.dedent(f"""\
        sys.argv = ["upgrade-lint", "scan", {str(DEMO)!r}, "--json", "out/r.json"]
        from checks.cli import run
        run()
        """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 3
    assert proc.stderr.splitlines()[0] == INTERNAL
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == []


def test_a_crash_in_the_scan_is_one_line_first_then_the_traceback(tmp_path: Path) -> None:
    """Not pytest's INTERNALERROR wall with the cause at its bottom: the first
    line says what happened, and no report is written."""
    code = textwrap.dedent(f"""\
        import sys
        from checks.engine import evaluate

        def planted_bug(self, resources):
            raise RuntimeError("planted bug")

        evaluate.Evaluator.evaluate = planted_bug
        sys.argv = ["upgrade-lint", "scan", {str(DEMO)!r}, "--json", "out/r.json"]
        from checks.cli import run
        run()
        """)
    (tmp_path / "out").mkdir()
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert proc.stderr.splitlines()[0] == INTERNAL
    assert "INTERNALERROR" not in proc.stdout + proc.stderr
    assert list((tmp_path / "out").iterdir()) == []


def test_a_crash_under_pytest_is_exit_3(tmp_path: Path) -> None:
    code = BUGGY_WRITER + textwrap.dedent(f"""\
        import pytest
        sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "--assert=plain",
                              "--upgrade-lint", {str(DEMO)!r}, "--upgrade-json", "out/r.json"]))
        """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert proc.stderr.splitlines()[0] == ("upgrade-lint: internal error while writing the "
                                           "reports (a bug, please report it with the "
                                           "traceback below)")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == []


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with open(task / "children") as children:
            found += [int(child) for child in children.read().split()]
    return found


def _alive(pid: int) -> bool:
    """Running, or a zombie nobody reaped (both count as left behind)."""
    return Path(f"/proc/{pid}").exists()


@pytest.fixture(scope="module")
def large_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough documents that a --jobs 2 scan takes seconds."""
    root = tmp_path_factory.mktemp("large")
    for number in range(8):
        write(root / f"cm{number}.yaml", "".join(
            f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{number}-{i}}}\n"
            f"data: {{a: '1'}}\n" for i in range(2500)))
    return root


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_the_workers_and_leaves_no_report(tmp_path: Path, large_input: Path,
                                                         signum: int, code: int) -> None:
    if not Path(f"/proc/{os.getpid()}/task").is_dir():  # pragma: no cover - Linux CI has it
        pytest.skip("no /proc here")
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "checks.cli", "scan", str(large_input), "--jobs", "2",
         "--json", "out/r.json", "--junit", "out/r.xml", "--html", "out/r.html"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
        workers = _children(proc.pid)
        time.sleep(0.01)
    assert len(workers) == 2, "the workers never started"
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == code
    assert stderr == "upgrade-lint: interrupted\n"
    assert stdout == ""
    assert [pid for pid in workers if _alive(pid)] == []
    assert sorted(p.name for p in out.iterdir()) == []


def _dies(when: str) -> Callable[..., None]:
    """A worker that is SIGKILLed: at once, when the parent sends it the
    scan's context (between the two exchanges of the protocol), or after it
    sent its results, while it encodes its part of the JSON report."""
    real = parallel._worker

    class DiesOnContext:
        def __init__(self, conn: Any) -> None:
            self.conn = conn
            self.sent = 0

        def recv(self) -> Any:
            if when == "mid-protocol":
                os.kill(os.getpid(), signal.SIGKILL)
            return self.conn.recv()

        def send(self, message: Any) -> None:
            self.sent += 1
            if when == "while encoding" and self.sent == 3:  # share, results, encoded pieces
                os.kill(os.getpid(), signal.SIGKILL)
            self.conn.send(message)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.conn, name)

    def worker(conn: Any, files: list[Any], *args: Any) -> None:
        if any(f.display.endswith("die.yaml") for f in files):
            if when == "at once":
                os.kill(os.getpid(), signal.SIGKILL)
            conn = DiesOnContext(conn)
        real(conn, files, *args)

    return worker


@pytest.mark.parametrize("when", ["at once", "mid-protocol"])
def test_a_worker_that_dies_is_noticed_at_once_and_its_share_scanned_in_the_parent(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        when: str) -> None:
    scanned = tmp_path / "in"
    for source in sorted(DEMO.rglob("*.yaml")):
        write(scanned / source.relative_to(DEMO), source.read_bytes())
    # The last share (files split in path order): a file of its own, as large as the rest.
    write(scanned / "zz" / "die.yaml", "# padding\n" * (sum(
        p.stat().st_size for p in scanned.rglob("*.yaml")) // 10) + "a: 1\n")
    expected = scan(scanned, jobs=1).results
    monkeypatch.setattr(parallel, "_worker", _dies(when))
    started = time.monotonic()
    result = scan(scanned, jobs=2)
    assert time.monotonic() - started < 20  # not after a 30-second join timeout
    assert result.results == expected
    assert capsys.readouterr().err == (
        "upgrade-lint: a worker process ended without answering (killed, or out of memory); "
        "its files are scanned in the main process\n")
    assert not parallel._RUNNING


def test_a_worker_that_dies_while_encoding_leaves_the_json_report_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its results reached the parent: the report writer encodes them itself,
    and the JSON report is that of ``--jobs 1``."""
    scanned = tmp_path / "in"
    for source in sorted(DEMO.rglob("*.yaml")):
        write(scanned / source.relative_to(DEMO), source.read_bytes())
    write(scanned / "zz" / "die.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")

    def report(jobs: int) -> list[Any]:
        encode = json_encoder("r.json", "error")
        result = scan(scanned, jobs=jobs, encode_results=encode)
        out = tmp_path / f"r{jobs}.json"
        json_report.write(Report.build(result, result.results, Severity.ERROR, ["in"]), out)
        results: list[Any] = json.loads(out.read_text())["results"]
        return results

    expected = report(1)
    monkeypatch.setattr(parallel, "_worker", _dies("while encoding"))
    assert report(2) == expected
    assert not parallel._RUNNING
