"""API versions the target Kubernetes no longer serves (or soon will not).

The table of removals is the rule's params (data, versioned with the rule
file), not code: each entry has the group/version, the kinds, the release
that deprecated it, the release that removed it and the replacement.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.engine.registry import Params, object_check
from checks.engine.upgrade_path import UpgradeContext
from checks.engine.versions import parse_version
from checks.model import NotEvaluated, Resource, Severity, Verdict, Violation

_ENTRY = {
    "type": "object",
    "required": ["apiVersion", "kinds", "removed_in", "replacement"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"type": "string"},
        "kinds": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "deprecated_in": {"type": "string"},
        "removed_in": {"type": "string"},
        "replacement": {"type": "string"},
    },
}


@object_check("api-removed", {
    "required": ["removals"],
    "additionalProperties": False,
    "properties": {"removals": {"type": "array", "minItems": 1, "items": _ENTRY}},
}, uses_context=True)
def api_removed(resource: Resource, params: Params, ctx: UpgradeContext) -> Iterator[Verdict]:
    """The object's apiVersion is removed (blocker) or deprecated (warning) at the target."""
    entry = next((e for e in params["removals"] if e["apiVersion"] == resource.api_version
                  and resource.kind in e["kinds"]), None)
    if entry is None:
        return
    target = ctx.path("kubernetes").target
    if target is None:
        yield NotEvaluated(f"{resource.api_version} {resource.kind} is removed in Kubernetes "
                           f"{entry['removed_in']}, but the target Kubernetes version is unknown; "
                           "give --target kubernetes=1.xx", ("apiVersion",))
        return
    removed = parse_version("kubernetes", entry["removed_in"])
    deprecated = entry.get("deprecated_in")
    if target >= removed:
        yield Violation(f"{resource.api_version} {resource.kind} is no longer served in "
                        f"Kubernetes {entry['removed_in']} (target {target}); use "
                        f"{entry['replacement']}", ("apiVersion",),
                        observed=resource.api_version, expected=entry["replacement"])
    elif deprecated and target >= parse_version("kubernetes", deprecated):
        yield Violation(f"{resource.api_version} {resource.kind} is deprecated since "
                        f"{deprecated} and removed in {entry['removed_in']}; migrate to "
                        f"{entry['replacement']} before that upgrade", ("apiVersion",),
                        observed=resource.api_version, expected=entry["replacement"],
                        severity=Severity.WARNING)
