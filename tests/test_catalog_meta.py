"""The catalog's own contract: ids, docs, references, fixtures on both sides."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.model import Severity
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


def test_rule_ids_and_severities_of_the_contract() -> None:
    """Ids and default severities fixed by RULES.md for the rules shipped so far."""
    contract = {
        "apic-template-override": Severity.BLOCKER,
        "apic-license-not-accepted": Severity.BLOCKER,
        "apic-gateway-ahead-of-management": Severity.BLOCKER,
        "3scale-mysql-plaintext-credentials": Severity.BLOCKER,
        "api7-dp-ahead-of-cp": Severity.BLOCKER,
        "kong-role-database-mismatch": Severity.ERROR,
        "kong-dp-ahead-of-cp": Severity.BLOCKER,
    }
    shipped = {r.id: r.severity for r in RULES}
    assert {k: shipped.get(k) for k in contract} == contract


def test_rule_files_live_where_their_id_and_product_say() -> None:
    for rule in RULES:
        assert Path(rule.source).parts[-2:] == (rule.product, f"{rule.id}.yaml")
