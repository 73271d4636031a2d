"""Image references matched by repository name and tag, never by exact string.

The same PostgreSQL 10 is ``postgresql:10`` (an ImageStreamTag),
``registry.access.redhat.com/rhscl/postgresql-10-rhel7``,
``registry.redhat.io/rhscl/postgresql-10-rhel7:1-47`` (a pinned build) or
``...@sha256:...`` (what a running DeploymentConfig shows). A pattern names
the repository and, optionally, the tag, each a shell-style glob:

- ``postgresql-10-*``: the repository's last path component (any registry,
  any namespace, any tag or digest);
- ``rhscl/postgresql-10-*``: the trailing path components;
- ``postgresql:10*``: repository ``postgresql`` with a tag starting ``10``
  (``10``, ``10-1-47``, ``10.6``); a reference without a tag does not match.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from checks.model import JsonPath, Resource
from checks.objects import expand, lookup, parse_image

PATTERNS_SCHEMA: Mapping[str, Any] = {
    "type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1},
    "description": "REPOSITORY[:TAG] globs; REPOSITORY matches the trailing path "
                   "components of the image's repository (postgresql-95-*, postgresql:9.5*)",
}


def _split(pattern: str) -> tuple[str, str | None]:
    repo, sep, tag = pattern.rpartition(":")
    if not sep or "/" in tag:
        return pattern, None
    return repo, tag


def matches(reference: str, patterns: Sequence[str]) -> str | None:
    """The first pattern the image reference matches, or None."""
    text = reference.strip()
    if not text:
        return None
    image = parse_image(text)
    parts = image.repository.lower().split("/")
    for pattern in patterns:
        repo_glob, tag_glob = _split(pattern.lower())
        depth = repo_glob.count("/") + 1
        if len(parts) < depth or not fnmatch.fnmatchcase("/".join(parts[-depth:]), repo_glob):
            continue
        if tag_glob is None or (image.tag is not None
                                and fnmatch.fnmatchcase(image.tag.lower(), tag_glob)):
            return pattern
    return None


def image_references(resource: Resource, paths: Sequence[str]) -> Iterator[tuple[JsonPath, str]]:
    """(path, reference) of every image reference the object holds.

    ``paths`` are wildcard paths of reference strings (container images,
    image-change trigger sources). An ImageStream's tags are added, one
    reference per tag: ``<stream>:<tag name>`` (how triggers name it), else
    the tag's source image, so one tag gives at most one finding.
    """
    for pattern in paths:
        for path, value in expand(resource.body, pattern):
            if isinstance(value, str):
                yield path, value
    if resource.kind != "ImageStream":
        return
    tags = lookup(resource.body, ("spec", "tags"))
    for index, tag in enumerate(tags if isinstance(tags, list) else []):
        if not isinstance(tag, Mapping):
            continue
        if isinstance(tag.get("name"), (str, int, float)):
            yield ("spec", "tags", index, "name"), f"{resource.name}:{tag['name']}"
        source = tag.get("from")
        if isinstance(source, Mapping) and isinstance(source.get("name"), str) and \
                source.get("kind") in ("DockerImage", "ImageStreamTag", "ImageStreamImage"):
            yield ("spec", "tags", index, "from", "name"), source["name"]


def first_per_tag(found: Iterator[tuple[JsonPath, str]],
                  patterns: Sequence[str]) -> Iterator[tuple[JsonPath, str, str]]:
    """(path, reference, pattern) of matching references, one per ImageStream tag."""
    seen_tags: set[int] = set()
    for path, reference in found:
        pattern = matches(reference, patterns)
        if pattern is None:
            continue
        if path[:2] == ("spec", "tags") and len(path) > 2 and isinstance(path[2], int):
            if path[2] in seen_tags:
                continue
            seen_tags.add(path[2])
        yield path, reference, pattern
