"""Merge-request gating: ``--base REF`` and ``--baseline FILE`` (README, "Merge-request gating").

Real git repositories, as a CI job has them: a target branch, a change on top,
and a shallow clone that must fetch the base first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import REPO, write

MGMT = """apiVersion: management.apiconnect.ibm.com/v1beta1
kind: ManagementCluster
metadata:
  name: mgmt
  namespace: apic-prod
spec:
  version: {version}
  license: {{accept: true, use: production, license: L-DZZQ-MGVN8V}}
"""
GATEWAY = """apiVersion: gateway.apiconnect.ibm.com/v1beta1
kind: GatewayCluster
metadata:
  name: gw
  namespace: apic-prod
spec:
  version: 10.0.5.1
  license: {accept: true, use: production, license: L-DZZQ-MGVN8V}
  template:
    - name: datapower
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def scan(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checks.cli", "scan", "envs", *args],
                          capture_output=True, text=True, cwd=repo, timeout=120,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})


def repository(tmp_path: Path) -> Path:
    repo = tmp_path / "gitops"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "ci@example.invalid")
    git(repo, "config", "user.name", "ci")
    write(repo / "envs" / "prod" / "management.yaml", MGMT.format(version="10.0.5.1"))
    # A blocker that is already on the target branch (a template override).
    write(repo / "envs" / "prod" / "gateway.yaml", GATEWAY)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    return repo


def test_a_version_bump_is_a_planned_upgrade_and_old_findings_do_not_fail(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    write(repo / "envs" / "prod" / "management.yaml", MGMT.format(version="10.0.8.0"))
    proc = scan(repo, "--base", "main", "--json", "r.json")
    data = json.loads((repo / "r.json").read_text())
    assert data["installations"]["ns:apic-prod"]["apiconnect"] == {
        "from": "10.0.5.1", "from_source": "envs/prod/gateway.yaml at --base main",
        "to": "10.0.8.0", "to_source": "envs/prod/management.yaml:7"}
    failed = {(r["rule_id"], r["line"], r["existing"], r["gating"])
              for r in data["results"] if r["outcome"] == "failed"}
    # New with the bump: backups must be on S3 from 10.0.7.0 (a migration rule
    # that did not apply to 10.0.5.1). The template override was there before.
    assert failed == {("apic-backup-not-configured", 6, False, True),
                      ("apic-template-override", 9, True, False),
                      ("apic-license-id-invalid", 8, True, False),
                      ("apic-prestop-missing", 6, True, False)}
    assert proc.returncode == 1, proc.stdout
    assert "existing (already in the --base revision or --baseline; not failing):" in proc.stdout
    assert proc.stdout.splitlines()[-1].startswith("upgrade-lint FAIL: 1 finding(s)")
    everything = scan(repo, "--base", "main", "--gate-all")
    assert everything.stdout.splitlines()[-1].startswith("upgrade-lint FAIL: 2 finding(s)")


def test_a_change_that_plans_no_upgrade_is_not_judged_by_upgrade_rules(tmp_path: Path) -> None:
    """Versions equal at the base and now: no upgrade is planned, so the
    blocking-state rules do not apply (RULES.md, "When rules apply")."""
    repo = repository(tmp_path)
    write(repo / "envs" / "prod" / "gateway.yaml", GATEWAY.replace("gw\n", "gw2\n"))
    proc = scan(repo, "--base", "main", "--json", "r.json")
    assert proc.returncode == 0, proc.stdout
    [override] = [r for r in json.loads((repo / "r.json").read_text())["results"]
                  if r["rule_id"] == "apic-template-override"]
    assert (override["outcome"], override["installation"]) == ("not-applicable", "ns:apic-prod")
    assert override["message"] == ("no apiconnect upgrade planned of ns:apic-prod: current and "
                                   "target are both 10.0.5.1")


def test_a_shallow_clone_needs_the_base_fetched(tmp_path: Path) -> None:
    origin = repository(tmp_path)
    git(origin, "checkout", "-q", "-b", "change")
    write(origin / "envs" / "prod" / "management.yaml", MGMT.format(version="10.0.8.0"))
    git(origin, "commit", "-q", "-am", "bump")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "change",
                    f"file://{origin}", str(clone)], check=True)
    missing = scan(clone, "--base", "origin/main")
    assert missing.returncode == 2
    assert "--base origin/main: no such commit" in missing.stderr
    assert "git fetch" in missing.stderr and "Traceback" not in missing.stderr
    git(clone, "fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    fetched = scan(clone, "--base", "origin/main")
    assert fetched.returncode == 1 and "apic-backup-not-configured (blocker)" in fetched.stdout


def test_outside_a_git_repository_base_is_a_usage_error(tmp_path: Path) -> None:
    write(tmp_path / "envs" / "a.yaml", MGMT.format(version="10.0.8.0"))
    proc = scan(tmp_path, "--base", "main")
    assert proc.returncode == 2 and "is not in a git repository" in proc.stderr


def test_baseline_matches_by_field_not_by_line(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    first = scan(repo, "--json", "before.json")
    assert first.returncode == 1
    # An unrelated edit above the finding moves it down two lines.
    gateway = repo / "envs" / "prod" / "gateway.yaml"
    gateway.write_text("# owned by the platform team\n# reviewed 2026-11\n" + GATEWAY)
    again = scan(repo, "--baseline", "before.json", "--json", "after.json")
    assert again.returncode == 0, again.stdout
    [override] = [r for r in json.loads((repo / "after.json").read_text())["results"]
                  if r["rule_id"] == "apic-template-override" and r["outcome"] == "failed"]
    assert (override["line"], override["existing"], override["gating"]) == (11, True, False)
    # A new blocker is still new.
    gateway.write_text(gateway.read_text().replace("accept: true", "accept: false"))
    new = scan(repo, "--baseline", "before.json")
    assert new.returncode == 1 and "apic-license-not-accepted (blocker)" in new.stdout


def test_a_baseline_that_is_not_a_report_is_a_usage_error(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    write(repo / "junk.json", "[1, 2]")
    proc = scan(repo, "--baseline", "junk.json")
    assert proc.returncode == 2 and "not an upgrade-lint JSON report" in proc.stderr


def test_a_renamed_file_keeps_its_findings_existing(tmp_path: Path) -> None:
    """The base is read below the scanned paths at REF, not from the new file list."""
    repo = repository(tmp_path)
    git(repo, "checkout", "-q", "-b", "rename")
    git(repo, "mv", "envs/prod/gateway.yaml", "envs/prod/gw-prod.yaml")
    write(repo / "envs" / "prod" / "management.yaml", MGMT.format(version="10.0.8.0"))
    git(repo, "commit", "-q", "-am", "rename, and plan the upgrade")
    scan(repo, "--base", "main", "--json", "r.json")
    [override] = [r for r in json.loads((repo / "r.json").read_text())["results"]
                  if r["rule_id"] == "apic-template-override" and r["outcome"] == "failed"]
    assert (override["path"], override["existing"]) == ("envs/prod/gw-prod.yaml", True)


def test_a_baseline_that_is_no_regular_file_is_refused_at_once(tmp_path: Path) -> None:
    """Found by a reviewer's attack: /dev/zero was read until memory ran out, and
    a FIFO blocked for ever."""
    repo = repository(tmp_path)
    os.mkfifo(repo / "fifo.json")
    for baseline in ("/dev/zero", "fifo.json"):
        proc = scan(repo, "--baseline", baseline)
        assert proc.returncode == 2 and "not a regular file" in proc.stderr, baseline
