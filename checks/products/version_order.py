"""Version order between two components found anywhere in the scan.

"Management before gateway" (API Connect), "control plane before data
plane" (API7, Kong): the *subject* component must not run a newer version
than the *reference* component. Both sides are described in the rule's
params as version sources (CR fields or container images, or Helm values
fields), so the template holds no product names.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from checks.engine.installations import how_to_name
from checks.engine.registry import Params, set_check
from checks.engine.upgrade_path import UpgradeContext
from checks.engine.versions import Version, VersionError, is_unquoted_number, parse_version
from checks.model import JsonPath, NotEvaluated, Resource, Severity, Verdict, Violation
from checks.objects import (
    containers,
    env_vars,
    images_from,
    is_missing,
    is_unresolved,
    lookup,
    parse_image,
    split_path,
)

SOURCE_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "kind": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "chart": {"type": "string"},
        "fields": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                   "description": "first present field wins (legacy-key fallbacks)"},
        "image": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                  "description": "container image repositories; the tag is the version"},
        "where": {"type": "object", "minProperties": 1,
                  "additionalProperties": {"type": ["string", "number", "boolean"]},
                  "description": "only resources whose dotted fields hold these values"},
        "env": {"type": "object", "minProperties": 1,
                "additionalProperties": {"type": "string"},
                "description": "only workloads with a container setting these env literals"},
        "name": {"type": "string", "description": "only objects whose name matches (glob)"},
        "env_var": {"type": "string", "description": "the literal value of this container "
                                                    "env var is the version"},
        "latest_tag": {"type": "boolean", "description": "ImageStream: the tag that "
                                                       "'latest' points at is the version"},
        "after": {"type": "string", "description": "keep the text after the last occurrence "
                                                   "of this separator (amp-system:2.5.0)"},
        "empty_is_app_version": {"type": "boolean",
                                 "description": "an empty field is the chart's appVersion "
                                                "(`tag | default .Chart.AppVersion`): valid, "
                                                "but a version the scan does not know"},
        "tag_prefix": {"type": "string",
                       "description": "the tag convention of these images: tags start with "
                                      "this prefix ('v'), or carry none ('')"},
        "own_line_if_other_major": {
            "type": "boolean",
            "description": "a version on another major than the rest is this component's "
                           "own versioning, not another release (a developer portal tagged "
                           "0.0.x next to 3.x)"},
        "fallback": {"type": "boolean",
                     "description": "read only when the other sources find nothing (a "
                                    "component that may lag behind its release)"},
    },
}
SIDE_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "required": ["label", "sources"],
    "additionalProperties": False,
    "properties": {
        "label": {"type": "string", "minLength": 1},
        "sources": {"type": "array", "minItems": 1, "items": SOURCE_SCHEMA},
    },
}


@dataclass(frozen=True)
class Found:
    """A version read from one resource (or why it could not be read)."""

    resource: Resource
    path: JsonPath
    text: Any
    version: Version | None
    problem: str | None = None
    #: The field is empty and the chart renders its appVersion: not a wrong
    #: tag, but a version this scan does not know.
    app_version: bool = False
    #: The source's tag convention (``tag_prefix``), when it has one.
    prefix: str | None = None
    #: A version on another major is the component's own line (source option).
    own_line_if_other_major: bool = False


APP_VERSION = "the tag is empty, so the chart renders its appVersion, which the scan does not know"


def _has_env(resource: Resource, wanted: Mapping[str, str]) -> bool:
    for container in containers(resource):
        literals = {v.name: v.literal for v in env_vars(container) if v.has_literal}
        if all(literals.get(name) == value for name, value in wanted.items()):
            return True
    return False


def _source_applies(source: Mapping[str, Any], resource: Resource) -> bool:
    if "chart" in source and resource.chart != source["chart"]:
        return False
    if "kind" in source and resource.kind not in source["kind"]:
        return False
    if "name" in source and not fnmatch.fnmatchcase(resource.name, source["name"]):
        return False
    for dotted, value in source.get("where", {}).items():
        if lookup(resource.body, split_path(dotted)) != value:
            return False
    return "env" not in source or _has_env(resource, source["env"])


def read_versions(product: str, sources: Sequence[Mapping[str, Any]],
                  resources: Sequence[Resource], include_empty: bool = False) -> list[Found]:
    """Every version the sources find, one per (resource, field or container).

    Empty fields are skipped (the next legacy field is tried) unless
    ``include_empty``: then an explicitly empty value is a finding of its own.
    """
    primary = [s for s in sources if not s.get("fallback")]
    found = _read(product, primary, resources, include_empty)
    if not found and len(primary) < len(sources):
        found = _read(product, [s for s in sources if s.get("fallback")], resources,
                      include_empty)
    if any("after" in source for source in sources):
        found = [_after(product, f, sources) for f in found]
    return found


def _tagged(found: list[Found], source: Mapping[str, Any], start: int) -> None:
    """Mark what ``source`` found from ``start`` on with its own-line option."""
    if source.get("own_line_if_other_major"):
        found[start:] = [replace(f, own_line_if_other_major=True) for f in found[start:]]


def _read(product: str, sources: Sequence[Mapping[str, Any]], resources: Sequence[Resource],
          include_empty: bool) -> list[Found]:
    found: list[Found] = []
    for resource in resources:
        for source in sources:
            if not _source_applies(source, resource):
                continue
            start = len(found)
            prefix = source.get("tag_prefix")
            if "fields" in source:
                for dotted in source["fields"]:
                    path = split_path(dotted)
                    value = lookup(resource.body, path)
                    if is_missing(value):
                        continue
                    if value in (None, "") and source.get("empty_is_app_version"):
                        found.append(Found(resource, path, value, None, APP_VERSION,
                                           app_version=True, prefix=prefix))
                        break
                    if value in (None, "") and dotted != source["fields"][-1]:
                        continue  # an unset override (Kong's effectiveSemver): fall through
                    if include_empty or value not in (None, ""):
                        found.append(_parse(product, resource, path, value, prefix))
                        break
            if "image" in source:
                for container, image in images_from(resource, source["image"]):
                    path = (*container.path, "image")
                    found.append(_parse(product, resource, path, parse_image(image).tag, prefix))
            if "env_var" in source:
                for container in containers(resource):
                    for var in env_vars(container):
                        if var.name == source["env_var"] and var.has_literal:
                            found.append(_parse(product, resource, (*var.path, "value"),
                                                var.literal))
            if source.get("latest_tag"):
                found.extend(_latest_tag(product, resource))
            _tagged(found, source, start)
    return found


def _latest_tag(product: str, resource: Resource) -> Iterator[Found]:
    tags = lookup(resource.body, ("spec", "tags"))
    for index, tag in enumerate(tags if isinstance(tags, list) else []):
        if isinstance(tag, Mapping) and tag.get("name") == "latest":
            name = lookup(tag, ("from", "name"))
            if isinstance(name, str):
                yield _parse(product, resource, ("spec", "tags", index, "from", "name"),
                             name.rpartition(":")[2])


def _after(product: str, found: Found, sources: Sequence[Mapping[str, Any]]) -> Found:
    """Re-read ``amp-system:2.5.0`` style values as the part after the separator."""
    for source in sources:
        separator = source.get("after")
        if separator and isinstance(found.text, str) and separator in found.text:
            return _parse(product, found.resource, found.path,
                          found.text.rpartition(separator)[2], found.prefix)
    return found


def _parse(product: str, resource: Resource, path: JsonPath, value: Any,
           prefix: str | None = None) -> Found:
    if is_unresolved(resource, path, value):
        return Found(resource, path, value, None, f"unrendered placeholder {value!r}",
                     prefix=prefix)
    if value is None and path and path[-1] == "image":
        return Found(resource, path, value, None, "the image has no tag", prefix=prefix)
    try:
        return Found(resource, path, value, parse_version(product, value), prefix=prefix)
    except VersionError as exc:
        return Found(resource, path, value, None, str(exc), prefix=prefix)


def unreadable(label: str, found: Found) -> str:
    """Why ``found`` has no version, for a message about the ``label`` component."""
    if is_unquoted_number(found.text):
        return f"{label} version {found.problem}"
    return f"{label} version {found.text!r} cannot be read: {found.problem}"


def _ahead(subject: Version, reference: Version, compare: str) -> str | None:
    """Why ``subject`` is ahead of (or, for ``equal``, apart from) ``reference``."""
    if compare == "equal":
        if subject == reference:
            return None
        if subject.major != reference.major:
            return "a different major version"
        return "a newer version" if subject > reference else "an older version"
    if compare == "minor":
        if subject.major != reference.major:
            return "a different major version"
        if subject.minor > reference.minor:
            return "a newer minor version"
        return None
    return "a newer version" if subject > reference else None


def _lowest(product: str, side: Mapping[str, Any], resources: Sequence[Resource]
            ) -> Found | None:
    found = [f for f in read_versions(product, side["sources"], resources)
             if f.version is not None]
    return min(found, key=lambda f: f.version or Version((0,))) if found else None


def _reference(product: str, side: Mapping[str, Any], resources: Sequence[Resource],
               ctx: UpgradeContext) -> tuple[Found | None, str]:
    """The reference version of this installation or, when it has none (a
    remote gateway, a data plane in its own namespace), of the product's only
    installation that has one. Otherwise None and why, with ``{subject}`` left
    for the caller."""
    label = side["label"]
    own = _lowest(product, side, resources)
    if own is not None:
        return own, ""
    # An unreadable reference here says why nothing is compared (never another's).
    read = read_versions(product, side["sources"], resources)
    chart_default = next((f for f in read if f.app_version), None)
    if chart_default is not None:
        return None, (f"the {label} version is unknown ({chart_default.resource.ref}): "
                      f"{chart_default.problem}")
    unread = next((f for f in read if f.problem), None)
    if unread is not None:
        return None, f"{{subject}} cannot be compared; the {unreadable(label, unread)}"
    others = {name: found for name, group in sorted(ctx.elsewhere.items())
              if (found := _lowest(product, side, group)) is not None}
    if len(others) == 1:
        return next(iter(others.values())), ""
    if not others:
        return None, f"no {label} version in the scan to compare the {{subject}} with"
    names = ", ".join(others)
    return None, (f"no {label} in installation {ctx.installation}, and {len(others)} other "
                  f"installations have one ({names}), so the {{subject}} cannot be matched to "
                  f"its {label}; {how_to_name('object')}")


@set_check("version-order", {
    "required": ["subject", "reference", "product"],
    "additionalProperties": False,
    "properties": {
        "product": {"type": "string"},
        "subject": SIDE_SCHEMA,
        "reference": SIDE_SCHEMA,
        "compare": {"enum": ["release", "minor", "equal"], "default": "release",
                    "description": "release: full version order; minor: same major and "
                                   "subject minor not newer (patch ignored); equal: any "
                                   "difference"},
        "major_severity": {"enum": ["blocker", "error", "warning", "info"],
                           "description": "severity when the majors differ"},
    },
})
def version_order(resources: Sequence[Resource], params: Params,
                  ctx: UpgradeContext) -> Iterator[Verdict]:
    """The subject component's version must not be ahead of the reference's."""
    product = params["product"]
    subject_label = params["subject"]["label"]
    reference_label = params["reference"]["label"]
    subjects = read_versions(product, params["subject"]["sources"], resources)
    if not subjects:
        return
    lowest, why_none = _reference(product, params["reference"], resources, ctx)
    for found in subjects:
        if found.app_version:
            yield NotEvaluated(f"the {subject_label} version is unknown: {found.problem}",
                               found.path, found.resource)
            continue
        if found.version is None:
            yield NotEvaluated(unreadable(subject_label, found), found.path, found.resource)
            continue
        if lowest is None or lowest.version is None:
            yield NotEvaluated(why_none.replace("{subject}", f"{subject_label} version "
                                                             f"{found.version}"),
                               found.path, found.resource)
            continue
        compare = params.get("compare", "release")
        why = _ahead(found.version, lowest.version, compare)
        if why:
            if compare == "equal":
                action = "align both on the same version"
            elif found.version > lowest.version:
                action = f"upgrade the {reference_label} first"
            else:
                action = "bring both to the same major version"
            major = found.version.major != lowest.version.major
            severity = params.get("major_severity") if major else None
            yield Violation(
                f"{subject_label} version {found.version} is {why} than the "
                f"{reference_label} version {lowest.version} ({lowest.resource.ref}); {action}",
                found.path, observed=str(found.version),
                expected=f"== {lowest.version}" if compare == "equal" else f"<= {lowest.version}",
                resource=found.resource,
                severity=Severity.parse(severity) if severity else None,
            )
