"""Accessors for object bodies that every layer shares: paths, containers, images.

Checks must report the JSON path of the field they judged, so every accessor
returns the path next to the value.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeGuard

from checks.model import JsonPath, Resource

_MISSING = object()
_PATH_TOKEN = re.compile(r"\['([^']*)'\]|\[(\d+)\]|([^.\[\]]+)")
#: Unrendered template syntax: OpenShift/shell ``${VAR}`` and ``$VAR`` (a whole
#: value), Helm/Jinja ``{{ }}``. Kubernetes' own ``$(VAR)`` is not one.
PLACEHOLDER = re.compile(r"\$\{\{?[A-Za-z_][A-Za-z0-9_]*\}?\}|\{\{.*?\}\}|^\$[A-Za-z_][A-Za-z0-9_]*$")


def split_path(dotted: str) -> JsonPath:
    """``spec.template[0].name`` -> ("spec", "template", 0, "name").

    A key containing dots is written in brackets and quotes:
    ``metadata.annotations['cert-manager.io/issuer']``.
    """
    parts: list[str | int] = []
    for quoted, index, name in _PATH_TOKEN.findall(dotted):
        if quoted:
            parts.append(quoted)
        elif index:
            parts.append(int(index))
        elif name:
            parts.append(name)
    return tuple(parts)


def is_mapping(node: Any) -> TypeGuard[Mapping[str, Any]]:
    """``isinstance(node, Mapping)``, with loaded YAML's dicts answered first:
    the ABC check costs ten times as much, and rules ask it half a million
    times in a scan of 10,000 documents."""
    return node.__class__ is dict or isinstance(node, Mapping)


def lookup(body: Any, path: JsonPath) -> Any:
    """Value at ``path`` or the ``MISSING`` sentinel."""
    node = body
    for part in path:
        if isinstance(part, int):
            if not (node.__class__ is list or isinstance(node, list)) \
                    or not 0 <= part < len(node):
                return _MISSING
            node = node[part]
        else:
            if not is_mapping(node) or part not in node:
                return _MISSING
            node = node[part]
    return node


@functools.lru_cache(maxsize=512)
def pattern_steps(pattern: str) -> tuple[str | int | None, ...]:
    """``a.b[*].c`` -> ("a", "b", None, "c"), parsed once per pattern."""
    return tuple(None if part == "*" else part
                 for part in split_path(pattern.replace("[*]", ".*")))


def expand(body: Any, pattern: str) -> Iterator[tuple[JsonPath, Any]]:
    """Every (path, value) matching ``spec.http[*].plugins[*].name``.

    ``[*]`` walks every item of a list, ``*`` as a key every value of a
    mapping; missing parts simply match nothing.
    """
    steps = pattern_steps(pattern)
    frontier: list[tuple[JsonPath, Any]] = [((), body)]
    for step in steps:
        following: list[tuple[JsonPath, Any]] = []
        for path, node in frontier:
            if step is None:
                if isinstance(node, list):
                    following += [((*path, i), v) for i, v in enumerate(node)]
                elif is_mapping(node):
                    following += [((*path, k), v) for k, v in node.items()]
            else:
                value = lookup(node, (step,))
                if not is_missing(value):
                    following.append(((*path, step), value))
        frontier = following
    return iter(frontier)


def is_missing(value: Any) -> bool:
    return value is _MISSING


def is_unresolved(resource: Resource, path: JsonPath, value: Any) -> bool:
    """True when the value still holds a template placeholder (not rendered)."""
    if path in resource.unresolved:
        return True
    return isinstance(value, str) and bool(PLACEHOLDER.search(value))


def first_present(body: Any, paths: Sequence[JsonPath]) -> tuple[Any, JsonPath]:
    """First path that exists (legacy-key fallbacks such as spec.appVersion)."""
    for path in paths:
        value = lookup(body, path)
        if not is_missing(value):
            return value, path
    return _MISSING, paths[0] if paths else ()


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


@dataclass(frozen=True)
class Container:
    name: str
    spec: Mapping[str, Any]
    path: JsonPath


def pod_spec_path(resource: Resource) -> JsonPath | None:
    """Where the pod spec sits for workload kinds (and bare Pods)."""
    body = resource.body
    for path in (("spec", "template", "spec"), ("spec", "jobTemplate", "spec", "template", "spec"),
                 ("spec",)):
        node = lookup(body, path)
        if is_mapping(node) and isinstance(node.get("containers"), list):
            return path
    return None


def _containers(resource: Resource) -> tuple[tuple[Container, ...], tuple[Container, ...]]:
    """(containers, initContainers) of the pod spec, computed once per resource."""
    cached = resource.memo.get("containers")
    if cached is None:
        base = pod_spec_path(resource)
        groups: list[tuple[Container, ...]] = []
        for group in ("containers", "initContainers"):
            items = lookup(resource.body, (*base, group)) if base is not None else None
            groups.append(tuple(
                Container(str(spec.get("name", "")), spec, (*base, group, index))
                for index, spec in enumerate(items if isinstance(items, list) else [])
                if is_mapping(spec)) if base is not None else ())
        cached = resource.memo["containers"] = (groups[0], groups[1])
    return cached


def containers(resource: Resource, include_init: bool = False) -> Iterator[Container]:
    main, init = _containers(resource)
    yield from main
    if include_init:
        yield from init


class EnvVar(NamedTuple):
    """One ``env`` entry of a container (a named tuple: rules make one per
    variable of every container, 50,000 in a scan of 10,000 documents)."""

    name: str
    spec: Mapping[str, Any]
    path: JsonPath

    @property
    def has_literal(self) -> bool:
        return "value" in self.spec

    @property
    def literal(self) -> Any:
        return self.spec.get("value")

    @property
    def secret_ref(self) -> Mapping[str, Any] | None:
        ref = lookup(self.spec, ("valueFrom", "secretKeyRef"))
        return ref if is_mapping(ref) else None


def env_vars(container: Container) -> Iterator[EnvVar]:
    env = container.spec.get("env")
    if not isinstance(env, list):
        return
    for index, var in enumerate(env):
        if is_mapping(var) and isinstance(var.get("name"), str):
            yield EnvVar(var["name"], var, (*container.path, "env", index))


class ImageRef(NamedTuple):
    repository: str  # without registry host, e.g. "kong/kong-gateway"
    tag: str | None


#: Parsed images. A bounded LRU thrashed once a scan had more distinct images
#: than its size (50,000 documents: 60x the parse time); this keeps every image
#: and starts over only past a bound no real repository reaches.
_PARSED_IMAGES: dict[str, ImageRef] = {}
_MAX_PARSED_IMAGES = 1 << 17


def parse_image(image: str) -> ImageRef:
    """``registry:5000/kong/kong-gateway:3.5@sha256:..`` -> (kong/kong-gateway, 3.5)."""
    ref = _PARSED_IMAGES.get(image)
    if ref is None:
        if len(_PARSED_IMAGES) >= _MAX_PARSED_IMAGES:
            _PARSED_IMAGES.clear()
        ref = _PARSED_IMAGES[image] = _parse_image(image)
    return ref


def _parse_image(image: str) -> ImageRef:
    name = image.split("@", 1)[0]
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    tag = None
    if colon > last_slash:
        name, tag = name[:colon], name[colon + 1:]
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    return ImageRef("/".join(parts), tag)


#: The names each image answers to (see ``repository_names``), per image.
_NAMES: dict[str, frozenset[str]] = {}


def repository_names(image: str) -> frozenset[str]:
    """The image's repository and each trailing part of its path:
    ``registry/kong/kong-gateway:3.9`` answers to ``kong/kong-gateway`` and
    ``kong-gateway``. Set lookups make matching an image against a product's
    repositories one operation, which rule selectors and version finders do
    for every container of every object."""
    names = _NAMES.get(image)
    if names is None:
        if len(_NAMES) >= _MAX_PARSED_IMAGES:
            _NAMES.clear()
        parts = parse_image(image).repository.split("/")
        names = _NAMES[image] = frozenset("/".join(parts[i:]) for i in range(len(parts)))
    return names


def image_matches(image: str, repositories: Iterable[str]) -> bool:
    """Is the image from one of these repositories (``kong/kong-gateway``, or a
    trailing part of the repository path: ``kong-gateway``)?"""
    return not repository_names(image).isdisjoint(repositories)


def resource_repositories(resource: Resource) -> frozenset[str]:
    """Every name the images of the object's containers answer to, computed
    once per object: most objects run none of a product's images, and this
    rules them out without looking at their containers."""
    cached = resource.memo.get("repositories")
    if cached is None:
        cached = resource.memo["repositories"] = frozenset().union(
            *(repository_names(image) for _, image in container_images(resource)))
    return cached


def images_from(resource: Resource, repositories: Collection[str]
                ) -> Iterator[tuple[Container, str]]:
    """(container, image) of each container, init containers included, whose
    image is from one of ``repositories`` (see ``image_matches``). Objects
    running none of them are ruled out by one set test."""
    if resource_repositories(resource).isdisjoint(repositories):
        return
    for container, image in container_images(resource):
        if image_matches(image, repositories):
            yield container, image


def container_images(resource: Resource) -> tuple[tuple[Container, str], ...]:
    """(container, image) pairs of every container, init containers included."""
    cached = resource.memo.get("images")
    if cached is None:
        cached = resource.memo["images"] = tuple(
            (container, container.spec["image"])
            for container in containers(resource, include_init=True)
            if isinstance(container.spec.get("image"), str))
    return cached


def describe(value: Any) -> str:
    """How a value reads in a message, with its YAML type made visible."""
    if is_missing(value):
        return "missing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if value is None:
        return "null"
    return repr(value)
