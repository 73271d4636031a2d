"""``upgrade-lint rbac``: get/list on exactly what the selected rules read."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from checks.cli import main
from checks.engine.catalog import load_catalog
from checks.sources.live.kube import wanted_kinds
from checks.sources.live.rbac import grants, role_documents


def _print(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, Any]]:
    assert main(["rbac", *argv]) == 0
    return [d for d in yaml.safe_load_all(capsys.readouterr().out) if d]


def test_cluster_role_grants_get_list_on_exactly_the_wanted_resources(
        capsys: pytest.CaptureFixture[str]) -> None:
    docs = _print(capsys, "--rules", "apic-backup-not-configured")
    assert [d["kind"] for d in docs] == ["ServiceAccount", "ClusterRole", "ClusterRoleBinding"]
    role = docs[1]
    pairs = {(g, r) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"]}
    assert pairs == {("management.apiconnect.ibm.com", "managementclusters"),
                     ("management.apiconnect.ibm.com", "managementbackups"),
                     ("apiconnect.ibm.com", "apiconnectclusters"),
                     ("gateway.apiconnect.ibm.com", "gatewayclusters"),
                     ("", "pods"), ("", "secrets"),
                     ("postgresql.k8s.enterprisedb.io", "backups"), ("velero.io", "backups")}
    assert all(rule["verbs"] == ["get", "list"] for rule in role["rules"])
    binding = docs[2]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io",
                                  "kind": "ClusterRole", "name": "upgrade-lint"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "upgrade-lint",
                                    "namespace": "default"}]


def test_whole_catalog_never_grants_a_wildcard_or_a_write(
        capsys: pytest.CaptureFixture[str]) -> None:
    docs = _print(capsys)
    for doc in docs:
        for rule in doc.get("rules", ()):
            assert rule["verbs"] == ["get", "list"]
            assert "*" not in rule["apiGroups"] and "*" not in rule["resources"]
    expected = {(g.group, g.resource) for g in grants(wanted_kinds(load_catalog(None).rules))}
    granted = {(g, r) for d in docs for rule in d.get("rules", ())
               for g in rule["apiGroups"] for r in rule["resources"]}
    assert granted == expected


def test_namespaces_get_roles_and_cluster_scoped_kinds_a_cluster_role(
        capsys: pytest.CaptureFixture[str]) -> None:
    docs = _print(capsys, "--namespace", "apic", "--namespace", "kong", "--name", "nightly",
                  "--rules", "apic-backup-not-configured,k8s-removed-api")
    kinds = [(d["kind"], d["metadata"].get("namespace")) for d in docs]
    assert kinds == [("ServiceAccount", "apic"), ("ClusterRole", None),
                     ("ClusterRoleBinding", None), ("Role", "apic"), ("RoleBinding", "apic"),
                     ("Role", "kong"), ("RoleBinding", "kong")]
    cluster_resources = {r for rule in docs[1]["rules"] for r in rule["resources"]}
    assert "storageclasses" in cluster_resources and "secrets" not in cluster_resources
    role_resources = {r for rule in docs[3]["rules"] for r in rule["resources"]}
    assert "secrets" in role_resources and "storageclasses" not in role_resources
    assert all(d["metadata"]["name"] == "nightly" for d in docs)


def test_namespaced_only_rules_need_no_cluster_role() -> None:
    from checks.sources.live.model import WantedKind
    docs = role_documents([WantedKind("", "Secret")], namespaces=["a"])
    assert [d["kind"] for d in docs] == ["ServiceAccount", "Role", "RoleBinding"]


def test_unknown_rule_id_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rbac", "--rules", "apic-nope"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "upgrade-lint: unknown rule id(s) apic-nope; see 'upgrade-lint rules'"
