"""Product version parsing and comparison.

Each product writes versions its own way: API Connect uses four parts with
build or fix suffixes (``10.0.8.3-2844``, ``10.0.5.1-ifix1``), API7 control
plane tags carry a leading ``v`` (``v3.7.3``) while its gateway tags do not,
Kong tags have two to four parts (``3.9``, ``3.4.1.1``). All are parsed into
the same ordered ``Version``; a malformed tag (``3.7.``, ``latest``) raises
``VersionError`` so a rule can report it instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

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


class VersionError(ValueError):
    pass


@total_ordering
@dataclass(frozen=True)
class Version:
    release: tuple[int, ...]
    fix: int = 0
    raw: str = ""

    @property
    def major(self) -> int:
        return self.release[0]

    @property
    def minor(self) -> int:
        return self.release[1] if len(self.release) > 1 else 0

    def _key(self) -> tuple[tuple[int, ...], int]:
        return self.release, self.fix

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __lt__(self, other: Version) -> bool:
        return self._key() < other._key()

    def __str__(self) -> str:
        return self.raw or ".".join(map(str, self.release))


def parse_version(product: str, text: object) -> Version:
    """Parse ``text`` with ``product``'s scheme; raise VersionError with why."""
    if not isinstance(text, (str, int, float)) or isinstance(text, bool):
        raise VersionError(f"{text!r} is not a version")
    raw = str(text).strip()
    min_parts, parts = SCHEMES.get(product, (1, 4))
    if not raw:
        raise VersionError("empty version")
    if raw.endswith("."):
        raise VersionError(f"{raw!r} is incomplete (ends with '.')")
    match = _VERSION.match(raw)
    if not match:
        raise VersionError(f"{raw!r} is not a version")
    release = tuple(int(p) for p in match.group("release").split("."))
    if len(release) < min_parts:
        raise VersionError(f"{raw!r} has {len(release)} part(s); {product} versions have "
                           f"at least {min_parts}")
    if len(release) > parts:
        raise VersionError(f"{raw!r} has more than {parts} parts")
    release = release + (0,) * (parts - len(release))
    suffix = match.group("suffix") or ""
    fix_match = _IFIX.search(suffix)
    fix = int(fix_match.group(1)) if fix_match else 0
    return Version(release, fix, raw)


def try_parse(product: str, text: object) -> Version | None:
    try:
        return parse_version(product, text)
    except VersionError:
        return None


_CLAUSE = re.compile(r"^(?P<op>>=|<=|==|!=|>|<|=)?\s*(?P<version>[vV]?[0-9][0-9A-Za-z.*+_-]*)$")


@dataclass(frozen=True)
class VersionRange:
    """A conjunction of clauses like ``>=3.3, <3.5`` or a wildcard ``3.4.x``."""

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
            prefix = tuple(int(p) for p in target[:-2].lstrip("vV").split("."))
            inside = version.release[: len(prefix)] == prefix
            if op in ("==", "="):
                return inside
            if op == "!=":
                return not inside
            raise VersionError(f"wildcard {target!r} only works with == or !=")
        other = parse_version(self.product, target)
        return {
            ">=": version >= other, "<=": version <= other, ">": version > other,
            "<": version < other, "==": version == other, "=": version == other,
            "!=": version != other,
        }[op]

    def validate(self) -> None:
        """Raise VersionError when the range text cannot be evaluated."""
        probe = Version((0, 0, 0, 0))
        self.contains(probe)
