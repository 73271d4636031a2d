"""Backup evidence against real PostgreSQL dumps from a live server.

A private PostgreSQL cluster is started for the module (unix socket only, in a
temporary directory); the dumps are made with the real pg_dump / pg_dumpall
and checked with the real pg_restore. CI installs PostgreSQL from Debian
(.ci/run); elsewhere the tests skip when no server binaries are found.
"""

from __future__ import annotations

import gzip
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
    # An upgrade from 3.6.0 is planned: the backup rule applies (the values say 3.7.3).
    results = scan(API7_VALUES, backups={"api7": str(path)}, currents={"api7": "3.6.0"},
                   **options).results
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


def test_old_backup_fires_with_its_age(pg: dict[str, str], tmp_path: Path) -> None:
    dump = _dump(pg, tmp_path / "api7.dump", "-d", "api7ee", "-F", "c")
    two_days_ago = time.time() - 2 * 86400
    os.utime(dump, (two_days_ago, two_days_ago))
    [result] = _api7_backup_results(dump)
    assert result.outcome is Outcome.FAILED
    assert result.message == (f"backup {dump} is 2.0 days old, older than --max-backup-age 24 h; "
                              "take a fresh one")
    [relaxed] = _api7_backup_results(dump, max_backup_age_seconds=parse_duration("3d"))
    assert relaxed.outcome is Outcome.PASSED


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
