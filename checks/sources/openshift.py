"""OpenShift ``Template`` rendering with the parameters' default values.

3scale 2.x ships as a Template (``amp.yml``): the objects to check are inside
``objects``, with ``${PARAM}`` placeholders. We render them the way
``oc process`` would with no parameters given: each placeholder becomes the
parameter's ``value``. A parameter without a value (``generate:`` or
``required:``) leaves its placeholder in place and the JSON path is recorded,
so a rule that needs that field says *not evaluated* instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from checks.model import JsonPath

TEMPLATE_API_VERSIONS = frozenset({"template.openshift.io/v1", "v1"})
# ${NAME} substitutes into a string; ${{NAME}} replaces the whole value with a
# typed one (oc process semantics).
_PLACEHOLDER = re.compile(r"\$\{\{([A-Za-z0-9_]+)\}\}|\$\{([A-Za-z0-9_]+)\}")


def is_template(body: Mapping[str, Any]) -> bool:
    return body.get("kind") == "Template" and body.get("apiVersion") in TEMPLATE_API_VERSIONS


@dataclass(frozen=True)
class RenderedObject:
    index: int
    body: Any
    unresolved: frozenset[JsonPath]


def parameter_values(template: Mapping[str, Any]) -> dict[str, str | None]:
    """Parameter name -> default value (None when it has none)."""
    values: dict[str, str | None] = {}
    params = template.get("parameters")
    if not isinstance(params, list):
        return values
    for param in params:
        if isinstance(param, Mapping) and isinstance(param.get("name"), str):
            value = param.get("value")
            values[param["name"]] = None if value is None else _as_text(value)
    return values


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


#: id(template node) -> (that node, its rendering, its unresolved paths relative to it)
_Memo = dict[int, tuple[Any, Any, frozenset[JsonPath]]]


class _Renderer:
    """Renders one object. A node reached twice (a YAML anchor and its aliases
    share one Python object) is rendered once, into one object, as the loader
    does for plain manifests: findings on it are then one field (see
    checks.engine.dedup)."""

    def __init__(self, params: Mapping[str, str | None], memo: _Memo | None = None) -> None:
        self.params = params
        self.unresolved: set[JsonPath] = set()
        self.memo: _Memo = {} if memo is None else memo

    def render(self, value: Any, path: JsonPath) -> Any:
        if isinstance(value, str):
            return self._render_string(value, path)
        if not isinstance(value, (Mapping, list)):
            return value
        known = self.memo.get(id(value))
        if known is None or known[0] is not value:
            inner = _Renderer(self.params, self.memo)
            if isinstance(value, Mapping):
                rendered: Any = {k: inner.render(v, (k,)) for k, v in value.items()}
            else:
                rendered = [inner.render(v, (i,)) for i, v in enumerate(value)]
            known = self.memo[id(value)] = (value, rendered, frozenset(inner.unresolved))
        self.unresolved.update((*path, *relative) for relative in known[2])
        return known[1]

    def _render_string(self, text: str, path: JsonPath) -> Any:
        if "${" not in text:
            return text
        whole = _PLACEHOLDER.fullmatch(text)
        if whole and whole.group(1):
            value = self.params.get(whole.group(1))
            if value is None:
                self.unresolved.add(path)
                return text
            try:
                return yaml.safe_load(value)
            except yaml.YAMLError:
                return value

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2)
            value = self.params.get(name)
            if value is None:
                self.unresolved.add(path)
                return match.group(0)
            return value

        return _PLACEHOLDER.sub(substitute, text)


def render_objects(template: Mapping[str, Any]) -> list[RenderedObject]:
    objects = template.get("objects")
    if not isinstance(objects, list):
        return []
    params = parameter_values(template)
    rendered = []
    memo: _Memo = {}
    for index, obj in enumerate(objects):
        renderer = _Renderer(params, memo)
        body = renderer.render(obj, ())
        rendered.append(RenderedObject(index, body, frozenset(renderer.unresolved)))
    return rendered
