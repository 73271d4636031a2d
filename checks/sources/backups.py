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

The age comes from the backup's own timestamp where the format has one: a
pg_dump archive's header (custom format, or ``toc.dat`` of the directory
format), the ``-- Started on`` line ``pg_dump -v`` / ``pg_dumpall -v`` write
into SQL dumps. Otherwise it is the file's modification time, which a copy
or a checkout refreshes; the evidence says which (``age_source``). Size and
SHA-256 identify the exact file that was judged, so a report shows what made
a backup rule pass.

Nothing here is fatal: every problem becomes the reason in the evidence,
which the backup rules report.
"""

from __future__ import annotations

import calendar
import gzip
import hashlib
import re
import shutil
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from checks.sources.files import decode, unreadable_reason
from checks.sources.pg_archive import HeaderError, read_header
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
_STARTED_ON = re.compile(
    r"^-- Started on (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?: (\S+))?\s*$", re.MULTILINE)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 3600, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
#: Decompressed bytes read from a gzip'd dump before giving up on the footer.
MAX_DECOMPRESSED = 8 * 1024 * 1024 * 1024
#: Where the age came from.
FROM_ARCHIVE_HEADER = "archive header"
FROM_DUMP_COMMENT = "dump's 'Started on' comment"
FROM_MTIME = "file modification time"
#: A backup's own timestamp this far in the future is not believed.
_CLOCK_SKEW = 86400.0


def parse_duration(text: str) -> float:
    """``24h``, ``90m``, ``2d``, ``3600s`` (bare numbers are hours) -> seconds."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 24h, 90m or 2d")
    return float(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True)
class BackupEvidence:
    """What a ``--backup`` path turned out to be, and how that was found out.

    ``checked`` says what was verified (shown in every report for a backup
    that passes); ``reason`` why it is not valid, or what it is.
    """

    path: str
    format: str | None  # one of FORMATS, None when not recognised
    valid: bool
    reason: str  # why it is not valid, or what it is
    age_seconds: float | None = None
    checkable: bool = True  # False when a tool (pg_restore) is missing
    size_bytes: int | None = None
    sha256: str | None = None
    created_at: float | None = None  # epoch seconds the age is measured from
    age_source: str | None = None  # FROM_ARCHIVE_HEADER, FROM_DUMP_COMMENT, FROM_MTIME
    checked: str = ""

    def describe_age(self) -> str:
        if self.age_seconds is None:
            return "unknown age"
        hours = self.age_seconds / 3600
        return f"{hours:.1f} h old" if hours < 48 else f"{hours / 24:.1f} days old"

    def describe_created(self) -> str | None:
        """``2026-11-30 07:50:00 UTC`` (from the archive header), or None."""
        if self.created_at is None:
            return None
        stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.created_at))
        return f"{stamp} (from the {self.age_source})"


@dataclass(frozen=True)
class _Verdict:
    """One format reader's answer, before size, digest and age are added."""

    format: str | None
    valid: bool
    reason: str
    checked: str = ""
    checkable: bool = True
    created_at: float | None = None
    age_source: str | None = None


def _pg_restore_list(path: Path, fmt: str, header_bytes: bytes) -> _Verdict:
    import subprocess  # here: only backup evidence needs it, and it costs start-up time

    created, about = _archive_created(header_bytes)
    tool = shutil.which("pg_restore")
    if tool is None:
        return _Verdict(fmt, False, "pg_restore is not installed, so the archive cannot be "
                        "verified", checkable=False, created_at=created,
                        age_source=FROM_ARCHIVE_HEADER if created is not None else None)
    try:
        proc = subprocess.run([tool, "--list", str(path)], capture_output=True, text=True,
                              timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return _Verdict(fmt, False, f"pg_restore --list failed to run: {exc}", checkable=False)
    if proc.returncode != 0:
        detail = " ".join(proc.stderr.split()) or f"exit code {proc.returncode}"
        return _Verdict(fmt, False, f"pg_restore --list rejects it: {detail}")
    entries = sum(1 for line in proc.stdout.splitlines() if line and not line.startswith(";"))
    if entries == 0:
        return _Verdict(fmt, False, "the archive's table of contents is empty: nothing to "
                        "restore", checked="pg_restore --list read 0 table-of-contents entries")
    return _Verdict(fmt, True, f"PostgreSQL archive with {entries} table-of-contents entries",
                    checked=f"pg_restore --list read {entries} table-of-contents entries; "
                            f"{about}", created_at=created,
                    age_source=FROM_ARCHIVE_HEADER if created is not None else None)


def _archive_created(header_bytes: bytes) -> tuple[float | None, str]:
    """(creation time, what the header says) of a pg_dump archive header."""
    try:
        header = read_header(header_bytes)
    except HeaderError as exc:
        return None, f"header not read ({exc})"
    parts = [f"archive format {header.version_text}"]
    if header.database:
        parts.append(f"database {header.database!r}")
    if header.dumped_by:
        parts.append(f"pg_dump {header.dumped_by}")
    if header.created_at is None:
        parts.append("no usable creation time in the header")
    return header.created_at, ", ".join(parts)


def _started_on(head: str) -> float | None:
    """The ``-- Started on`` time ``pg_dump -v`` and ``pg_dumpall -v`` write."""
    match = _STARTED_ON.search(head)
    if match is None:
        return None
    try:
        fields = time.strptime(match.group(1), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    zone = (match.group(2) or "").upper()
    if zone in ("UTC", "GMT", "Z", "+00", "+0000"):
        return float(calendar.timegm(fields))
    return time.mktime(fields)  # the dumping machine's zone name: read as local, like pg_restore


def _sql_dump(head: bytes, tail: bytes, how: str) -> _Verdict:
    """Classify SQL text by its header; a complete dump ends with its footer."""
    text_head = head.decode("utf-8", "replace")
    if _HEADERS[PG_DUMPALL][0] in text_head:
        fmt, tool = PG_DUMPALL, "pg_dumpall"
    elif _HEADERS[PG_PLAIN][0] in text_head:
        fmt, tool = PG_PLAIN, "pg_dump"
    else:
        return _Verdict(None, False, "not a PostgreSQL dump (no pg_dump/pg_dumpall header)")
    if _HEADERS[fmt][1] not in tail.decode("utf-8", "replace"):
        return _Verdict(fmt, False, "the dump is truncated: its 'dump complete' footer is missing")
    started = _started_on(text_head)
    return _Verdict(fmt, True, f"{tool} SQL dump, complete",
                    checked=f"{how}; {tool} header and 'dump complete' footer present",
                    created_at=started, age_source=FROM_DUMP_COMMENT if started else None)


def _gzip_dump(path: Path) -> _Verdict:
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
                    return _Verdict(None, False, "decompresses to more than 8 GiB; not verified")
    except (OSError, EOFError, zlib.error) as exc:
        return _Verdict(None, False, f"gzip data is corrupt or truncated: {exc}")
    if total == 0:
        return _Verdict(None, False, "the gzip stream is empty")
    return _sql_dump(head, tail, f"gzip stream decompressed to the end ({total} bytes)")


def _declarative(path: Path, data: bytes) -> _Verdict:
    text = decode(data, str(path))
    if not isinstance(text, str):
        return _Verdict(None, False, text.reason)
    docs = list(iter_documents(text, str(path)))
    first = docs[0] if docs else None
    if not isinstance(first, Document):
        reason = first.reason if first is not None else "no document"
        return _Verdict(None, False, f"does not parse: {reason}")
    body = first.value
    if not isinstance(body, dict) or "_format_version" not in body:
        return _Verdict(None, False, "not a decK / kong config db_export file "
                        "(no _format_version)")
    counts = {str(k): len(v) for k, v in body.items() if isinstance(v, list) and v}
    entities = sum(counts.values())
    version = body["_format_version"]
    if entities == 0:
        return _Verdict(DECK, False, f"declarative config _format_version {version} holds no "
                        "entities: an empty dump is not a backup (wrong workspace or Kong?)",
                        checked="parsed; no entity lists")
    listed = ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))
    return _Verdict(DECK, True, f"declarative config _format_version {version}, "
                    f"{entities} entities",
                    checked=f"parsed; _format_version {version}; {entities} top-level entities "
                            f"({listed})")


