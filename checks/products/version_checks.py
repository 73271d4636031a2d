"""Templates about versions themselves: well-formed, agreeing, on a supported path."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from checks.engine.registry import Params, object_check, set_check
from checks.engine.upgrade_path import UpgradeContext
from checks.engine.versions import (
    UnquotedNumberError,
    Version,
    VersionError,
    VersionRange,
    is_unquoted_number,
    parse_version,
)
from checks.model import (
    JsonPath,
    NotEvaluated,
    Resource,
    Severity,
    Verdict,
    Violation,
    format_json_path,
)
from checks.objects import first_present, is_missing, is_unresolved, split_path
from checks.products.version_order import SOURCE_SCHEMA, Found, read_versions


@set_check("version-valid", {
    "required": ["product", "sources"],
    "additionalProperties": False,
    "properties": {
        "product": {"type": "string"},
        "sources": {"type": "array", "minItems": 1, "items": SOURCE_SCHEMA},
        "min_parts": {"type": "integer", "minimum": 1, "default": 1,
                      "description": "a full version has at least this many parts"},
        "label": {"type": "string", "default": "image tag"},
    },
})
def version_valid(resources: Sequence[Resource], params: Params,
                  ctx: UpgradeContext) -> Iterator[Verdict]:
    """Every version found (image tags, version fields) is a full, parseable version."""
    label = params.get("label", "image tag")
    for found in read_versions(params["product"], params["sources"], resources,
                               include_empty=True):
        if found.app_version:
            continue  # the chart's appVersion: a real release, just not written here
        if found.problem and found.problem.startswith("unrendered"):
            yield NotEvaluated(f"{label} holds an {found.problem}", found.path, found.resource)
        elif is_unquoted_number(found.text):
            yield Violation(f"{label} {found.problem}", found.path, observed=found.text,
                            resource=found.resource)
        elif found.text is None:
            yield Violation("the image has no tag, so it runs whatever 'latest' is; pin a "
                            "full version", found.path, resource=found.resource)
        elif found.version is None:
            yield Violation(f"{label} {found.text!r} is not a full version: {found.problem}",
                            found.path, observed=found.text, resource=found.resource)
        elif len(str(found.version).split("-")[0].split(".")) < params.get("min_parts", 1):
            yield Violation(f"{label} {found.version} is not a full version (at least "
                            f"{params['min_parts']} parts, e.g. 3.7.3)", found.path,
                            observed=found.text, resource=found.resource)
        elif found.prefix is not None:
            yield from _tag_convention(str(found.text), found.prefix, label, found)


def _tag_convention(text: str, prefix: str, label: str, found: Found) -> Iterator[Verdict]:
    """Tags of one image family all carry ``prefix`` (``v``) or none.

    A tag in the other spelling names an image the vendor does not publish
    under that convention; the pull fails or gets something unintended.
    """
    bare = text[1:] if text[:1] in ("v", "V") else text
    if prefix and not text.startswith(prefix):
        yield Violation(f"{label} {text!r} breaks the tag convention of this image: its "
                        f"tags start with {prefix!r}; use {prefix + bare!r}",
                        found.path, observed=text, expected=prefix + bare,
                        resource=found.resource)
    elif not prefix and text != bare:
        yield Violation(f"{label} {text!r} breaks the tag convention of this image: its "
                        f"tags have no leading {text[0]!r}; use {bare!r}",
                        found.path, observed=text, expected=bare, resource=found.resource)


@set_check("versions-agree", {
    "required": ["product", "sources", "label"],
    "additionalProperties": False,
    "properties": {
        "product": {"type": "string"},
        "label": {"type": "string"},
        "sources": {"type": "array", "minItems": 1, "items": SOURCE_SCHEMA},
    },
})
def versions_agree(resources: Sequence[Resource], params: Params,
                   ctx: UpgradeContext) -> Iterator[Verdict]:
    """All versions the sources find must be the same (components of one release)."""
    read = read_versions(params["product"], params["sources"], resources)
    for f in read:
        if is_unquoted_number(f.text):  # 3.10 read as 3.1: comparing it would mislead
            yield NotEvaluated(f"{params['label']} {f.problem}", f.path, f.resource)
    found = [f for f in read if f.version is not None]
    if len({f.version for f in found}) <= 1:
        return
    counts = Counter(f.version for f in found if f.version is not None)
    # The most common version is the reference; ties go to the highest.
    reference = max(counts, key=lambda v: (counts[v], v))
    # A component on its own version line (another major) is not another release.
    found = [f for f in found if not (f.own_line_if_other_major and f.version is not None
                                      and f.version.major != reference.major)]
    where = next(f for f in found if f.version == reference)
    for f in found:
        if f.version != reference:
            yield Violation(
                f"{params['label']} {f.version} differs from {reference} used by "
                f"{where.resource.ref} at {format_json_path(where.path)}; "
                "all components must run the same release",
                f.path, observed=str(f.version), expected=str(reference), resource=f.resource)


PATH_TABLE_SCHEMA: Mapping[str, Any] = {
    "type": "array",
    "items": {
        "type": "object", "required": ["to", "from"], "additionalProperties": False,
        "properties": {
            "to": {"type": "string", "description": "version range of targets this row covers"},
            "from": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                     "description": "version ranges that may upgrade directly"},
            "note": {"type": "string"},
        },
    },
}


def _in_any(version: Version, product: str, ranges: Sequence[str]) -> bool:
    return any(VersionRange(text, product).contains(version) for text in ranges)


@dataclass(frozen=True)
class PathVerdict:
    """Why a path is not supported (``unknown`` when the data has no answer)."""

    message: str
    severity: Severity | None = None
    unknown: bool = False


def path_problem(current: Version, target: Version, params: Params) -> PathVerdict | None:
    """Why (current -> target) is not a supported direct path, or None.

    Equal versions are no upgrade, so no path to judge. A downgrade is never
    a supported path: no vendor here migrates data back to an older release.
    """
    product = params["product"]
    if target == current:
        return None
    if target < current:
        return PathVerdict(f"downgrade from {current} to {target} is not supported; data is "
                           "migrated only forward, so going back means restoring the backup "
                           "taken before the upgrade (or the current or target version is "
                           "wrong)", Severity.ERROR)
    for row in params.get("forbidden", ()):
        if (VersionRange(row["from"], product).contains(current)
                and VersionRange(row["to"], product).contains(target)):
            severity = row.get("severity")
            return PathVerdict(row["message"], Severity.parse(severity) if severity else None)
    stream = params.get("stream_parts", 2)
    if params.get("allow_patch", True) and current.release[:stream] == target.release[:stream]:
        return None
    for row in params.get("table", ()):
        if VersionRange(row["to"], product).contains(target):
            if _in_any(current, product, row["from"]):
                return None
            note = f" ({row['note']})" if "note" in row else ""
            return PathVerdict(f"{current} -> {target} is not a supported direct path; supported "
                               f"sources for {row['to']}: {', '.join(row['from'])}{note}")
    same_major = current.major == target.major
    if params.get("allow_adjacent_minor", True) and same_major and target.minor - current.minor == 1:
        return None
    for pair in params.get("allowed_pairs", ()):
        if (VersionRange(pair["from"], product).contains(current)
                and VersionRange(pair["to"], product).contains(target)):
            return None
    if not params.get("allow_adjacent_minor", True):
        return PathVerdict(f"no supported-path data for {current} -> {target}", unknown=True)
    return PathVerdict(f"{current} -> {target} skips a minor version; only patch and "
                       "adjacent-minor upgrades are guaranteed")


def _version_field(product: str, resource: Resource, params: Params) -> JsonPath:
    """Where the object states its version (for a finding's line), if it does."""
    if params.get("version_sources"):
        found = next(iter(read_versions(product, params["version_sources"], [resource])), None)
        return found.path if found is not None else ()
    if params.get("version_fields"):
        value, where = first_present(resource.body,
                                     [split_path(f) for f in params["version_fields"]])
        return () if is_missing(value) else where
    return ()


@object_check("upgrade-path", {
    "required": ["product"],
    "additionalProperties": False,
    "properties": {
        "product": {"type": "string"},
        "version_fields": {"type": "array", "items": {"type": "string"},
                           "description": "the object's planned version (default: the "
                                          "scan's target version)"},
        "version_sources": {"type": "array", "items": SOURCE_SCHEMA, "minItems": 1,
                            "description": "the object's planned version, read like the "
                                           "version rules read it (Helm values fields or "
                                           "container images); instead of version_fields"},
        "table": PATH_TABLE_SCHEMA,
        "allow_patch": {"type": "boolean", "default": True},
        "stream_parts": {"type": "integer", "minimum": 1, "default": 2,
                         "description": "leading parts that make a release stream (patches "
                                        "within a stream are always fine): 3 for 10.0.8.x"},
        "allow_adjacent_minor": {"type": "boolean", "default": True},
        "allowed_pairs": {"type": "array", "items": {
            "type": "object", "required": ["from", "to"], "additionalProperties": False,
            "properties": {"from": {"type": "string"}, "to": {"type": "string"}}}},
        "forbidden": {"type": "array", "items": {
            "type": "object", "required": ["from", "to", "message"], "additionalProperties": False,
            "properties": {"from": {"type": "string"}, "to": {"type": "string"},
                           "message": {"type": "string"},
                           "severity": {"enum": ["blocker", "error", "warning", "info"]}}}},
    },
}, uses_context=True)
def upgrade_path(resource: Resource, params: Params, ctx: UpgradeContext) -> Iterator[Verdict]:
    """(current, target) must be a path the vendor supports directly."""
    product = params["product"]
    path = ctx.path(product)
    target = path.target
    where: JsonPath = ()
    # --target wins over what the object declares (RULES.md, "When rules apply").
    declared_wins = path.target_source != "--target"
    if params.get("version_sources") and declared_wins:
        found = next(iter(read_versions(product, params["version_sources"], [resource])), None)
        if found is not None and found.app_version:
            yield NotEvaluated(f"the planned {product} version is unknown: {found.problem}",
                               found.path)
            return
        if found is not None and is_unquoted_number(found.text):
            yield NotEvaluated(f"the planned {product} version {found.problem}", found.path)
            return
        if found is not None and found.version is not None:
            target, where = found.version, found.path
        elif found is not None and not str(found.problem).startswith("unrendered"):
            return  # malformed versions are other rules' findings
    elif params.get("version_fields") and declared_wins:
        value, where = first_present(resource.body, [split_path(f) for f in params["version_fields"]])
        if is_missing(value) or is_unresolved(resource, where, value):
            target = path.target
        else:
            try:
                target = parse_version(product, value)
            except UnquotedNumberError as exc:  # 3.10 read as 3.1: comparing would mislead
                yield NotEvaluated(f"the planned {product} version {exc}", where)
                return
            except VersionError:
                return  # malformed versions are other rules' findings
    if not declared_wins:
        where = _version_field(product, resource, params)  # the line to point at
    if path.current is None:
        yield NotEvaluated(f"the current {product} version is unknown; "
                           f"{ctx.current_hint(product)}", where)
        return
    if target is None:
        yield NotEvaluated(f"the target {product} version is unknown; give --target "
                           f"{product}=VERSION", where)
        return
    problem = path_problem(path.current, target, params)
    if problem is None:
        return
    if problem.unknown:
        yield NotEvaluated(problem.message, where)
    else:
        yield Violation(problem.message, where, observed=f"{path.current} -> {target}",
                        severity=problem.severity)
