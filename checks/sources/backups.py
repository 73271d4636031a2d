"""Backup evidence given with ``--backup PRODUCT=PATH``: is it a real, fresh backup?

A file name is not a backup. Each format is checked the way a restore would
read it:

- PostgreSQL custom format (``pg_dump -F c``, starts ``PGDMP``) and directory
  format (``-F d``, has ``toc.dat``): ``pg_restore --list`` must read the
  whole table of contents;
- plain SQL (``pg_dump -F p``) and ``pg_dumpall``, optionally gzip'd: the
  gzip stream must decompress to the end, and the dump must carry both
  PostgreSQL's header and its "dump complete" footer (a truncated dump lacks
  the footer);
- decK / ``kong config db_export`` YAML or JSON: must parse and carry
  ``_format_version``.

The file's modification time is its age. Nothing here is fatal: every
problem becomes the reason in the evidence, which the backup rules report.
"""

from __future__ import annotations

import gzip
import re
import shutil
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from checks.sources.files import decode
from checks.sources.yaml11 import Document, iter_documents

PG_CUSTOM = "pg-custom"
PG_DIRECTORY = "pg-directory"
PG_PLAIN = "pg-plain"
PG_DUMPALL = "pg-dumpall"
DECK = "deck"
FORMATS = (PG_CUSTOM, PG_DIRECTORY, PG_PLAIN, PG_DUMPALL, DECK)

_HEADERS = {
    PG_DUMPALL: ("-- PostgreSQL database cluster dump", "-- PostgreSQL database cluster dump complete"),
    PG_PLAIN: ("-- PostgreSQL database dump", "-- PostgreSQL database dump complete"),
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 3600, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
#: Decompressed bytes read from a gzip'd dump before giving up on the footer.
MAX_DECOMPRESSED = 8 * 1024 * 1024 * 1024


def parse_duration(text: str) -> float:
    """``24h``, ``90m``, ``2d``, ``3600s`` (bare numbers are hours) -> seconds."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 24h, 90m or 2d")
    return float(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True)
class BackupEvidence:
    """What a ``--backup`` path turned out to be."""

    path: str
    format: str | None  # one of FORMATS, None when not recognised
    valid: bool
    reason: str  # why it is not valid, or what it is
    age_seconds: float | None = None
    checkable: bool = True  # False when a tool (pg_restore) is missing

    def describe_age(self) -> str:
        if self.age_seconds is None:
            return "unknown age"
        hours = self.age_seconds / 3600
        return f"{hours:.1f} h old" if hours < 48 else f"{hours / 24:.1f} days old"


def _pg_restore_list(path: Path) -> tuple[bool, str, bool]:
    import subprocess  # here: only backup evidence needs it, and it costs start-up time

    tool = shutil.which("pg_restore")
    if tool is None:
        return False, "pg_restore is not installed, so the archive cannot be verified", False
    try:
        proc = subprocess.run([tool, "--list", str(path)], capture_output=True, text=True,
                              timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"pg_restore --list failed to run: {exc}", False
    if proc.returncode != 0:
        detail = " ".join(proc.stderr.split()) or f"exit code {proc.returncode}"
        return False, f"pg_restore --list rejects it: {detail}", True
    entries = sum(1 for line in proc.stdout.splitlines() if line and not line.startswith(";"))
    return True, f"PostgreSQL archive with {entries} table-of-contents entries", True


def _sql_dump(head: bytes, tail: bytes) -> tuple[str | None, bool, str]:
    """Classify SQL text by its header; a complete dump ends with its footer."""
    text_head = head.decode("utf-8", "replace")
    if _HEADERS[PG_DUMPALL][0] in text_head:
        fmt, tool = PG_DUMPALL, "pg_dumpall"
    elif _HEADERS[PG_PLAIN][0] in text_head:
        fmt, tool = PG_PLAIN, "pg_dump"
    else:
        return None, False, "not a PostgreSQL dump (no pg_dump/pg_dumpall header)"
    if _HEADERS[fmt][1] in tail.decode("utf-8", "replace"):
        return fmt, True, f"{tool} SQL dump, complete"
    return fmt, False, "the dump is truncated: its 'dump complete' footer is missing"


def _gzip_dump(path: Path) -> tuple[str | None, bool, str]:
    head = b""
    tail = b""
    total = 0
    try:
        with gzip.open(path, "rb") as stream:
            while chunk := stream.read(1024 * 1024):
                if len(head) < 4096:
                    head += chunk[: 4096 - len(head)]
                tail = (tail + chunk)[-4096:]
                total += len(chunk)
                if total > MAX_DECOMPRESSED:
                    return None, False, "decompresses to more than 8 GiB; not verified"
    except (OSError, EOFError, zlib.error) as exc:
        return None, False, f"gzip data is corrupt or truncated: {exc}"
    if total == 0:
        return None, False, "the gzip stream is empty"
    return _sql_dump(head, tail)


def _declarative(path: Path, data: bytes) -> tuple[str | None, bool, str]:
    text = decode(data, str(path))
    if not isinstance(text, str):
        return None, False, text.reason
    docs = list(iter_documents(text, str(path)))
    first = docs[0] if docs else None
    if not isinstance(first, Document):
        reason = first.reason if first is not None else "no document"
        return None, False, f"does not parse: {reason}"
    body = first.value
    if not isinstance(body, dict) or "_format_version" not in body:
        return None, False, "not a decK / kong config db_export file (no _format_version)"
    entities = sum(len(v) for v in body.values() if isinstance(v, list))
    return DECK, True, f"declarative config _format_version {body['_format_version']}, {entities} entities"


def inspect(path_text: str, now: float | None = None) -> BackupEvidence:
    """Recognise and verify one backup path."""
    path = Path(path_text)
    now = time.time() if now is None else now
    try:
        stat = path.stat()
    except OSError:
        return BackupEvidence(path_text, None, False, "no such file or directory")
    age = max(0.0, now - stat.st_mtime)
    if path.is_dir():
        if not (path / "toc.dat").is_file():
            return BackupEvidence(path_text, None, False, "a directory without toc.dat is not a "
                                  "pg_dump directory-format backup", age)
        ok, reason, checkable = _pg_restore_list(path)
        return BackupEvidence(path_text, PG_DIRECTORY, ok, reason, age, checkable)
    if stat.st_size == 0:
        return BackupEvidence(path_text, None, False, "the file is empty", age)
    with path.open("rb") as handle:
        head = handle.read(4096)
        handle.seek(max(0, stat.st_size - 4096))
        tail = handle.read()
    if head.startswith(b"PGDMP"):
        ok, reason, checkable = _pg_restore_list(path)
        return BackupEvidence(path_text, PG_CUSTOM, ok, reason, age, checkable)
    if head.startswith(b"\x1f\x8b"):
        fmt, ok, reason = _gzip_dump(path)
        return BackupEvidence(path_text, fmt, ok, reason, age)
    if b"PostgreSQL database" in head:
        fmt, ok, reason = _sql_dump(head, tail)
        return BackupEvidence(path_text, fmt, ok, reason, age)
    if stat.st_size > 256 * 1024 * 1024:
        return BackupEvidence(path_text, None, False, "not a recognised backup format", age)
    fmt, ok, reason = _declarative(path, path.read_bytes())
    return BackupEvidence(path_text, fmt, ok, reason, age)
