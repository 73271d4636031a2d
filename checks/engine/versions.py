"""Product version parsing and comparison.

Each product writes versions its own way: API Connect uses four parts with
build or fix suffixes (``10.0.8.3-2844``, ``10.0.5.1-ifix1``), API7 control
plane tags carry a leading ``v`` (``v3.7.3``) while its gateway tags do not,
Kong tags have two to four parts (``3.9``, ``3.4.1.1``). All are parsed into
the same ordered ``Version``; a malformed tag (``3.7.``, ``latest``) raises
``VersionError`` so a rule can report it instead of guessing.

Equality ignores trailing zero parts (``2.6`` is ``2.6.0``) and the ``v``
tag convention, which is never part of how a version is shown. A version
that YAML handed over as a number (``tag: 3.10`` reads as the float 3.1)
raises ``UnquotedNumberError``: its original text is gone, so comparing it
would compare the wrong version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering
from typing import TypeGuard

_VERSION = re.compile(r"^[vV]?(?P<release>\d+(?:\.\d+)*)(?:[-_+.](?P<suffix>[0-9A-Za-z][0-9A-Za-z.+_-]*))?$")
_IFIX = re.compile(r"ifix(\d+)", re.IGNORECASE)

#: product -> (minimum parts, parts compared). Shorter versions are padded with 0.
SCHEMES: dict[str, tuple[int, int]] = {
    "apiconnect": (3, 4),
    "api7": (2, 4),
    "kong": (2, 4),
    "3scale": (2, 3),
    "kubernetes": (2, 3),
}

#: API Connect's calendar-numbered releases (v2018.4.1.x) came before v10:
#: majors from here up are years, and sort below the v10+ numbering.
_APIC_CALENDAR_MAJOR = 2000
#: API Connect majors from here up (below the calendar years) are v10 and later.
_APIC_V10_MAJOR = 10


class VersionError(ValueError):
    pass


class UnquotedNumberError(VersionError):
    """The version is a YAML number, so the text it was written as is lost."""


@total_ordering
@dataclass(frozen=True, eq=False)
class Version:
    """A parsed version.

    ``era`` orders numbering schemes that restarted (API Connect went from
    5.x to 2018.x to 10.x): a higher era is newer whatever the numbers say.
    ``fix`` is the iFix number, ordered after its base level.
    """

    release: tuple[int, ...]
    fix: int = 0
    raw: str = ""
    era: int = 0

    @property
    def major(self) -> int:
        return self.release[0]

    @property
    def minor(self) -> int:
        return self.release[1] if len(self.release) > 1 else 0

    @property
    def level(self) -> Version:
        """The same version without its iFix (``10.0.8.8-ifix1`` -> ``10.0.8.8``)."""
        return Version(self.release, 0, self.raw, self.era)

    def _key(self) -> tuple[int, tuple[int, ...], int]:
        release = self.release
        while len(release) > 1 and release[-1] == 0:  # 2.6 == 2.6.0 == 2.6.0.0
            release = release[:-1]
        return self.era, release, self.fix

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __lt__(self, other: Version) -> bool:
        return self._key() < other._key()

    def __str__(self) -> str:
        """The version as written, without the ``v`` tag convention."""
        if self.raw:
            return self.raw[1:] if self.raw[0] in "vV" else self.raw
        return ".".join(map(str, self.release))


def is_unquoted_number(value: object) -> TypeGuard[int | float]:
    """A YAML int or float where a version (text) belongs."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def unquoted_number_problem(value: int | float) -> str:
    """Why a number cannot be a version, and what to write instead.

    The number is all that is left: ``3.10`` and ``3.1`` both load as 3.1,
    so the message names both readings rather than guessing one.
    """
    if isinstance(value, float):
        return (f"is an unquoted number: YAML reads it as the number {value!r}, so "
                f"{value!r}0 and {value!r} look the same; quote it as text "
                f"(\"{value!r}0\" or \"{value!r}\", whichever was meant)")
    return (f"is an unquoted number: YAML reads it as the number {value}; quote it as "
            f"text (\"{value}\")")


