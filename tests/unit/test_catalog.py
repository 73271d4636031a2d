"""Catalog loading: two-stage validation, every problem reported with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.engine.catalog import CatalogError, load_catalog
from tests.support import REPO, write

GOOD = (REPO / "rules" / "apiconnect" / "apic-license-not-accepted.yaml").read_text()


def broken_catalog(tmp_path: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        write(tmp_path / "rules" / name, text)
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path / "rules")
    return info.value.problems


def test_the_shipped_catalog_loads() -> None:
    catalog = load_catalog()
    assert len(catalog.rules) >= 7 and catalog.digest.startswith("sha256:")


def test_all_problems_at_once_with_lines_and_json_paths(tmp_path: Path) -> None:
    bad_severity = GOOD.replace("severity: blocker", "severity: fatal")
    bad_params = GOOD.replace("  equals: true\n", "  equals: true\n  colour: red\n")
    problems = broken_catalog(tmp_path, {
        "apiconnect/apic-license-not-accepted.yaml": bad_severity,
        "apiconnect/other-rule.yaml": bad_params.replace("id: apic-license-not-accepted",
                                                          "id: other-rule"),
        "kong/bad-yaml.yaml": "id: [unclosed\n",
    })
    # The text after each location is jsonschema's or the YAML parser's own
    # wording: only the location and the value it names are ours to assert.
    assert len(problems) == 3
    assert problems[0].startswith("rules/apiconnect/apic-license-not-accepted.yaml:4: "
                                  "$.severity: ") and "'fatal'" in problems[0]
    assert problems[1].startswith("rules/apiconnect/other-rule.yaml:19: $.params: ")
    assert "colour" in problems[1]
    assert problems[2].startswith("rules/kong/bad-yaml.yaml:2: YAML error: ")


def test_id_product_template_and_range_consistency(tmp_path: Path) -> None:
    text = (GOOD.replace("id: apic-license-not-accepted", "id: wrong-name")
            .replace("check: field-equals", "check: no-such-template")
            .replace("applies: blocking-state", "applies: migration\nwhen:\n  to: '>>10'"))
    problems = broken_catalog(tmp_path, {"kong/rule-a.yaml": text})
    assert problems == [
        "rules/kong/rule-a.yaml:1: $.id: 'wrong-name' must match the file name 'rule-a'",
        "rules/kong/rule-a.yaml:3: $.product: 'apiconnect' must match the folder 'kong'",
        "rules/kong/rule-a.yaml:8: $.when.to: bad version range clause '>>10'",
        "rules/kong/rule-a.yaml:20: $.check: unknown check template 'no-such-template'",
    ]


def test_missing_required_fields_point_at_the_file(tmp_path: Path) -> None:
    problems = broken_catalog(tmp_path, {"kong/x.yaml": "id: x\n"})
    assert any(p.startswith("rules/kong/x.yaml:1: $: ") and "applies_to" in p for p in problems)


def test_empty_or_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="rule directory not found"):
        load_catalog(tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CatalogError, match="no rule files"):
        load_catalog(tmp_path / "empty")


def test_fast_and_round_trip_readers_agree_on_every_shipped_rule() -> None:
    """Rules are read with PyYAML's C loader; ruamel.yaml only locates problems.
    Both must see the same data (YAML 1.1 vs 1.2 could differ on unquoted on/off)."""
    import yaml as pyyaml
    from ruamel.yaml import YAML

    from checks.engine.catalog import _plain

    round_trip = YAML(typ="rt")
    for path in sorted((REPO / "rules").glob("*/*.yaml")):
        text = path.read_text()
        assert pyyaml.load(text, Loader=pyyaml.CSafeLoader) == _plain(round_trip.load(text)), path


def test_validated_digest_matches_the_rules() -> None:
    """rules/VALIDATED lets a run skip schema validation; it must name the current
    files, validated in full (regenerate: upgrade-lint rules --format digest)."""
    from checks.engine.catalog import validate_fully

    assert (REPO / "rules" / "VALIDATED").read_text().strip() == validate_fully().digest


def test_an_edited_rule_is_validated_again(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(REPO / "rules", tmp_path / "rules")
    edited = tmp_path / "rules" / "apiconnect" / "apic-license-not-accepted.yaml"
    edited.write_text(edited.read_text().replace("severity: blocker", "severity: fatal"))
    with pytest.raises(CatalogError, match=r"apic-license-not-accepted.yaml:\d+: \$.severity: .*'fatal'"):
        load_catalog(tmp_path / "rules")


def test_loading_the_catalog_registers_the_products_declarations() -> None:
    """Regression: the trusted (VALIDATED) path once skipped the template lookup,
    so product modules were not imported and upgrade targets came out unknown."""
    import subprocess
    import sys

    code = ("from checks.engine.catalog import load_catalog; load_catalog(); "
            "from checks.engine.upgrade_path import _TARGET_FINDERS; print(sorted(_TARGET_FINDERS))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['3scale', 'api7', 'apiconnect', 'kong']"


def test_defer_to_names_existing_object_rules_other_than_itself(tmp_path: Path) -> None:
    def deferring(rule_id: str, to: str) -> str:
        return (GOOD.replace("id: apic-license-not-accepted", f"id: {rule_id}")
                .replace("check: field-equals", f"defer_to: [{to}]\ncheck: field-equals"))

    order_rule = (REPO / "rules" / "kong" / "kong-dp-ahead-of-cp.yaml").read_text()
    problems = broken_catalog(tmp_path, {
        "apiconnect/a-self.yaml": deferring("a-self", "a-self"),
        "apiconnect/b-unknown.yaml": deferring("b-unknown", "no-such-rule"),
        "apiconnect/c-set.yaml": deferring("c-set", "kong-dp-ahead-of-cp"),
        "apiconnect/d-fine.yaml": deferring("d-fine", "a-self"),
        "kong/kong-dp-ahead-of-cp.yaml": order_rule,
    })
    assert problems == [
        "rules/apiconnect/a-self.yaml:1: $.defer_to: a rule cannot defer to itself",
        "rules/apiconnect/b-unknown.yaml:1: $.defer_to: unknown rule 'no-such-rule'",
        "rules/apiconnect/c-set.yaml:1: $.defer_to: rule 'kong-dp-ahead-of-cp' looks at the "
        "whole scan; only object rules can be deferred to",
    ]