def _files_of(path: Path) -> Iterator[Path]:
    if path.is_dir():
        yield from sorted(p for p in path.rglob("*") if p.is_file())
    else:
        yield path


def _size_and_digest(path: Path) -> tuple[int | None, str | None]:
    """Total size and SHA-256 (of a directory: of its files' names and contents, in order)."""
    digest = hashlib.sha256()
    size = 0
    try:
        for file in _files_of(path):
            if path.is_dir():
                digest.update(file.relative_to(path).as_posix().encode() + b"\0")
            with file.open("rb") as handle:
                while block := handle.read(1024 * 1024):
                    digest.update(block)
                    size += len(block)
    except OSError:
        return None, None
    return size, digest.hexdigest()


def _verdict(path: Path, size: int) -> _Verdict:
    if path.is_dir():
        toc = path / "toc.dat"
        if not toc.is_file():
            return _Verdict(None, False, "a directory without toc.dat is not a pg_dump "
                            "directory-format backup")
        with toc.open("rb") as handle:
            return _pg_restore_list(path, PG_DIRECTORY, handle.read(4096))
    if size == 0:
        return _Verdict(None, False, "the file is empty")
    with path.open("rb") as handle:
        head = handle.read(4096)
        handle.seek(max(0, size - 4096))
        tail = handle.read()
    if head.startswith(b"PGDMP"):
        return _pg_restore_list(path, PG_CUSTOM, head)
    if head.startswith(b"\x1f\x8b"):
        return _gzip_dump(path)
    if b"PostgreSQL database" in head:
        return _sql_dump(head, tail, "read as plain SQL")
    if size > 256 * 1024 * 1024:
        return _Verdict(None, False, "not a recognised backup format")
    return _declarative(path, path.read_bytes())


def inspect(path_text: str, now: float | None = None) -> BackupEvidence:
    """Recognise and verify one backup path."""
    path = Path(path_text)
    now = time.time() if now is None else now
    unreadable = unreadable_reason(path_text)  # a FIFO blocks, /dev/zero never ends
    if unreadable is not None:
        return BackupEvidence(path_text, None, False, unreadable)
    try:
        stat = path.stat()
    except OSError as exc:  # removed since
        return BackupEvidence(path_text, None, False, f"cannot be read: {exc.strerror or exc}")
    try:
        verdict = _verdict(path, stat.st_size)
    except OSError as exc:
        verdict = _Verdict(None, False, f"cannot be read: {exc.strerror or exc}")
    created, source = verdict.created_at, verdict.age_source
    if created is not None and created > now + _CLOCK_SKEW:
        created = None  # a timestamp from the future: the dumping clock was wrong
    if created is None:
        mtime = (path / "toc.dat").stat().st_mtime if (
            path.is_dir() and (path / "toc.dat").is_file()) else stat.st_mtime
        created, source = mtime, FROM_MTIME
    size, digest = _size_and_digest(path)
    return BackupEvidence(path_text, verdict.format, verdict.valid, verdict.reason,
                          max(0.0, now - created), verdict.checkable, size, digest,
                          created, source, verdict.checked)