def _era(product: str, release: tuple[int, ...]) -> int:
    if product == "apiconnect" and _APIC_V10_MAJOR <= release[0] < _APIC_CALENDAR_MAJOR:
        return 1
    return 0


def parse_version(product: str, text: object) -> Version:
    """Parse ``text`` with ``product``'s scheme; raise VersionError with why."""
    if is_unquoted_number(text):
        raise UnquotedNumberError(unquoted_number_problem(text))
    if not isinstance(text, str):
        raise VersionError(f"{text!r} is not a version")
    raw = text.strip()
    min_parts, parts = SCHEMES.get(product, (1, 4))
    if not raw:
        raise VersionError("empty version")
    if raw.endswith("."):
        raise VersionError(f"{raw!r} is incomplete (ends with '.')")
    match = _VERSION.match(raw)
    if not match:
        raise VersionError(f"{raw!r} is not a version")
    release = tuple(_number(p, raw) for p in match.group("release").split("."))
    if len(release) < min_parts:
        raise VersionError(f"{raw!r} has {len(release)} part(s); {product} versions have "
                           f"at least {min_parts}")
    if len(release) > parts:
        raise VersionError(f"{raw!r} has more than {parts} parts")
    release = release + (0,) * (parts - len(release))
    suffix = match.group("suffix") or ""
    fix_match = _IFIX.search(suffix)
    fix = _number(fix_match.group(1), raw) if fix_match else 0
    return Version(release, fix, raw, _era(product, release))


#: No release number has more digits; a longer one is not a version (and
#: Python refuses to convert more than 4,300 digits at all).
_MAX_DIGITS = 9


def _number(digits: str, raw: str) -> int:
    if len(digits) > _MAX_DIGITS:
        shown = raw if len(raw) <= 40 else f"{raw[:40]}..."
        raise VersionError(f"{shown!r} has a number of {len(digits)} digits; not a version")
    return int(digits)


def try_parse(product: str, text: object) -> Version | None:
    try:
        return parse_version(product, text)
    except VersionError:
        return None


_CLAUSE = re.compile(r"^(?P<op>>=|<=|==|!=|>|<|=)?\s*(?P<version>[vV]?[0-9][0-9A-Za-z.*+_-]*)$")


@dataclass(frozen=True)
class VersionRange:
    """A conjunction of clauses like ``>=3.3, <3.5`` or a wildcard ``3.4.x``.

    A bound without an iFix matches the whole level: ``10.0.8.8`` contains
    ``10.0.8.8-ifix1``, as IBM's tables list a level for all its iFixes.
    """

    text: str
    product: str

    def contains(self, version: Version) -> bool:
        return all(self._clause_holds(c.strip(), version) for c in self.text.split(",") if c.strip())

    def _clause_holds(self, clause: str, version: Version) -> bool:
        match = _CLAUSE.match(clause)
        if not match:
            raise VersionError(f"bad version range clause {clause!r}")
        op = match.group("op") or "=="
        target = match.group("version")
        if target.endswith((".x", ".*")):
            prefix = tuple(_number(p, target) for p in target[:-2].lstrip("vV").split("."))
            inside = version.release[: len(prefix)] == prefix
            if op in ("==", "="):
                return inside
            if op == "!=":
                return not inside
            raise VersionError(f"wildcard {target!r} only works with == or !=")
        other = parse_version(self.product, target)
        if other.fix == 0:  # a bound without an iFix names a level: its iFixes are that level
            version = version.level
        return {
            ">=": version >= other, "<=": version <= other, ">": version > other,
            "<": version < other, "==": version == other, "=": version == other,
            "!=": version != other,
        }[op]

    def validate(self) -> None:
        """Raise VersionError when the range text cannot be evaluated."""
        probe = Version((0, 0, 0, 0))
        self.contains(probe)
