"""Version parsing per product, ordering and ranges."""

from __future__ import annotations

import re
from typing import Any

import pytest

from checks.engine.versions import (
    UnquotedNumberError,
    Version,
    VersionError,
    VersionRange,
    parse_version,
)
from checks.model import Severity
from checks.products.version_checks import path_problem
from tests.support import catalog


@pytest.mark.parametrize(("product", "text", "release", "fix"), [
    ("apiconnect", "10.0.8.0", (10, 0, 8, 0), 0),
    ("apiconnect", "10.0.7.0-5560", (10, 0, 7, 0), 0),
    ("apiconnect", "10.0.8.3-2844", (10, 0, 8, 3), 0),
    ("apiconnect", "10.0.5.1-ifix2", (10, 0, 5, 1), 2),
    ("apiconnect", "v10.0.5.3", (10, 0, 5, 3), 0),
    ("api7", "v3.7.3", (3, 7, 3, 0), 0),
    ("api7", "3.2.14.4", (3, 2, 14, 4), 0),
    ("kong", "3.9", (3, 9, 0, 0), 0),
    ("kong", "3.4.1.1", (3, 4, 1, 1), 0),
    ("kong", "3.4.3.5-ubuntu", (3, 4, 3, 5), 0),
    ("3scale", "2.5.0", (2, 5, 0), 0),
    ("kubernetes", "1.29", (1, 29, 0), 0),
    ("kubernetes", "v1.25.3", (1, 25, 3), 0),
])
def test_parse(product: str, text: str, release: tuple[int, ...], fix: int) -> None:
    version = parse_version(product, text)
    assert (version.release, version.fix, str(version)) == (release, fix, text.lstrip("v"))


@pytest.mark.parametrize(("product", "text", "why"), [
    ("api7", "3.7.", "incomplete"), ("api7", "latest", "not a version"), ("kong", "", "empty"),
    ("apiconnect", "10.0", "at least 3"), ("kong", "1.2.3.4.5", "more than 4"),
    ("kong", True, "not a version"), ("kong", None, "not a version"),
])
def test_malformed_versions_say_why(product: str, text: object, why: str) -> None:
    with pytest.raises(VersionError, match=why):
        parse_version(product, text)


def test_ordering_ignores_build_numbers_but_not_ifixes() -> None:
    v = lambda t: parse_version("apiconnect", t)  # noqa: E731
    assert v("10.0.8.0-1281") == v("10.0.8.0")
    assert v("10.0.5.1") < v("10.0.5.1-ifix1") < v("10.0.5.2")
    assert v("10.0.10.0") > v("10.0.9.0")


@pytest.mark.parametrize(("spec", "version", "inside"), [
    (">=10.0.7.0", "10.0.7.0", True), (">=10.0.7.0", "10.0.6.9", False),
    (">=3.3, <3.5", "3.4.2", True), (">=3.3, <3.5", "3.5.0", False),
    ("3.4.x", "3.4.9", True), ("3.4.x", "3.5.0", False), ("!=3.4.*", "3.4.1", False),
])
def test_ranges(spec: str, version: str, inside: bool) -> None:
    product = "apiconnect" if spec.startswith(">=10") else "api7"
    assert VersionRange(spec, product).contains(parse_version(product, version)) is inside


def test_bad_range_is_an_error() -> None:
    with pytest.raises(VersionError):
        VersionRange("~>3.4", "api7").validate()


# --- equality, display, ordering across numbering schemes -------------------------

def test_trailing_zeros_do_not_make_another_version() -> None:
    assert Version((2, 6)) == Version((2, 6, 0)) == Version((2, 6, 0, 0))
    assert hash(Version((2, 6))) == hash(Version((2, 6, 0, 0)))
    assert len({Version((2, 6)), Version((2, 6, 0)), parse_version("3scale", "v2.6.0")}) == 1
    assert Version((2, 6)) < Version((2, 6, 0, 1)) < Version((2, 7))


@pytest.mark.parametrize(("product", "text", "shown"), [
    ("api7", "v3.7.3", "3.7.3"), ("kubernetes", "V1.25.3", "1.25.3"),
    ("apiconnect", "v10.0.5.3-ifix1", "10.0.5.3-ifix1"), ("kong", "3.9", "3.9"),
])
def test_a_version_is_never_shown_with_its_v(product: str, text: str, shown: str) -> None:
    assert str(parse_version(product, text)) == shown


def test_apic_2018_sorts_below_v10_and_above_v5() -> None:
    v = lambda t: parse_version("apiconnect", t)  # noqa: E731
    assert v("5.0.8.6") < v("2018.4.1.20") < v("2018.4.1.24") < v("10.0.1.2") < v("12.1.1.0")
    assert VersionRange(">=10.0.5.5", "apiconnect").contains(v("2018.4.1.24")) is False
    assert VersionRange("<10.0.0.0", "apiconnect").contains(v("2018.4.1.24")) is True


