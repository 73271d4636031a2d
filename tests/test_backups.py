"""Backup evidence against real PostgreSQL dumps from a live server.

A private PostgreSQL cluster is started for the module (unix socket only, in a
temporary directory); the dumps are made with the real pg_dump / pg_dumpall
and checked with the real pg_restore. CI installs PostgreSQL from Debian
(.ci/run); elsewhere the tests skip when no server binaries are found.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from checks.model import Outcome
from checks.sources import backups
from checks.sources.backups import inspect, parse_duration
from tests.support import FIXTURES, of_rule, scan

API7_VALUES = FIXTURES / "api7" / "api7-dp-ahead-of-cp" / "dont-fire-values" / "api7ee3-values.yaml"


def _server_bin() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    return None


def _as_postgres(args: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: drop to the postgres user."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="module")
def pg() -> Iterator[dict[str, str]]:
    bin_dir = _server_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries missing; .ci/run installs them")
        pytest.skip("no PostgreSQL server installed (apt-get install postgresql)")
    # Not under pytest's tmp root: its mode 0700 keeps the postgres user out.
    root = Path(tempfile.mkdtemp(prefix="upgrade-lint-pg-"))
    socket_dir = root / "sock"
    socket_dir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(socket_dir, "postgres")
    data = root / "data"
    run = lambda args: subprocess.run(_as_postgres(args), check=True,  # noqa: E731
                                      capture_output=True, timeout=120)
    run([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"])
    run([str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"), "-o",
         f"-k {socket_dir} -p 54399 -c listen_addresses=''", "start"])
    env = {**os.environ, "PGHOST": str(socket_dir), "PGPORT": "54399", "PGUSER": "postgres"}
    sql = ("create table gateway_group(id serial primary key, name text);"
           "insert into gateway_group(name) values ('default'), ('edge');")
    subprocess.run([str(bin_dir / "createdb"), "api7ee"], env=env, check=True, timeout=60)
    subprocess.run([str(bin_dir / "psql"), "-q", "-d", "api7ee", "-c", sql], env=env,
                   check=True, timeout=60)
    try:
        yield {"bin": str(bin_dir), **{k: env[k] for k in ("PGHOST", "PGPORT", "PGUSER")}}
    finally:
        run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"])
        shutil.rmtree(root, ignore_errors=True)


def _dump(pg: dict[str, str], out: Path, *args: str, tool: str = "pg_dump") -> Path:
    env = {**os.environ, **{k: v for k, v in pg.items() if k.startswith("PG")}}
    subprocess.run([str(Path(pg["bin"]) / tool), *args, "-f", str(out)], env=env, check=True,
                   timeout=120)
    return out


def _api7_backup_results(path: Path, **options: object) -> list:  # type: ignore[type-arg]
    """The api7 backup rule's results, for a planned 3.6.2 -> 3.7.3 upgrade (backup
    rules judge evidence only when an upgrade is planned)."""
    results = scan(API7_VALUES, backups={"api7": str(path)}, currents={"api7": "3.6.2"},
                   targets={"api7": "3.7.3"}, **options).results
    return of_rule(results, "api7-database-backup-missing")


def test_custom_format_archive_is_verified_with_pg_restore(pg: dict[str, str],
                                                          tmp_path: Path) -> None:
    dump = _dump(pg, tmp_path / "api7.dump", "-d", "api7ee", "-F", "c")
    evidence = inspect(str(dump))
    assert (evidence.format, evidence.valid) == ("pg-custom", True)
    assert evidence.reason.startswith("PostgreSQL archive with ")
    [result] = _api7_backup_results(dump)
    assert result.outcome is Outcome.PASSED


def test_truncated_archive_is_rejected_by_pg_restore(pg: dict[str, str], tmp_path: Path) -> None:
    dump = _dump(pg, tmp_path / "api7.dump", "-d", "api7ee", "-F", "c")
    cut = tmp_path / "cut.dump"
    cut.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])
    evidence = inspect(str(cut))
    assert (evidence.format, evidence.valid) == ("pg-custom", False)
    assert evidence.reason.startswith("pg_restore --list rejects it: ")
    [result] = _api7_backup_results(cut)
    assert result.outcome is Outcome.FAILED and "is not usable: pg_restore --list" in result.message


def test_directory_format_and_gzipped_dumpall(pg: dict[str, str], tmp_path: Path) -> None:
    directory = _dump(pg, tmp_path / "kong_dir", "-d", "api7ee", "-F", "d")
    assert (inspect(str(directory)).format, inspect(str(directory)).valid) == ("pg-directory", True)
    plain = _dump(pg, tmp_path / "all.sql", tool="pg_dumpall")
    packed = tmp_path / "all.sql.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    evidence = inspect(str(packed))
    assert (evidence.format, evidence.valid, evidence.reason) == (
        "pg-dumpall", True, "pg_dumpall SQL dump, complete")


def _header_layout(data: bytes) -> tuple[int, int]:
    """(offset of the creation-time integers, integer size) in a real archive header."""
    major, minor = data[5], data[6]
    int_size = data[8]
    offset = 5 + 3 + 3  # magic, version, int size + offset size + format
    offset += 1 if (major, minor) >= (1, 15) else 1 + int_size  # compression
    return offset, int_size


def _rewrite_year(archive: Path, years_back: int) -> None:
    """Make the archive header say it was created ``years_back`` years earlier."""
    data = bytearray(archive.read_bytes())
    offset, int_size = _header_layout(bytes(data))
    year_at = offset + 5 * (1 + int_size) + 1  # sec, min, hour, mday, mon; skip the sign
    year = int.from_bytes(data[year_at:year_at + int_size], "little")
    data[year_at:year_at + int_size] = (year - years_back).to_bytes(int_size, "little")
    archive.write_bytes(bytes(data))


def test_age_of_an_archive_comes_from_its_header_not_its_mtime(pg: dict[str, str],
                                                                tmp_path: Path) -> None:
    """A checkout or copy refreshes the modification time; the header keeps the
    creation time. A fresh archive with an old mtime passes, and an old archive
    with a fresh mtime fires."""
    fresh = _dump(pg, tmp_path / "fresh.dump", "-d", "api7ee", "-F", "c")
    two_days_ago = time.time() - 2 * 86400
    os.utime(fresh, (two_days_ago, two_days_ago))
    evidence = inspect(str(fresh))
    assert evidence.age_source == "archive header"
    assert evidence.age_seconds is not None and evidence.age_seconds < 600
    [result] = _api7_backup_results(fresh)
    assert result.outcome is Outcome.PASSED

    old = _dump(pg, tmp_path / "old.dump", "-d", "api7ee", "-F", "c")
    _rewrite_year(old, 1)
    assert inspect(str(old)).valid  # pg_restore still reads it
    [result] = _api7_backup_results(old)
    assert result.outcome is Outcome.FAILED
    assert result.message.startswith(f"backup {old} is 36")
    assert result.message.endswith(" days old (age from the archive header), older than "
                                   "--max-backup-age 24 h; take a fresh one")


def test_directory_archive_age_from_toc_header(pg: dict[str, str], tmp_path: Path) -> None:
    directory = _dump(pg, tmp_path / "api7_dir", "-d", "api7ee", "-F", "d")
    _rewrite_year(directory / "toc.dat", 1)
    evidence = inspect(str(directory))
    assert (evidence.format, evidence.valid, evidence.age_source) == (
        "pg-directory", True, "archive header")
    assert evidence.age_seconds is not None and evidence.age_seconds > 360 * 86400


def test_sql_dump_age_from_started_on_else_mtime(pg: dict[str, str], tmp_path: Path) -> None:
    verbose = _dump(pg, tmp_path / "verbose.sql", "-d", "api7ee", "-v")
    assert "-- Started on " in verbose.read_text()
    long_ago = time.time() - 30 * 86400
    os.utime(verbose, (long_ago, long_ago))
    evidence = inspect(str(verbose))
    assert (evidence.valid, evidence.age_source) == (True, "dump's 'Started on' comment")
    assert evidence.age_seconds is not None and evidence.age_seconds < 600

    everything = _dump(pg, tmp_path / "all.sql", tool="pg_dumpall")
    assert "-- Started on" not in everything.read_text()  # none without -v
    everything_v = _dump(pg, tmp_path / "all-v.sql", "-v", tool="pg_dumpall")
    os.utime(everything_v, (long_ago, long_ago))
    assert (inspect(str(everything_v)).format, inspect(str(everything_v)).age_source) == (
        "pg-dumpall", "dump's 'Started on' comment")
    quiet = _dump(pg, tmp_path / "quiet.sql", "-d", "api7ee")
    assert "-- Started on" not in quiet.read_text()
    os.utime(quiet, (long_ago, long_ago))
    evidence = inspect(str(quiet))
    assert evidence.age_source == "file modification time"
    [result] = _api7_backup_results(quiet, max_backup_age_seconds=parse_duration("1d"))
    assert result.message == (f"backup {quiet} is 30.0 days old (age from the file "
                              "modification time), older than --max-backup-age 24 h; take a "
                              "fresh one")
    [relaxed] = _api7_backup_results(quiet, max_backup_age_seconds=parse_duration("31d"))
    assert relaxed.outcome is Outcome.PASSED


def test_evidence_names_size_digest_and_what_was_checked(pg: dict[str, str],
                                                         tmp_path: Path) -> None:
    dump = _dump(pg, tmp_path / "api7.dump", "-d", "api7ee", "-F", "c")
    evidence = inspect(str(dump))
    assert evidence.size_bytes == dump.stat().st_size
    assert evidence.sha256 == hashlib.sha256(dump.read_bytes()).hexdigest()
    listed = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True,
                            check=True).stdout
    entries = sum(1 for line in listed.splitlines() if line and not line.startswith(";"))
    assert evidence.checked.startswith(
        f"pg_restore --list read {entries} table-of-contents entries; archive format 1.")
    assert "database 'api7ee'" in evidence.checked


def test_missing_pg_restore_means_not_evaluated(pg: dict[str, str], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    dump = _dump(pg, tmp_path / "api7.dump", "-d", "api7ee", "-F", "c")
    monkeypatch.setattr(backups.shutil, "which", lambda name: None)
    [result] = _api7_backup_results(dump)
    assert result.outcome is Outcome.NOT_EVALUATED
    assert "pg_restore is not installed" in result.message


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "the file is empty"),
    (b"PGDMP\x01\x0e\x00", "pg_restore --list rejects it: "),
    (b"\x1f\x8bnot really gzip", "gzip data is corrupt or truncated: "),
    (b"-- PostgreSQL database dump\n\nCREATE TABLE t (id int);\n",
     "the dump is truncated: its 'dump complete' footer is missing"),
    (b"just some notes\n", "not a decK / kong config db_export file (no _format_version)"),
    (b'_format_version: "3.0"\n_info: {defaults: {}}\nservices: []\n',
     "declarative config _format_version 3.0 holds no entities: an empty dump is not a backup"),
])
def test_broken_files(content: bytes, reason: str, tmp_path: Path) -> None:
    if content.startswith(b"PGDMP") and shutil.which("pg_restore") is None:
        pytest.skip("pg_restore not installed")
    path = tmp_path / "backup.bin"
    path.write_bytes(content)
    evidence = inspect(str(path))
    assert not evidence.valid and evidence.reason.startswith(reason), evidence.reason


def test_missing_path_and_bare_directory(tmp_path: Path) -> None:
    assert inspect(str(tmp_path / "nope")).reason == "no such file or directory"
    assert "without toc.dat" in inspect(str(tmp_path)).reason


@pytest.mark.parametrize(("text", "seconds"), [("24h", 86400), ("90m", 5400), ("2d", 172800),
                                               ("3600s", 3600), ("1.5", 5400), ("1w", 604800)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_bad_duration() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("tomorrow")
