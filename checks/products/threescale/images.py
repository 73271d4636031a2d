"""3scale image streams, builds and the zync database image."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from checks.engine.registry import Params, object_check
from checks.engine.upgrade_path import UpgradeContext
from checks.engine.versions import try_parse
from checks.model import NotEvaluated, Resource, Verdict, Violation, format_json_path
from checks.objects import is_unresolved, lookup
from checks.products.image_refs import PATTERNS_SCHEMA, first_per_tag, image_references


def _tags(resource: Resource) -> list[tuple[int, Mapping[str, Any]]]:
    tags = lookup(resource.body, ("spec", "tags"))
    return [(i, t) for i, t in enumerate(tags) if isinstance(t, Mapping)] if isinstance(
        tags, list) else []


@object_check("imagestream-target", {
    "required": ["product"],
    "additionalProperties": False,
    "properties": {"product": {"type": "string"}},
}, uses_context=True)
def imagestream_target(resource: Resource, params: Params,
                       ctx: UpgradeContext) -> Iterator[Verdict]:
    """The stream has the target tag and ``latest`` points at it."""
    target = ctx.path(params["product"]).target
    if target is None:
        yield NotEvaluated(f"the target {params['product']} version is unknown; give --target "
                           f"{params['product']}=VERSION", ("spec", "tags"))
        return
    wanted = str(target)

    def is_target(name: str) -> bool:  # 2.5 names the same release as 2.5.0
        return name == wanted or try_parse(params["product"], name) == target

    for index, tag in _tags(resource):
        for key, value in (("name", tag.get("name")),
                           ("from", lookup(tag, ("from", "name")))):
            path = ("spec", "tags", index, key) if key == "name" else (
                "spec", "tags", index, "from", "name")
            if isinstance(value, str) and is_unresolved(resource, path, value):
                yield NotEvaluated(f"{format_json_path(path)} holds an unrendered placeholder "
                                   f"{value!r}: which release the stream carries is unknown",
                                   path)
                return
    tags = {str(t.get("name")): (i, t) for i, t in _tags(resource)}
    latest = tags.get("latest")
    points_at = _points_at(latest[1]) if latest is not None else None
    if not any(is_target(name) for name in tags):
        # One finding: latest cannot point at a tag that does not exist yet, so
        # its repoint is part of the same fix, said in the same message.
        also = f" (latest points at {points_at})" if points_at is not None else ""
        yield Violation(f"image stream {resource.name!r} has no tag {wanted!r}{also}; add it, "
                        "then repoint latest to it", ("spec", "tags"), observed=sorted(tags),
                        expected=wanted)
        return
    if latest is None:
        return
    index, tag = latest
    source = tag.get("from")
    if not isinstance(source, Mapping) or source.get("kind") != "ImageStreamTag" or not is_target(
            str(source.get("name")).split(":")[-1]):
        yield Violation(f"latest of image stream {resource.name!r} points at {points_at}, not at "
                        f"ImageStreamTag {wanted}", ("spec", "tags", index, "from"),
                        observed=points_at, expected=f"ImageStreamTag {wanted}")


def _points_at(tag: Mapping[str, Any]) -> str:
    source = tag.get("from")
    if not isinstance(source, Mapping):
        source = {}
    return f"{source.get('kind')} {source.get('name')}"


@object_check("image-reference-absent", {
    "required": ["paths", "forbidden", "message"],
    "additionalProperties": False,
    "properties": {
        "paths": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                  "description": "wildcard paths of image references; an ImageStream's "
                                 "tags are always read"},
        "forbidden": PATTERNS_SCHEMA,
        "message": {"type": "string", "description": "{value} and {where} are replaced"},
    },
})
def image_reference_absent(resource: Resource, params: Params,
                           ctx: UpgradeContext) -> Iterator[Verdict]:
    """No image reference names a retired image (by repository name and tag)."""
    found = list(image_references(resource, params["paths"]))
    hits = list(first_per_tag(iter(found), params["forbidden"]))
    for path, reference, _ in hits:
        yield Violation(params["message"].format(value=reference, where=format_json_path(path)),
                        path, observed=reference)
    if hits:
        return
    unresolved = [(path, ref) for path, ref in found if is_unresolved(resource, path, ref)]
    if unresolved:
        path, reference = unresolved[0]
        yield NotEvaluated(f"{format_json_path(path)} holds an unrendered placeholder "
                           f"{reference!r}: which image it names is unknown", path)