def test_an_ifix_is_its_level_in_ranges_and_after_it_in_order() -> None:
    v = lambda t: parse_version("apiconnect", t)  # noqa: E731
    assert VersionRange("10.0.8.8", "apiconnect").contains(v("10.0.8.8-ifix1"))
    assert VersionRange("<=10.0.8.8", "apiconnect").contains(v("10.0.8.8-ifix2"))
    assert not VersionRange(">10.0.8.8", "apiconnect").contains(v("10.0.8.8-ifix1"))
    # a bound that names an iFix compares iFixes
    assert not VersionRange("10.0.8.2-ifix2", "apiconnect").contains(v("10.0.8.2-ifix1"))
    assert VersionRange("<=10.0.8.2-ifix2", "apiconnect").contains(v("10.0.8.2-ifix1"))
    assert v("10.0.8.8") < v("10.0.8.8-ifix1") < v("10.0.8.9")


@pytest.mark.parametrize(("value", "reading"), [
    (3.1, "YAML reads it as the number 3.1, so 3.10 and 3.1 look the same"),
    (3.7, "YAML reads it as the number 3.7, so 3.70 and 3.7 look the same"),
    (2, "YAML reads it as the number 2;"),
])
def test_an_unquoted_number_is_not_a_version(value: float, reading: str) -> None:
    with pytest.raises(UnquotedNumberError, match=re.escape(reading)):
        parse_version("kong", value)


# --- path_problem over the catalog's own path tables -------------------------------

def _path_params(rule_id: str) -> dict[str, Any]:
    rule = next(r for r in catalog().rules if r.id == rule_id)
    return dict(rule.params)


APIC, KONG, API7 = ("apic-upgrade-path-unsupported", "apiconnect"), \
    ("kong-upgrade-path-unsupported", "kong"), ("api7-upgrade-path-unsupported", "api7")
#: (rule, [(current, target, verdict)]): None passes, "downgrade" is an error, any other
#: text must be in the problem's message. Each case names a fixed row and its boundary.
PATH_CASES = {
    "apic downgrade is an error, equal is no upgrade": (APIC, [
        ("10.0.11.0", "10.0.10.0", "downgrade"), ("10.0.8.8-ifix1", "10.0.8.8", "downgrade"),
        ("10.0.11.0", "10.0.11.0", None), ("10.0.7.0-5560", "10.0.7.0", None)]),
    "kong downgrade is an error, 3.4 equals 3.4.0.0": (KONG, [
        ("3.10", "3.4.2", "downgrade"), ("3.4", "3.4.0.0", None)]),
    "api7 downgrade is an error, v is not part of the version": (API7, [
        ("3.8.1", "v3.7.3", "downgrade"), ("v3.7.3", "3.7.3", None)]),
    "10.0.11.0 from 10.0.10.0 and 10.0.8.4 only": (APIC, [
        ("10.0.8.3", "10.0.11.0", "not a supported"), ("10.0.8.5", "10.0.11.0", "not a supported"),
        ("10.0.9.0", "10.0.11.0", "not a supported"),
        ("10.0.8.2-ifix2", "10.0.11.0", "not a supported"),
        ("10.0.10.0", "10.0.11.0", None), ("10.0.8.4-ifix1", "10.0.11.0", None)]),
    "12.1.1.0 from an iFix of a listed level": (APIC, [
        ("10.0.8.8-ifix1", "12.1.1.0", None), ("10.0.8.7", "12.1.1.0", "not a supported")]),
    "2018 to 10.0.5.4 from Fix Pack 24, never to 10.0.5.5 or later": (APIC, [
        ("2018.4.1.20", "10.0.5.4", "Fix Pack 24"), ("2018.4.1.24", "10.0.5.5", "10.0.5.5 or"),
        ("2018.4.1.24", "10.0.8.0", "10.0.5.5 or"), ("2018.4.1.24", "10.0.5.4", None)]),
    "kong 3.x from 2.1.x at the lowest": (KONG, [
        ("2.0.5", "3.4.2", "from 2.1.x at the lowest"),
        ("1.5.1", "3.4.2", "from 2.1.x at the lowest"), ("2.8.4", "3.4.2", None)]),
    "api7 3.7.x from 3.3.x-3.6.x": (API7, [
        ("3.3.2", "v3.7.3", None), ("3.2.14", "v3.7.3", "not a supported"),
        ("3.7.3", "3.9.1", "skips a minor")]),
}


@pytest.mark.parametrize("case", list(PATH_CASES))
def test_path_tables(case: str) -> None:
    (rule_id, product), rows = PATH_CASES[case]
    params = _path_params(rule_id)
    for current, target, verdict in rows:
        problem = path_problem(parse_version(product, current),
                               parse_version(product, target), params)
        if verdict is None:
            assert problem is None, (current, target, problem)
            continue
        assert problem is not None and verdict in problem.message and not problem.unknown, \
            (current, target, problem)
        if verdict == "downgrade":
            assert problem.severity is Severity.ERROR
            assert problem.message.startswith(f"downgrade from {current.lstrip('v')} to "
                                              f"{target.lstrip('v')} is not supported; ")
