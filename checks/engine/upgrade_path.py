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
from dataclasses import dataclass, field, replace

from checks import timings
from checks.engine.installations import InstallationMap, group_by_installation, installation_of
from checks.engine.versions import Version, VersionError, VersionRange, parse_version
from checks.model import JsonPath, Resource
from checks.sources.backups import BackupEvidence
from checks.sources.live.model import Unavailable
from checks.sources.live.origins import is_live_origin

PRODUCTS = ("apiconnect", "api7", "kong", "3scale", "kubernetes")

#: A declaration: (version text, the resource declaring it, JSON path of the field).
Declaration = tuple[object, Resource, JsonPath]
DeclarationFinder = Callable[[Sequence[Resource]], Iterable[Declaration]]

_TARGET_FINDERS: dict[str, DeclarationFinder] = {}
_CURRENT_FINDERS: dict[str, DeclarationFinder] = {}


def declares_target(product: str) -> Callable[[DeclarationFinder], DeclarationFinder]:
    """Register how a product's manifests declare the planned (target) version."""
    def decorate(func: DeclarationFinder) -> DeclarationFinder:
        _TARGET_FINDERS[product] = func
        return func
    return decorate


def declares_current(product: str) -> Callable[[DeclarationFinder], DeclarationFinder]:
    """Register how a product's objects say which version runs now (a status field)."""
    def decorate(func: DeclarationFinder) -> DeclarationFinder:
        _CURRENT_FINDERS[product] = func
        return func
    return decorate


@dataclass(frozen=True)
class ProductPath:
    product: str
    current: Version | None = None
    target: Version | None = None
    current_source: str = ""
    target_source: str = ""
    #: The lowest version the installation's objects declare: when it differs
    #: from the current version some component still moves (a downgrade, a
    #: component left behind), so an upgrade is under way even if the highest
    #: declared version is the current one.
    floor: Version | None = None

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
    """What checks may know beyond the objects, for one installation: its
    versions and backup evidence (see ``checks.engine.installations``)."""

    paths: dict[str, ProductPath] = field(default_factory=dict)
    backups: dict[str, BackupEvidence] = field(default_factory=dict)
    max_backup_age_seconds: float = 24 * 3600
    installation: str = ""
    #: Why a product's backup evidence cannot be matched to this installation
    #: (a product-wide ``--backup`` and several installations of the product).
    backup_ambiguity: dict[str, str] = field(default_factory=dict)
    #: For whole-scan checks: the rule's objects in the *other* installations,
    #: so a component whose installation lacks its reference (a remote gateway)
    #: can join the product's only reference in the scan.
    elsewhere: Mapping[str, Sequence[Resource]] = field(default_factory=dict)
    #: The ``--base`` revision, when the scan has one.
    base_ref: str = ""
    #: When the live objects were read (epoch seconds), to judge their ages
    #: (a snapshot's recording time, so a replay judges as the recording did).
    observed_at: float | None = None
    #: The live reads that did not happen (a kind not served, a refused
    #: list): a check that needs one of several kinds can tell "none exists"
    #: from "none could be read".
    unread: Sequence[Unavailable] = ()

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
                give = (self.current_hint(cond.product) if label == "current"
                        else f"give {option} {cond.product}=VERSION")
                return ConditionCheck(None, f"the {label} {cond.product} version{self._of()} "
                                            f"is unknown; {give}")
            if not wanted.contains(actual):
                where = f" ({self.installation})" if self.installation else ""
                return ConditionCheck(False, f"{label} {cond.product} version {actual} is not in "
                                             f"{wanted.text!r}{where}")
        return ConditionCheck(True, "")

    def planned(self, product: str) -> ConditionCheck:
        """Is an upgrade of ``product`` known to be planned here (current != target)?"""
        path = self.path(product)
        if path.target is None:
            return ConditionCheck(None, f"the target {product} version{self._of()} is unknown; "
                                        f"give --target {product}=VERSION")
        if path.current is None:
            return ConditionCheck(None, f"the current {product} version{self._of()} is unknown, "
                                        "so it is not known whether an upgrade is planned; "
                                        f"{self.current_hint(product)}")
        if path.current == path.target and path.floor in (None, path.current):
            return ConditionCheck(False, f"no {product} upgrade planned{self._of()}: current and "
                                         f"target are both {path.target}")
        return ConditionCheck(True, "")

    def not_planned(self, product: str) -> str | None:
        """Why no upgrade is planned, when that is known (current == target)."""
        check = self.planned(product)
        return check.reason if check.holds is False else None

    def current_hint(self, product: str) -> str:
        """How to supply the current version (the ``--base`` given had none here)."""
        if self.base_ref:
            return (f"nothing at --base {self.base_ref} declares it (new in this change?); "
                    f"give --from {product}=VERSION")
        return f"give --from {product}=VERSION or --base REF"

    def _of(self) -> str:
        return f" of {self.installation}" if self.installation else ""


