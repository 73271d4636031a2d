"""apic-backup-stale tells "no backup exists" from "no backup could be read":
when none of the backup kinds (ManagementBackup, EDB Backup, Velero Backup)
is served or readable, the rule is not evaluated with the reasons; when at
least one is readable, a missing recent backup still fires."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from checks.model import Outcome
from tests.support import of_rule, scan, write

NOT_INSTALLED = {
    ("management.apiconnect.ibm.com", "ManagementBackup"):
        "CRD managementbackups.management.apiconnect.ibm.com is not installed",
    ("postgresql.k8s.enterprisedb.io", "Backup"):
        "CRD backups.postgresql.k8s.enterprisedb.io is not installed",
    ("velero.io", "Backup"): "CRD backups.velero.io is not installed",
}
FORBIDDEN = {
    ("management.apiconnect.ibm.com", "ManagementBackup"):
        "forbidden: list managementbackups.management.apiconnect.ibm.com in all namespaces (403)",
    ("postgresql.k8s.enterprisedb.io", "Backup"):
        "forbidden: list backups.postgresql.k8s.enterprisedb.io in namespace apic (403)",
    ("velero.io", "Backup"): "forbidden: list backups.velero.io in all namespaces (403)",
}


def _snapshot(tmp_path: Path, unread: dict[tuple[str, str], str],
              namespace_of: dict[tuple[str, str], str] | None = None) -> Path:
    management: dict[str, Any] = {
        "apiVersion": "management.apiconnect.ibm.com/v1beta1", "kind": "ManagementCluster",
        "metadata": {"name": "mgmt", "namespace": "apic", "resourceVersion": "7"},
        "spec": {"version": "10.0.8.0"},
        "status": {"phase": "Running", "versions": {"reconciled": "10.0.5.3-1"}}}
    unavailable = [{"group": group, "kind": kind,
                    "namespace": (namespace_of or {}).get((group, kind)), "reason": reason}
                   for (group, kind), reason in unread.items()]
    document = {"format": "upgrade-lint-snapshot/1", "source": "cluster://prod",
                "recordedAt": "2026-11-30T06:00:00Z", "objects": [management],
                "unavailable": unavailable, "notes": []}
    return write(tmp_path / "snap.json", json.dumps(document))


def _backup_results(snapshot: Path) -> list[tuple[Outcome, str]]:
    results = scan(snapshot=str(snapshot), targets={"apiconnect": "10.0.8.0"}).results
    return [(r.outcome, r.message) for r in of_rule(results, "apic-backup-stale")]


def test_no_backup_kind_installed_is_not_evaluated(tmp_path: Path) -> None:
    assert _backup_results(_snapshot(tmp_path, NOT_INSTALLED)) == [
        (Outcome.NOT_EVALUATED, "no backup kind could be read from the cluster: "
                                + "; ".join(NOT_INSTALLED.values()))]


def test_no_backup_kind_readable_is_not_evaluated(tmp_path: Path) -> None:
    namespaces = {("postgresql.k8s.enterprisedb.io", "Backup"): "apic"}
    results = _backup_results(_snapshot(tmp_path, FORBIDDEN, namespaces))
    assert results[0] == (Outcome.NOT_EVALUATED, "no backup kind could be read from the "
                                                 "cluster: " + "; ".join(FORBIDDEN.values()))
    assert Outcome.FAILED not in {outcome for outcome, _ in results}


@pytest.mark.parametrize("readable", sorted(NOT_INSTALLED))
def test_one_readable_backup_kind_is_enough_to_fire(tmp_path: Path,
                                                    readable: tuple[str, str]) -> None:
    unread = {key: reason for key, reason in NOT_INSTALLED.items() if key != readable}
    [(outcome, message)] = _backup_results(_snapshot(tmp_path, unread))
    assert (outcome, message) == (
        Outcome.FAILED, "no completed backup of the management database of apic; take one "
                        "before the upgrade")


def test_a_refusal_in_another_namespace_leaves_the_kind_readable(tmp_path: Path) -> None:
    unread = dict(NOT_INSTALLED)
    unread[("postgresql.k8s.enterprisedb.io", "Backup")] = FORBIDDEN[
        ("postgresql.k8s.enterprisedb.io", "Backup")].replace("apic", "other")
    namespaces = {("postgresql.k8s.enterprisedb.io", "Backup"): "other"}
    outcomes = [o for o, _ in _backup_results(_snapshot(tmp_path, unread, namespaces))]
    assert Outcome.FAILED in outcomes
