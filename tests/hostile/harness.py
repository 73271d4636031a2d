"""Run one hostile case as a user would: ``upgrade-lint scan`` in a subprocess,
under a wall-clock limit and an address-space limit, and read what it left.

Why a subprocess: the promises under test are about the process (exit code,
no traceback, reports written, memory and time bounded). ``os.wait4`` gives
the resource usage of exactly that child (and what it reaped), so peak memory
is measured per case, not as the maximum over the whole pytest session; the
scan runs below ``limited.py`` so that the pytest process's own size does not
count (see there).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = Path(sys.executable).parent / "upgrade-lint"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "checks.cli"]

#: Address space one scan may map. The interpreter, PyYAML, rapidyaml and the
#: report templates need a few hundred MiB of it; a loader that amplifies its
#: input (alias bombs, Template parameter expansion) hits the wall instead of
#: the machine's swap.
ADDRESS_SPACE_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class Run:
    """What one scan left behind."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    #: CPU time (user and system): what the input cost, whatever else ran.
    cpu_seconds: float
    peak_rss_bytes: int
    timed_out: bool
    reports: Path

    @property
    def json_path(self) -> Path:
        return self.reports / "report.json"

    @property
    def junit_path(self) -> Path:
        return self.reports / "junit.xml"

    @property
    def html_path(self) -> Path:
        return self.reports / "report.html"

    def json_report(self) -> dict[str, Any]:
        loaded = json.loads(self.json_path.read_text(encoding="utf-8"))
        assert isinstance(loaded, dict)
        return loaded

    def junit_text(self) -> str:
        text = self.junit_path.read_text(encoding="utf-8")
        ET.fromstring(text.encode("utf-8"))  # well-formed XML or the test fails here
        return text

    def html_text(self) -> str:
        text = self.html_path.read_text(encoding="utf-8")
        assert text.rstrip().endswith("</html>"), "HTML report is truncated"
        return text


LIMITED = Path(__file__).with_name("limited.py")


def run_scan(args: list[str], cwd: Path, reports: Path, timeout: float,
             stdin: bytes | None = None) -> Run:
    """``upgrade-lint scan ARGS --json --junit --html`` with limits; kills the
    whole process group (workers included) if it overruns ``timeout``."""
    reports.mkdir(parents=True, exist_ok=True)
    full = [*COMMAND, "scan", *args, "--json", str(reports / "report.json"),
            "--junit", str(reports / "junit.xml"), "--html", str(reports / "report.html")]
    out_path, err_path, in_path = reports / "stdout", reports / "stderr", reports / "stdin"
    rss_path = reports / "peak-rss"
    launcher = [sys.executable, "-I", str(LIMITED), str(ADDRESS_SPACE_BYTES), str(rss_path), "--"]
    in_path.write_bytes(stdin or b"")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    with out_path.open("wb") as out, err_path.open("wb") as err, in_path.open("rb") as inp:
        proc = subprocess.Popen([*launcher, *full], cwd=cwd,
                                stdin=inp if stdin is not None else subprocess.DEVNULL,
                                stdout=out, stderr=err, env=env, start_new_session=True)
        timed_out = False
        while True:
            pid, status = os.waitpid(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if time.monotonic() - started > timeout:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status = os.waitpid(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
    seconds = time.monotonic() - started
    # Killed at the timeout, the launcher wrote nothing: the wall time stands in.
    peak_text, cpu_text = rss_path.read_text().split() if rss_path.exists() else ("0", seconds)
    peak, cpu = int(peak_text), float(cpu_text)
    return Run(
        args=full, returncode=proc.returncode,
        stdout=out_path.read_bytes().decode("utf-8", "replace"),
        stderr=err_path.read_bytes().decode("utf-8", "replace"),
        seconds=seconds, cpu_seconds=cpu, peak_rss_bytes=peak, timed_out=timed_out,
        reports=reports,
    )