@dataclass
class ScanContext:
    """Every installation's context, and the command-line defaults for the
    installations the manifests say nothing about."""

    installations: dict[str, UpgradeContext] = field(default_factory=dict)
    default: UpgradeContext = field(default_factory=UpgradeContext)
    mapping: InstallationMap = field(default_factory=InstallationMap)
    #: Every ``--backup`` as given: ``PRODUCT`` or ``PRODUCT@INSTALLATION`` -> evidence.
    given_backups: dict[str, BackupEvidence] = field(default_factory=dict)
    #: Product -> the target a rule assumes because none was given (the
    #: newest Kubernetes release of the API removal table): shown in reports.
    assumed_targets: dict[str, str] = field(default_factory=dict)

    def of(self, installation: str) -> UpgradeContext:
        found = self.installations.get(installation)
        if found is None:
            found = self.installations[installation] = replace(
                self.default, installation=installation, paths=dict(self.default.paths),
                backups=dict(self.default.backups),
                backup_ambiguity=dict(self.default.backup_ambiguity))
        return found

    def for_resource(self, resource: Resource) -> UpgradeContext:
        return self.of(installation_of(resource, self.mapping))

    def path(self, product: str) -> ProductPath:
        """The product's path, when the scan holds one installation of it (or
        only the command line's); per installation: ``of(name).path(product)``."""
        return self.paths.get(product) or self.default.path(product)

    @property
    def paths(self) -> dict[str, ProductPath]:
        """One path per product for a scan with a single installation of it (the
        report's summary); with several, each installation's is in
        ``installations``."""
        merged = dict(self.default.paths)
        differ: set[str] = set()
        seen: set[str] = set()
        for ctx in self.installations.values():
            for product, path in ctx.paths.items():
                if product in seen and merged[product] != path:
                    differ.add(product)  # several installations, several paths
                seen.add(product)
                merged[product] = path
        return {p: path for p, path in merged.items() if p not in differ}


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


#: A version some object declares, the object, and the field it is declared in.
DeclaredVersion = tuple[Version, Resource, JsonPath]


def declarations(product: str, resources: Sequence[Resource],
                 finders: Mapping[str, DeclarationFinder] | None = None) -> list[DeclaredVersion]:
    """Every version the manifests declare for ``product``, in file order: by
    default the planned versions, with ``finders=_CURRENT_FINDERS`` the running
    ones. The highest and the lowest are taken from one list (``extreme``): a
    finder walks every object of the installation, some of them three times."""
    finder = (_TARGET_FINDERS if finders is None else finders).get(product)
    out = []
    for text, resource, path in finder(resources) if finder else ():
        try:
            out.append((parse_version(product, text), resource, path))
        except VersionError:
            continue  # malformed tags are reported by their own rules
    return out


def extreme(found: Sequence[DeclaredVersion], lowest: bool = False) -> DeclaredVersion | None:
    """The first highest (or ``lowest``) of ``found``."""
    best: DeclaredVersion | None = None
    for item in found:
        if best is None or (item[0] < best[0] if lowest else item[0] > best[0]):
            best = item
    return best


def declared(product: str, resources: Sequence[Resource], lowest: bool = False,
             finders: Mapping[str, DeclarationFinder] | None = None) -> DeclaredVersion | None:
    """The highest (or ``lowest``) version the manifests declare for ``product``
    (see ``declarations``)."""
    return extreme(declarations(product, resources, finders), lowest)


def running(product: str, resources: Sequence[Resource]
            ) -> tuple[Version, Resource, JsonPath] | None:
    """The lowest version the objects say is running now (a status field)."""
    return declared(product, resources, lowest=True, finders=_CURRENT_FINDERS)


def live_current(product: str, resources: Sequence[Resource]
                 ) -> tuple[Version, Resource, JsonPath] | None:
    """The version a cluster runs now: per object its reported version (a
    status field) or, without one, the version it declares (an image tag of a
    running workload, a GatewayCluster's ``spec.version``); the lowest of them."""
    reported: dict[int, tuple[Version, Resource, JsonPath]] = {}
    found: list[tuple[Version, Resource, JsonPath]] = []
    for finders in (_CURRENT_FINDERS, _TARGET_FINDERS):
        finder = finders.get(product)
        for text, resource, path in finder(resources) if finder else ():
            if finders is _TARGET_FINDERS and id(resource) in reported:
                continue
            try:
                version = parse_version(product, text)
            except VersionError:
                continue
            if finders is _CURRENT_FINDERS:
                reported[id(resource)] = (version, resource, path)
            found.append((version, resource, path))
    return min(found, key=lambda item: item[0]) if found else None


