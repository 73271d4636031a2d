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


class _Renderer:
    def __init__(self, params: Mapping[str, str | None]) -> None:
        self.params = params
        self.unresolved: set[JsonPath] = set()

    def render(self, value: Any, path: JsonPath) -> Any:
        if isinstance(value, str):
            return self._render_string(value, path)
        if isinstance(value, Mapping):
            return {k: self.render(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v, (*path, i)) for i, v in enumerate(value)]
        return value

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
    for index, obj in enumerate(objects):
        renderer = _Renderer(params)
        body = renderer.render(obj, ())
        rendered.append(RenderedObject(index, body, frozenset(renderer.unresolved)))
    return rendered
