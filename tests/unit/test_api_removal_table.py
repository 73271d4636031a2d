"""The k8s-removed-api table is data: these keep it usable and consistent."""

from __future__ import annotations

from checks.engine.versions import parse_version
from tests.support import catalog


def _rule_and_table() -> tuple[set[str], list[dict[str, object]]]:
    rule = catalog().get("k8s-removed-api")
    assert rule is not None
    kinds = {kind for selector in rule.applies_to for kind in selector.kinds}
    return kinds, list(rule.params["removals"])


def test_every_kind_of_the_table_is_selected_by_the_rule() -> None:
    # A kind missing from applies_to would make its entries unreachable.
    kinds, table = _rule_and_table()
    assert {k for entry in table for k in entry["kinds"]} - kinds == set()  # type: ignore[attr-defined]


def test_every_entry_is_deprecated_no_later_than_removed() -> None:
    _, table = _rule_and_table()
    for entry in table:
        software = str(entry.get("software", "kubernetes"))
        assert (parse_version(software, entry["deprecated_in"])
                <= parse_version(software, entry["removed_in"])), entry


def test_no_apiversion_and_kind_is_listed_twice() -> None:
    _, table = _rule_and_table()
    keys = [(e["apiVersion"], k) for e in table for k in e["kinds"]]  # type: ignore[attr-defined]
    assert len(keys) == len(set(keys))