def declaring_resources(resources: Sequence[Resource], mapping: InstallationMap
                        ) -> list[tuple[Resource, list[JsonPath]]]:
    """The objects whose declarations decide every installation's versions, each
    with the fields it declares them in: with ``--jobs`` each worker sends only
    these, with the lines of those fields, and the parent's ``build_contexts``
    over them gives what it would give over everything."""
    out: dict[int, tuple[Resource, list[JsonPath]]] = {}
    for group in group_by_installation(resources, mapping).values():
        for product in PRODUCTS:
            planned = declarations(product, group)
            for found in (extreme(planned), extreme(planned, lowest=True),
                          running(product, group)):
                if found is not None:
                    fields = out.setdefault(id(found[1]), (found[1], []))[1]
                    if found[2] not in fields:
                        fields.append(found[2])
    return list(out.values())


@dataclass(frozen=True)
class ContextOptions:
    """What the command line says about versions and backups."""

    targets: Mapping[str, str] = field(default_factory=dict)
    currents: Mapping[str, str] = field(default_factory=dict)
    #: ``PRODUCT`` or ``PRODUCT@INSTALLATION`` -> verified evidence.
    backups: Mapping[str, BackupEvidence] = field(default_factory=dict)
    max_backup_age_seconds: float = 24 * 3600
    mapping: InstallationMap = field(default_factory=InstallationMap)
    #: ``--base REF``: the objects at the merge request's base revision.
    base_ref: str = ""
    base_resources: Sequence[Resource] = ()
    #: Every object a live source read (``--cluster``/``--snapshot``), those a
    #: manifest stands for included: what the cluster runs now.
    live_resources: Sequence[Resource] = ()
    #: When the live objects were read (epoch seconds).
    observed_at: float | None = None
    #: The live reads that did not happen.
    unread: Sequence[Unavailable] = ()


#: Per installation and product: (current, where it is read, a newer version
#: the cluster is already moving to or None, where that is declared).
LiveVersions = dict[str, tuple[Version, str, Version | None, str]]


def _live_versions(options: ContextOptions, locate: Callable[[Resource, JsonPath], str]
                   ) -> dict[str, LiveVersions]:
    """Each installation's running versions, read from the live objects; and
    the version a live CR already asks for when it is newer (an upgrade the
    operator is carrying out: ``spec.version`` ahead of ``status``)."""
    out: dict[str, LiveVersions] = {}
    for name, group in group_by_installation(options.live_resources, options.mapping).items():
        for product in PRODUCTS:
            now = live_current(product, group)
            if now is None:
                continue
            asked = declared(product, group)
            ahead = asked if asked is not None and asked[0] > now[0] else None
            out.setdefault(name, {})[product] = (
                now[0], locate(now[1], now[2]),
                ahead[0] if ahead else None, locate(ahead[1], ahead[2]) if ahead else "")
    return out


def _base_versions(options: ContextOptions) -> dict[str, dict[str, tuple[Version, str]]]:
    """Each installation's declared versions at ``--base``: what runs now."""
    out: dict[str, dict[str, tuple[Version, str]]] = {}
    for name, group in group_by_installation(options.base_resources, options.mapping).items():
        for product in PRODUCTS:
            found = declared(product, group)
            if found is not None:
                out.setdefault(name, {})[product] = (
                    found[0], f"{found[1].origin.path} at --base {options.base_ref}")
    return out


