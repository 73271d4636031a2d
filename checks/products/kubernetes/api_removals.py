"""API versions the target Kubernetes no longer serves (or soon will not).

The table of removals is the rule's params (data, versioned with the rule
file), not code: each entry has the group/version, the kinds, the release
that deprecated it, the release that removed it and the replacement.

Without ``--target kubernetes`` the target is the newest Kubernetes release
the table knows, as pluto does: an object whose apiVersion some release
removed is reported rather than passed because nobody said which release the
cluster will run; each finding says which target was assumed.

Entries of another ``software`` (cert-manager) are API versions that software
removed: the Kubernetes version does not decide them, so they are always
reported, in that software's words.

A live object is judged by the apiVersion its manifest was last applied in
(``kubectl.kubernetes.io/last-applied-configuration``), as pluto does for
clusters: the API server answers in whatever version the client asks and
converts what it stores, so the version an object is read in says nothing;
the one the user's manifests apply is what breaks after the upgrade. A live
object without that annotation has nothing to judge.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from checks.engine.registry import Params, object_check
from checks.engine.upgrade_path import UpgradeContext
from checks.engine.versions import Version, parse_version
from checks.model import JsonPath, NotEvaluated, Resource, Severity, Verdict, Violation
from checks.objects import is_mapping
from checks.sources.live.origins import is_live_origin

KUBERNETES = "kubernetes"
_RELEASE = {"type": "string", "pattern": r"^\d+\.\d+$"}
_ENTRY = {
    "type": "object",
    "required": ["apiVersion", "kinds", "deprecated_in", "removed_in", "replacement"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"type": "string"},
        "kinds": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "software": {"enum": [KUBERNETES, "cert-manager"],
                     "description": "whose release removed it (default: kubernetes)"},
        "deprecated_in": _RELEASE,
        "removed_in": _RELEASE,
        "replacement": {"type": "string"},
    },
}

Entry = Mapping[str, Any]
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_LAST_APPLIED_PATH: JsonPath = ("metadata", "annotations", LAST_APPLIED)


Table = tuple[dict[tuple[str, str], Entry], Version | None]
#: id(removals list) -> (that list, its table): built once per rule, not per
#: object (the list is kept so its id stays unique while cached).
_TABLES: dict[int, tuple[Sequence[Entry], Table]] = {}


def _table(removals: Sequence[Entry]) -> Table:
    """(apiVersion, kind) -> entry, and the newest Kubernetes release in the table."""
    cached = _TABLES.get(id(removals))
    if cached is not None and cached[0] is removals:
        return cached[1]
    by_key = {(e["apiVersion"], kind): e for e in removals for kind in e["kinds"]}
    newest = max((parse_version(KUBERNETES, e[key]) for e in removals
                  if e.get("software", KUBERNETES) == KUBERNETES
                  for key in ("deprecated_in", "removed_in")), default=None)
    _TABLES[id(removals)] = (removals, (by_key, newest))
    return by_key, newest


def _newest_release(params: Params) -> tuple[str, str] | None:
    """The target judged against without ``--target kubernetes``."""
    newest = _table(params["removals"])[1]
    return (KUBERNETES, str(newest)) if newest is not None else None


@object_check("api-removed", {
    "required": ["removals"],
    "additionalProperties": False,
    "properties": {"removals": {"type": "array", "minItems": 1, "items": _ENTRY}},
}, uses_context=True, assumes_target=_newest_release)
def api_removed(resource: Resource, params: Params, ctx: UpgradeContext) -> Iterator[Verdict]:
    """The object's apiVersion is removed (blocker) or deprecated (warning) at the target."""
    by_key, newest = _table(params["removals"])
    api_version, applied = resource.api_version, ""
    path: JsonPath = ("apiVersion",)
    if is_live_origin(resource.origin.path):
        last = _last_applied_api_version(resource)
        if last is None:
            return
        api_version, path = last, _LAST_APPLIED_PATH
        applied = f" (last applied in that version, {LAST_APPLIED})"
    entry = by_key.get((api_version, resource.kind))
    if entry is None:
        return
    what = f"{api_version} {resource.kind}{applied}"
    software = entry.get("software", KUBERNETES)
    if software != KUBERNETES:
        yield Violation(f"{what} is a legacy {software} API version: {software} "
                        f"{entry['removed_in']} no longer serves it; use {entry['replacement']}",
                        path, observed=api_version,
                        expected=entry["replacement"])
        return
    given = ctx.path(KUBERNETES).target
    target = given or newest
    if target is None:  # a table of cert-manager entries only, and no --target
        yield NotEvaluated(f"{what} is removed in Kubernetes {entry['removed_in']}, but the "
                           "target Kubernetes version is unknown; give --target "
                           "kubernetes=1.xx", path)
        return
    said = (f"target {target}" if given else
            f"target: newest in the table, {newest} — give --target kubernetes=X")
    removed = parse_version(KUBERNETES, entry["removed_in"])
    deprecated = parse_version(KUBERNETES, entry["deprecated_in"])
    if target >= removed:
        yield Violation(f"{what} is no longer served in Kubernetes {entry['removed_in']} "
                        f"({said}); use {entry['replacement']}", path,
                        observed=api_version, expected=entry["replacement"])
    elif target >= deprecated:
        yield Violation(f"{what} is deprecated since Kubernetes {entry['deprecated_in']} and "
                        f"removed in {entry['removed_in']} ({said}); migrate to "
                        f"{entry['replacement']} before that upgrade", path,
                        observed=api_version, expected=entry["replacement"],
                        severity=Severity.WARNING)


def _last_applied_api_version(resource: Resource) -> str | None:
    """The apiVersion of the manifest ``kubectl apply`` last applied, when
    the object carries one (a JSON document in an annotation)."""
    metadata = resource.body.get("metadata")
    annotations = metadata.get("annotations") if is_mapping(metadata) else None
    text = annotations.get(LAST_APPLIED) if is_mapping(annotations) else None
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        applied = json.loads(text)
    except (ValueError, RecursionError):
        return None
    version = applied.get("apiVersion") if is_mapping(applied) else None
    return version if isinstance(version, str) and version else None
