"""The role ``upgrade-lint rbac`` prints is enough for a scan, and less is
reported: the ClusterRole's rules become the test API server's grant for the
scanner's token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from checks.cli import main
from checks.engine.catalog import load_catalog
from checks.sources.live.kube import ClusterOptions, read_cluster, wanted_kinds
from checks.sources.live.model import Unavailable
from checks.sources.live.rbac import role_documents
from tests.live.conftest import gateway, pod, secret


def _grant_of(role: dict[str, Any]) -> Any:
    from tests.kubeapi.auth import Grant
    return Grant.of(*[(verb, group, resource, None) for rule in role["rules"]
                      for group in rule["apiGroups"] for resource in rule["resources"]
                      for verb in rule["verbs"]])


def _objects() -> list[dict[str, Any]]:
    management = {"apiVersion": "management.apiconnect.ibm.com/v1beta1",
                  "kind": "ManagementCluster", "metadata": {"name": "m", "namespace": "apic"},
                  "spec": {"version": "10.0.8.0"}}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "kong", "namespace": "kong"}, "spec": {}}
    return [gateway("apic", "gw"), management, deployment, pod("apic", "gw-0"),
            secret("apic", "db", {"password": "cA=="})]


def test_the_printed_role_is_enough_and_one_rule_less_is_reported(
        kube: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rbac"]) == 0
    printed = [d for d in yaml.safe_load_all(capsys.readouterr().out) if d]
    [role] = [d for d in printed if d["kind"] == "ClusterRole"]
    wanted = wanted_kinds(load_catalog(None).rules)
    kube(_objects(), tokens={"scanner": _grant_of(role)}, token="scanner")
    options = ClusterOptions(kubeconfig=str(tmp_path / "kubeconfig"))
    read, _ = read_cluster(options, wanted)
    assert not [u for u in read.unavailable if "forbidden" in u.reason]
    # Everything the server has of the wanted kinds was read.
    assert {(r.kind, r.name) for r in read.resources} >= {
        ("GatewayCluster", "gw"), ("ManagementCluster", "m"), ("Deployment", "kong"),
        ("Pod", "gw-0"), ("Secret", "db")}
    # What it does not serve is "not installed", not refused.
    assert Unavailable("velero.io", "Backup", None, "CRD backups.velero.io is not installed") \
        in read.unavailable

    less = dict(role, rules=[dict(r, resources=[x for x in r["resources"] if x != "secrets"])
                             for r in role["rules"]])
    kube(_objects(), tokens={"scanner": _grant_of(less)}, token="scanner")
    read, _ = read_cluster(options, wanted)
    refused = [u for u in read.unavailable if "forbidden" in u.reason]
    assert refused == [Unavailable("", "Secret", None,
                                   "forbidden: list secrets in all namespaces (403)")]
    assert ("Pod", "gw-0") in {(r.kind, r.name) for r in read.resources}


def test_a_namespaced_role_is_enough_for_a_namespaced_scan(kube: Any, tmp_path: Path) -> None:
    from tests.kubeapi.auth import Grant
    rules = [r for r in load_catalog(None).rules if r.id == "apic-backup-not-configured"]
    wanted = wanted_kinds(rules)
    docs = role_documents(wanted, namespaces=["apic"])
    [role] = [d for d in docs if d["kind"] == "Role"]
    grant = Grant.of(*[(verb, group, resource, "apic") for rule in role["rules"]
                       for group in rule["apiGroups"] for resource in rule["resources"]
                       for verb in rule["verbs"]])
    kube(_objects(), tokens={"scanner": grant}, token="scanner")
    read, _ = read_cluster(ClusterOptions(kubeconfig=str(tmp_path / "kubeconfig"),
                                          namespaces=("apic",)), wanted)
    assert not [u for u in read.unavailable if "forbidden" in u.reason]
    assert ("ManagementCluster", "m") in {(r.kind, r.name) for r in read.resources}
