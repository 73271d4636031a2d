"""The upgrade path per product: where we are (from) and where we go (target).

Sources, strongest first: the command line (``--from``/``--target``), then what
the scanned manifests declare (a CR's ``spec.version`` is its planned
version; an image tag is the version that will run). Product packages register
the functions that find those declarations. A rule whose ``when`` condition
needs a version nobody declared is *not evaluated*, and says which option
would supply it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from checks.engine.versions import Version, VersionError, VersionRange, parse_version
from checks.model import JsonPath, Resource
from checks.sources.backups import BackupEvidence

PRODUCTS = ("apiconnect", "api7", "kong", "3scale", "kubernetes")

#: A declaration: (version text, the resource declaring it, JSON path of the field).
Declaration = tuple[object, Resource, JsonPath]
DeclarationFinder = Callable[[Sequence[Resource]], Iterable[Declaration]]

_TARGET_FINDERS: dict[str, DeclarationFinder] = {}


def declares_target(product: str) -> Callable[[DeclarationFinder], DeclarationFinder]:
    """Register how a product's manifests declare the planned (target) version."""
    def decorate(func: DeclarationFinder) -> DeclarationFinder:
        _TARGET_FINDERS[product] = func
        return func
    return decorate


@dataclass(frozen=True)
class ProductPath:
    product: str
    current: Version | None = None
    target: Version | None = None
    current_source: str = ""
    target_source: str = ""

    def as_dict(self) -> dict[str, str | None]:
        return {
            "from": str(self.current) if self.current else None,
            "from_source": self.current_source or None,
            "to": str(self.target) if self.target else None,
            "to_source": self.target_source or None,
        }


@dataclass(frozen=True)
class PathCondition:
    """A rule's ``when``: ranges the current and/or target version must be in."""

    product: str
    from_range: VersionRange | None = None
    to_range: VersionRange | None = None


@dataclass(frozen=True)
class ConditionCheck:
    holds: bool | None  # None = undecidable
    reason: str


@dataclass
class UpgradeContext:
    """What checks may know beyond the objects: versions and backup evidence."""

    paths: dict[str, ProductPath] = field(default_factory=dict)
    backups: dict[str, BackupEvidence] = field(default_factory=dict)
    max_backup_age_seconds: float = 24 * 3600

    def path(self, product: str) -> ProductPath:
        return self.paths.get(product) or ProductPath(product)

    def check(self, cond: PathCondition) -> ConditionCheck:
        path = self.path(cond.product)
        for label, option, wanted, actual in (
            ("current", "--from", cond.from_range, path.current),
            ("target", "--target", cond.to_range, path.target),
        ):
            if wanted is None:
                continue
            if actual is None:
                return ConditionCheck(None, f"the {label} {cond.product} version is unknown; "
                                            f"give {option} {cond.product}=VERSION")
            if not wanted.contains(actual):
                return ConditionCheck(False, f"{label} {cond.product} version {actual} is not in "
                                             f"{wanted.text!r}")
        return ConditionCheck(True, "")


def parse_assignment(text: str, option: str) -> tuple[str, str]:
    """``PRODUCT=VALUE`` -> (product, value), with a usage message on error."""
    product, sep, value = text.partition("=")
    product, value = product.strip().lower(), value.strip()
    if not sep or not product or not value:
        raise ValueError(f"{option} expects PRODUCT=VERSION, got {text!r}")
    if product == "threescale":
        product = "3scale"
    if product not in PRODUCTS:
        raise ValueError(f"{option}: unknown product {product!r} (expected one of "
                         f"{', '.join(PRODUCTS)})")
    return product, value


def _given(product: str, versions: Mapping[str, str], option: str,
           problems: list[str]) -> Version | None:
    """A version from the command line; a malformed one is a usage problem."""
    if product not in versions:
        return None
    try:
        return parse_version(product, versions[product])
    except VersionError as exc:
        problems.append(f"{option} {product}: {exc}")
        return None


def declared(product: str, resources: Sequence[Resource]
             ) -> tuple[Version, Resource, JsonPath] | None:
    """The highest version the manifests declare for ``product``."""
    best: tuple[Version, Resource, JsonPath] | None = None
    finder = _TARGET_FINDERS.get(product)
    for text, resource, path in finder(resources) if finder else ():
        try:
            version = parse_version(product, text)
        except VersionError:
            continue  # malformed tags are reported by their own rules
        if best is None or version > best[0]:
            best = (version, resource, path)
    return best


def build_context(resources: Sequence[Resource], targets: Mapping[str, str],
                  currents: Mapping[str, str], locate: Callable[[Resource, JsonPath], str]
                  ) -> tuple[UpgradeContext, list[str]]:
    """Combine command-line versions with the manifests' declarations.

    Returns the context and problems with versions given on the command line
    (which are usage errors). The highest declared version is the target when
    several manifests declare one; the source names where it was found.
    """
    problems: list[str] = []
    ctx = UpgradeContext()
    for product in PRODUCTS:
        current = _given(product, currents, "--from", problems)
        target = _given(product, targets, "--target", problems)
        target_src = "--target" if target else ""
        if product not in targets:
            found = declared(product, resources)
            if found is not None:
                target, target_src = found[0], locate(found[1], found[2])
        if current or target:
            ctx.paths[product] = ProductPath(product, current, target,
                                             "--from" if current else "", target_src)
    return ctx, problems
