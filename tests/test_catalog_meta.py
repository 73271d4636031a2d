"""The catalog's own contract: ids, docs, references, fixtures on both sides."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import FIXTURES, PRODUCTS, REPO, catalog

RULES = catalog().rules


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_has_docs_references_and_both_kinds_of_fixture(rule) -> None:  # type: ignore[no-untyped-def]
    assert rule.description and rule.rationale and rule.remediation
    assert rule.references and all(ref.url.startswith("https://") for ref in rule.references)
    folder = FIXTURES / rule.product / rule.id
    names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    assert any(n.startswith("fire") for n in names), f"{rule.id}: no fire fixture in {folder}"
    assert any(n.startswith("dont-fire") for n in names), f"{rule.id}: no dont-fire fixture"
    assert (folder / "expected.yaml").is_file(), f"{rule.id}: no expected.yaml"


def test_every_fixture_folder_has_a_rule() -> None:
    ids = {r.id for r in RULES}
    orphans = [str(p.relative_to(REPO)) for product in PRODUCTS
               for p in (FIXTURES / product).glob("*") if p.is_dir() and p.name not in ids]
    assert orphans == []


#: RULES.md, every static or both rule: id -> (severity, mode). Ids are a contract.
CONTRACT = {
    "apic-template-override": ("blocker", "both"),
    "apic-license-not-accepted": ("blocker", "both"),
    "apic-license-use-invalid": ("error", "both"),
    "apic-license-metric-invalid": ("warning", "both"),
    "apic-license-id-invalid": ("error", "both"),
    "apic-gateway-ahead-of-management": ("blocker", "both"),
    "apic-legacy-certificates": ("blocker", "both"),
    "apic-gateway-replicas-below-ha": ("warning", "both"),
    "apic-prestop-missing": ("info", "both"),
    "apic-backup-not-configured": ("blocker", "both"),
    "apic-upgrade-path-unsupported": ("blocker", "both"),
    "apic-datapower-override": ("warning", "both"),
    "api7-dp-ahead-of-cp": ("blocker", "both"),
    "api7-version-skew": ("warning", "both"),
    "api7-cp-components-mismatch": ("error", "static"),
    "api7-image-tag-invalid": ("error", "static"),
    "api7-upgrade-path-unsupported": ("warning", "both"),
    "api7-traffic-split-present": ("blocker", "both"),
    "api7-etcd-tls-incomplete": ("error", "static"),
    "api7-database-backup-missing": ("blocker", "both"),
    "kong-role-database-mismatch": ("error", "static"),
    "kong-database-off-unquoted": ("error", "static"),
    "kong-dp-ahead-of-cp": ("blocker", "both"),
    "kong-dp-cluster-settings-missing": ("error", "static"),
    "kong-rolling-upgrade-inapplicable": ("warning", "static"),
    "kong-migrations-disabled": ("warning", "static"),
    "kong-upgrade-path-unsupported": ("warning", "both"),
    "kong-declarative-backup-missing": ("blocker", "both"),
    "3scale-mysql-plaintext-credentials": ("blocker", "both"),
    "3scale-database-secret-keys-missing": ("blocker", "both"),
    "3scale-rolling-updates-flags": ("error", "both"),
    "3scale-imagestreams-not-on-target": ("error", "both"),
    "3scale-amp-release-inconsistent": ("warning", "both"),
    "3scale-oracle-build-not-repointed": ("error", "both"),
    "3scale-zync-postgresql-eol": ("warning", "both"),
    "3scale-zync-backup-missing": ("blocker", "both"),
    "k8s-removed-api": ("blocker", "both"),
    "unrendered-placeholder": ("error", "static"),
    "plaintext-credential-env": ("warning", "both"),
}


def test_every_static_rule_of_the_contract_ships_with_its_severity_and_mode() -> None:
    shipped = {r.id: (r.severity.label, r.mode) for r in RULES}
    assert {k: shipped.get(k) for k in CONTRACT} == CONTRACT


def test_rule_files_live_where_their_id_and_product_say() -> None:
    for rule in RULES:
        assert Path(rule.source).parts[-2:] == (rule.product, f"{rule.id}.yaml")