def _installation_paths(group: Sequence[Resource], cli_current: Mapping[str, Version],
                        cli_target: Mapping[str, Version],
                        locate: Callable[[Resource, JsonPath], str],
                        at_base: Mapping[str, tuple[Version, str]],
                        live: LiveVersions | None = None) -> dict[str, ProductPath]:
    """One installation's path per product (see RULES.md, "When rules apply"):
    ``--from``, then the live cluster, then the version declared at ``--base``,
    is what runs now; ``--target`` wins over a declared version; a declared
    version older than ``--target`` is what runs now; a status field says what
    runs now. Live objects never declare the target (what runs is not what is
    planned), unless a live CR already asks for a newer version."""
    paths = {}
    live = live or {}
    planned = [r for r in group if not is_live_origin(r.origin.path)]
    for product in PRODUCTS:
        current, target = cli_current.get(product), cli_target.get(product)
        current_src = "--from" if current else ""
        if current is None and product in live:
            current, current_src = live[product][0], f"{live[product][1]} (live)"
        if current is None and product in at_base:
            current, current_src = at_base[product]
        target_src = "--target" if target else ""
        declared_planned = declarations(product, planned)
        found = extreme(declared_planned)
        moving = live.get(product)
        if target is None and found is None and moving is not None and moving[2] is not None:
            target, target_src = moving[2], f"{moving[3]} (live, not yet reconciled)"
        if target is None and found is not None:
            target, target_src = found[0], locate(found[1], found[2])
        elif target is not None and found is not None and current is None and found[0] < target:
            current = found[0]
            current_src = f"{locate(found[1], found[2])} (declared; --target is newer)"
        if current is None:
            # Objects that carry a status are an export of what runs: what runs
            # is then the lowest version reported or declared (a component that
            # is not being upgraded declares the version it runs).
            now = running(product, group)
            oldest = extreme(declared_planned if len(planned) == len(group)
                             else declarations(product, group), lowest=True)
            if now is not None and oldest is not None and oldest[0] < now[0]:
                now = oldest
            if now is not None:
                current, current_src = now[0], locate(now[1], now[2])
        if current or target:
            # --target wins: then what the objects declare does not say whether
            # an upgrade is under way (RULES.md, "When rules apply").
            floor = None if target_src == "--target" else extreme(declared_planned, lowest=True)
            paths[product] = ProductPath(product, current, target, current_src, target_src,
                                         floor[0] if floor else None)
    return paths


def _declares(ctx: UpgradeContext, product: str) -> bool:
    """Do this installation's own objects declare a version of ``product``?"""
    path = ctx.paths.get(product)
    return path is not None and (path.target_source not in ("", "--target")
                                 or path.current_source not in ("", "--from"))


def _share_backups(ctx: ScanContext, evidence: Mapping[str, BackupEvidence]) -> None:
    """``--backup PRODUCT@NAME`` backs up that installation; a product-wide
    ``--backup PRODUCT`` the product's only installation. With several, a
    backup of one must not pass for the others: they are told to name it."""
    for key, found in evidence.items():
        product, _, name = key.partition("@")
        if name:
            continue
        holders = sorted(c.installation for c in ctx.installations.values()
                         if _declares(c, product))
        if len(holders) <= 1:
            ctx.default.backups[product] = found
        else:
            ctx.default.backup_ambiguity[product] = (
                f"--backup {product}=PATH does not say which of the {len(holders)} {product} "
                f"installations ({', '.join(holders)}) it backs up; give "
                f"--backup {product}@INSTALLATION=PATH for each")
    for c in ctx.installations.values():
        c.backups.update(ctx.default.backups)
        c.backup_ambiguity.update(ctx.default.backup_ambiguity)
    for key, found in evidence.items():
        product, _, name = key.partition("@")
        if name:
            target = ctx.of(name)
            target.backups[product] = found
            target.backup_ambiguity.pop(product, None)


def build_contexts(resources: Sequence[Resource], options: ContextOptions,
                   locate: Callable[[Resource, JsonPath], str]) -> tuple[ScanContext, list[str]]:
    """Every installation's versions and backups.

    Returns the context and problems with versions given on the command line
    (which are usage errors).
    """
    with timings.phase("context"):
        return _build_contexts(resources, options, locate)


def _build_contexts(resources: Sequence[Resource], options: ContextOptions,
                    locate: Callable[[Resource, JsonPath], str]
                    ) -> tuple[ScanContext, list[str]]:
    problems: list[str] = []
    cli_current = {p: v for p in PRODUCTS
                   if (v := _given(p, options.currents, "--from", problems)) is not None}
    cli_target = {p: v for p in PRODUCTS
                  if (v := _given(p, options.targets, "--target", problems)) is not None}
    default = UpgradeContext(
        base_ref=options.base_ref,
        paths={p: ProductPath(p, cli_current.get(p), cli_target.get(p),
                              "--from" if p in cli_current else "",
                              "--target" if p in cli_target else "")
               for p in PRODUCTS if p in cli_current or p in cli_target},
        max_backup_age_seconds=options.max_backup_age_seconds, observed_at=options.observed_at,
        unread=options.unread)
    ctx = ScanContext(default=default, mapping=options.mapping,
                      given_backups=dict(options.backups))
    at_base = _base_versions(options)
    live = _live_versions(options, locate)
    groups = group_by_installation(resources, options.mapping)
    for name in [*groups, *(n for n in live if n not in groups)]:
        ctx.installations[name] = UpgradeContext(
            base_ref=options.base_ref,
            paths=_installation_paths(groups.get(name, []), cli_current, cli_target, locate,
                                      at_base.get(name, {}), live.get(name)),
            max_backup_age_seconds=options.max_backup_age_seconds, installation=name,
            observed_at=options.observed_at, unread=options.unread)
    _share_backups(ctx, options.backups)
    return ctx, problems
