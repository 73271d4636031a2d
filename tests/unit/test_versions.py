"""Version parsing per product, ordering and ranges."""

from __future__ import annotations

import pytest

from checks.engine.versions import VersionError, VersionRange, parse_version


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
    assert (version.release, version.fix, str(version)) == (release, fix, text)


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
