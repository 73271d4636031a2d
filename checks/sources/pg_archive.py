"""The header of a pg_dump archive: when it was made, of which database.

A custom-format archive (``pg_dump -F c``) and the ``toc.dat`` of a
directory-format one (``-F d``) start with the same header, written by
pg_dump's ``WriteHead`` and read back by ``ReadHead``
(src/bin/pg_dump/pg_backup_archiver.c):

- ``PGDMP``, then the format version as bytes: major, minor, revision;
- one byte each: integer size, offset size (from 1.7), archive format;
- compression: one byte, the algorithm, from 1.15; an integer (the zlib
  level) from 1.4 to 1.14;
- the creation time as seven integers, the fields of C's ``struct tm`` as
  pg_dump's ``localtime()`` filled them: seconds, minutes, hours, day of the
  month, month (0-11), years since 1900, the DST flag (from 1.4);
- the database name, then (from 1.10) the server's and pg_dump's versions.

An integer is one sign byte then ``integer size`` bytes, least significant
first; a string is its length as an integer (-1: none) then its bytes.

The creation time is the dumping machine's local time. pg_restore turns it
into a timestamp with the reading machine's ``mktime``, and so does this
module: the age is what ``pg_restore --list`` shows as "Archive created at".
"""

from __future__ import annotations

import time
from dataclasses import dataclass

MAGIC = b"PGDMP"
#: Archive versions whose header layout this module knows (PostgreSQL 7.x to 17).
NEWEST_KNOWN = (1, 16)
_MAX_HEADER = 4096


class HeaderError(ValueError):
    """The bytes are not a pg_dump archive header this module can read."""


@dataclass(frozen=True)
class ArchiveHeader:
    version: tuple[int, int, int]
    created_at: float | None  # epoch seconds; None before format 1.4 or when invalid
    database: str | None
    dumped_by: str | None  # pg_dump's version, from format 1.10

    @property
    def version_text(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.int_size = 4

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise HeaderError("the archive header is cut short")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def integer(self) -> int:
        negative = self.byte() != 0
        value = 0
        for shift in range(self.int_size):
            value |= self.byte() << (8 * shift)
        return -value if negative else value

    def string(self) -> str | None:
        length = self.integer()
        if length < 0:
            return None
        if length > _MAX_HEADER or self.pos + length > len(self.data):
            raise HeaderError("the archive header holds an impossible string length")
        text = self.data[self.pos:self.pos + length].decode("utf-8", "replace")
        self.pos += length
        return text


def read_header(data: bytes) -> ArchiveHeader:
    """Parse the header at the start of ``data`` (the first few KiB suffice)."""
    if not data.startswith(MAGIC):
        raise HeaderError("no PGDMP magic: not a pg_dump archive")
    reader = _Reader(data)
    reader.pos = len(MAGIC)
    major, minor = reader.byte(), reader.byte()
    revision = reader.byte() if (major, minor) > (1, 0) else 0
    version = (major, minor, revision)
    if major != 1 or (major, minor) > NEWEST_KNOWN:
        raise HeaderError(f"archive format {major}.{minor} is newer than the formats this tool "
                          f"reads (up to {NEWEST_KNOWN[0]}.{NEWEST_KNOWN[1]})")
    reader.int_size = reader.byte()
    if not 1 <= reader.int_size <= 32:
        raise HeaderError(f"implausible integer size {reader.int_size} in the archive header")
    if version >= (1, 7, 0):
        reader.byte()  # offset size
    reader.byte()  # archive format (custom, directory, tar)
    if version >= (1, 15, 0):
        reader.byte()  # compression algorithm
    elif version >= (1, 4, 0):
        reader.integer()  # compression level
    elif version >= (1, 2, 0):
        reader.byte()
    if version < (1, 4, 0):
        return ArchiveHeader(version, None, None, None)
    sec, minute, hour, mday, mon, year, isdst = (reader.integer() for _ in range(7))
    database = reader.string()
    dumped_by = None
    if version >= (1, 10, 0):
        reader.string()  # the server's version
        dumped_by = reader.string()
    return ArchiveHeader(version, _mktime(year, mon, mday, hour, minute, sec, isdst),
                         database, dumped_by)


def _mktime(year: int, mon: int, mday: int, hour: int, minute: int, sec: int,
            isdst: int) -> float | None:
    """``mktime`` of the header's ``struct tm`` fields, None when they are not a date."""
    if not (0 <= mon <= 11 and 1 <= mday <= 31 and 0 <= hour <= 23 and 0 <= minute <= 59
            and 0 <= sec <= 61 and 0 <= year <= 8000):
        return None
    try:
        return time.mktime((year + 1900, mon + 1, mday, hour, minute, sec, 0, 0,
                            1 if isdst > 0 else (0 if isdst == 0 else -1)))
    except (OverflowError, ValueError):
        return None
