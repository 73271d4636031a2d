"""pg_dump archive headers of every layout from 1.12 to 1.16.

pg_dump 15 (format 1.14) is exercised for real in tests/test_backups.py; the
other layouts are built here byte by byte the way pg_dump's WriteHead lays
them out (compression as an integer up to 1.14, as one algorithm byte from
1.15 on), so a reader that skips the wrong number of bytes reads a wrong date.
"""

from __future__ import annotations

import time

import pytest

from checks.sources.pg_archive import HeaderError, read_header


def _int(value: int, size: int = 4) -> bytes:
    return bytes([1 if value < 0 else 0]) + abs(value).to_bytes(size, "little")


def _str(text: str | None) -> bytes:
    if text is None:
        return _int(-1)
    raw = text.encode()
    return _int(len(raw)) + raw


def _header(minor: int, created: time.struct_time, database: str = "zync_production") -> bytes:
    head = b"PGDMP" + bytes([1, minor, 0, 4, 8, 1])  # version, int size, offset size, custom
    head += bytes([1]) if minor >= 15 else _int(-1)  # gzip algorithm, or default level
    for field in (created.tm_sec, created.tm_min, created.tm_hour, created.tm_mday,
                  created.tm_mon - 1, created.tm_year - 1900, created.tm_isdst):
        head += _int(field)
    return head + _str(database) + _str("16.4") + _str("16.4") + b"\x00" * 64


@pytest.mark.parametrize("minor", [12, 13, 14, 15, 16])
def test_creation_time_and_database_of_each_layout(minor: int) -> None:
    made = time.time() - 3 * 86400
    header = read_header(_header(minor, time.localtime(made)))
    assert header.version == (1, minor, 0)
    assert header.created_at is not None and abs(header.created_at - made) < 1.5
    assert (header.database, header.dumped_by) == ("zync_production", "16.4")


@pytest.mark.parametrize(("data", "reason"), [
    (b"PK\x03\x04", "no PGDMP magic"),
    (b"PGDMP\x01\x11\x00\x04\x08\x01", "archive format 1.17 is newer"),
    (b"PGDMP\x01\x0e\x00\x04\x08\x01\x00", "cut short"),
    (b"PGDMP\x01\x0e\x00\x63\x08\x01", "implausible integer size 99"),
])
def test_unreadable_headers_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(HeaderError, match=reason):
        read_header(data)


def test_impossible_date_is_no_date() -> None:
    data = bytearray(_header(14, time.localtime()))
    data[16 + 3 * 5 + 1] = 40  # tm_mday = 40
    assert read_header(bytes(data)).created_at is None
