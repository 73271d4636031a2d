"""A platform repository as teams keep them: API Connect dev (10.0.8.0) and prod
(10.0.5.3), API7 staging (3.8.0) and prod (3.7.3), shared workloads, a chart
source and CI files (fixtures/repos/platform). Issue 8's acceptance: no false
gating finding; one planted blocker gives exactly that one; a version bump in a
merge request is judged as the upgrade it plans."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from checks.model import Outcome, Severity
from tests.support import FIXTURES, REPO, of_rule, scan, write

PLATFORM = FIXTURES / "repos" / "platform"


def gating(results: list) -> list[str]:  # type: ignore[type-arg]
    return [f"{r.location} {r.rule_id}" for r in results
            if r.outcome in (Outcome.FAILED, Outcome.INVALID_INPUT) and r.severity >= Severity.ERROR]


def test_environments_side_by_side_raise_no_false_blocker() -> None:
    result = scan(PLATFORM)
    assert gating(result.results) == []
    # Before installations, dev's 10.0.8.0 gateway was compared with prod's 10.0.5.3
    # management, and prod's 3.7.3 gateway with staging's control plane.
    ahead = of_rule(result.results, "apic-gateway-ahead-of-management", Outcome.PASSED)
    assert {r.installation for r in ahead} == {"ns:apic-dev", "ns:apic-prod"}
    assert {name: str(ctx.path("apiconnect").target) for name, ctx
            in result.context.installations.items() if "apiconnect" in ctx.paths} == {
        "ns:apic-dev": "10.0.8.0", "ns:apic-prod": "10.0.5.3"}
    assert of_rule(result.results, "api7-dp-ahead-of-cp", Outcome.FAILED) == []


def test_one_planted_blocker_gives_exactly_that_one(tmp_path: Path) -> None:
    repo = tmp_path / "platform"
    shutil.copytree(PLATFORM, repo)
    gateway = repo / "apic" / "prod" / "gateway.yaml"
    gateway.write_text(gateway.read_text() + "  template:\n    - name: datapower\n"
                                              "      env:\n        - {name: X, value: y}\n")
    assert gating(scan(repo).results) == [f"{gateway}:31 apic-template-override"]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_a_bump_in_a_merge_request_is_the_upgrade_it_plans(tmp_path: Path) -> None:
    repo = tmp_path / "platform"
    shutil.copytree(PLATFORM, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.email=ci@example.invalid", "-c", "user.name=ci", "add", "-A")
    git(repo, "-c", "user.email=ci@example.invalid", "-c", "user.name=ci", "commit", "-qm", "base")
    for name in ("api7ee3-values.yaml", "gateway-values.yaml"):
        path = repo / "api7" / "prod" / name
        path.write_text(path.read_text().replace("3.7.3", "3.8.0"))
    proc = subprocess.run([sys.executable, "-m", "checks.cli", "scan", ".", "--base", "main",
                           "--json", "r.json"], capture_output=True, text=True, cwd=repo,
                          timeout=120, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    data = json.loads((repo / "r.json").read_text())
    assert data["installations"]["dir:api7/prod"]["api7"]["from"] == "3.7.3"
    # The upgrade 3.7.3 -> 3.8.0 needs a database backup first; nothing else is new.
    assert [(r["rule_id"], r["path"]) for r in data["results"] if r["gating"]] == [
        ("api7-database-backup-missing", "./api7/prod/api7ee3-values.yaml")]
    assert proc.returncode == 1
    backup = write(repo / "backup.sql", (FIXTURES / "api7" / "api7-database-backup-missing"
                                         / "backups" / "api7ee.sql").read_text())
    with_backup = subprocess.run(
        [sys.executable, "-m", "checks.cli", "scan", ".", "--base", "main",
         "--backup", f"api7@dir:api7/prod={backup}"], capture_output=True, text=True, cwd=repo,
        timeout=120, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert with_backup.returncode == 0, with_backup.stdout
