"""Where reports go: a file, or standard output for ``-``.

Both front ends write the reports asked for through ``write_reports``: a
report that cannot be written (its directory cannot be created, the path is a
directory, the location is read-only) costs one line naming it, after every
other report has been written, and the run ends as a usage error. A missing
parent directory is created, as pytest does for ``--junitxml``.

A report is written to a temporary file beside its target and renamed onto
it when complete: a full disk, a failed write or an interruption never
leaves a truncated report behind (nor overwrites the previous one with half
of the new). Temporary files still open are removed by ``remove_partial``
when the run is interrupted.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO, Protocol

from checks.reports.model import Report

STDOUT = "-"
#: Report formats: command-line option (without dashes) -> writer module.
FORMATS = {"json": "json_report", "junit": "junit", "html": "html"}


class _Writer(Protocol):
    def write_to(self, report: Report, out: BinaryIO) -> None: ...


def _writer(fmt: str) -> _Writer:
    # Imported when asked for: every pytest session loads the plugin.
    module: _Writer = importlib.import_module(f"checks.reports.{FORMATS[fmt]}")
    return module


def to_stdout(targets: Sequence[tuple[str, str | None]]) -> bool:
    """Does one of the reports go to standard output (then nothing else may)?"""
    return any(target == STDOUT for _, target in targets)


def stdout_conflict(targets: Sequence[tuple[str, str | None]]) -> str | None:
    """The usage problem when more than one report asks for standard output."""
    formats = [fmt for fmt, target in targets if target == STDOUT]
    if len(formats) > 1:
        return (f"only one report can go to standard output (-), not {' and '.join(formats)}")
    return None


def write_reports(report: Report, targets: Sequence[tuple[str, str | None]]) -> list[str]:
    """Write each (format, target) asked for; one line per report that failed."""
    problems: list[str] = []
    try:
        for fmt, target in targets:
            _write_one(report, fmt, target, problems)
    finally:
        if report.scan.pre_encoded is not None:
            report.scan.pre_encoded.close()  # the --jobs workers, whether JSON was written or not
    return problems


def _write_one(report: Report, fmt: str, target: str | None, problems: list[str]) -> None:
    if not target:
        return
    writer = _writer(fmt)
    if target == STDOUT:
        try:
            sys.stdout.flush()
            writer.write_to(report, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        except BrokenPipeError:  # `--json - | head`: the reader has what it wanted
            silence_stdout()
        return
    path = Path(target)
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:  # the OS's words ("File exists") would not say which
            problems.append(f"upgrade-lint: cannot write report {target}: "
                            f"{path.parent} is not a directory")
            return
        if path.is_dir():  # the rename would not say it so plainly
            problems.append(f"upgrade-lint: cannot write report {target}: "
                            f"{os.strerror(21)}")
            return
        _write_atomically(path, lambda out: writer.write_to(report, out))
    except OSError as exc:
        problems.append(f"upgrade-lint: cannot write report {target}: {exc.strerror or exc}")


#: Temporary report files being written (removed if the run is interrupted).
_PARTIAL: set[str] = set()


def write_file(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """A report file, its directory created, written atomically (module docstring)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, write)


def _write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """``write`` into a temporary file in ``path``'s directory, then rename it
    onto ``path`` (atomic on one file system); on any failure the temporary
    file is removed and the previous ``path``, if any, is left as it was."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial",
                                     dir=path.parent)
    _PARTIAL.add(temporary)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600 is for secrets, not reports
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    finally:
        _PARTIAL.discard(temporary)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def remove_partial() -> None:
    """Remove the reports being written (an interrupted run leaves none)."""
    for temporary in list(_PARTIAL):
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        _PARTIAL.discard(temporary)


def silence_stdout() -> None:
    """After the reader of standard output went away: later writes and the
    flush at exit go nowhere instead of failing again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
