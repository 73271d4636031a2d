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

from checks.model import InputError, JsonPath, a_yaml_type
from checks.sources.yaml11 import Document, iter_documents

TEMPLATE_API_VERSIONS = frozenset({"template.openshift.io/v1", "v1"})
# ${NAME} substitutes into a string; ${{NAME}} replaces the whole value with a
# typed one (oc process semantics).
_PLACEHOLDER = re.compile(r"\$\{\{([A-Za-z0-9_]+)\}\}|\$\{([A-Za-z0-9_]+)\}")


#: Rendering may add this many times the template's own text (plus 1 MiB):
#: a parameter of 100 kB substituted at 4,000 places would otherwise turn a
#: 0.4 MB file into gigabytes.
EXPANSION_FACTOR = 16
_EXPANSION_FLOOR = 1 << 20


class TemplateError(ValueError):
    """The Template cannot be rendered (the reason is one line for the report)."""


def is_template(body: Mapping[str, Any]) -> bool:
    api_version = body.get("apiVersion")
    return (body.get("kind") == "Template" and isinstance(api_version, str)
            and api_version in TEMPLATE_API_VERSIONS)


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


class _Budget:
    """Characters substitution may still add, shared by every object of a Template."""

    def __init__(self, template: Mapping[str, Any]) -> None:
        self.left = EXPANSION_FACTOR * _text_size(template) + _EXPANSION_FLOOR

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise TemplateError(
                f"parameter substitution would grow the Template more than {EXPANSION_FACTOR} "
                "times its size; not rendered")


def _text_size(value: Any) -> int:
    """Characters of the strings in a loaded document (each shared object once)."""
    total = 0
    seen: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, (Mapping, list)) and id(item) not in seen:
            seen.add(id(item))
            if isinstance(item, Mapping):
                total += sum(len(str(k)) for k in item)
                stack.extend(item.values())
            else:
                stack.extend(item)
    return total


class _Typed:
    """``${{NAME}}`` values: each parameter's text decoded once, with the guards of
    the manifest loader (alias bombs, nesting), as ``oc process`` decodes it."""

    def __init__(self, params: Mapping[str, str | None]) -> None:
        self.params = params
        self.decoded: dict[str, Any] = {}

    def value(self, name: str) -> Any:
        if name not in self.decoded:
            text = self.params[name] or ""  # callers ask only for parameters with a value
            found = next(iter_documents(text, f"parameter {name}"), None)
            if isinstance(found, InputError):
                if "YAML error" in found.reason:  # not YAML at all: oc keeps the text
                    self.decoded[name] = text
                else:
                    raise TemplateError(f"parameter {name}: {found.reason}")
            else:
                self.decoded[name] = found.value if isinstance(found, Document) else None
        return self.decoded[name]


class _Renderer:
    """Renders one object. A node reached twice (a YAML anchor and its aliases
    share one Python object) is rendered once, into one object, as the loader
    does for plain manifests: findings on it are then one field (see
    checks.engine.dedup)."""

    def __init__(self, params: Mapping[str, str | None], typed: _Typed, budget: _Budget,
                 memo: _Memo | None = None) -> None:
        self.params = params
        self.typed = typed
        self.budget = budget
        self.unresolved: set[JsonPath] = set()
        self.memo: _Memo = {} if memo is None else memo

    def render(self, value: Any, path: JsonPath) -> Any:
        if isinstance(value, str):
            return self._render_string(value, path)
        if not isinstance(value, (Mapping, list)):
            return value
        known = self.memo.get(id(value))
        if known is None or known[0] is not value:
            inner = _Renderer(self.params, self.typed, self.budget, self.memo)
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
            self.budget.spend(len(value))
            return self.typed.value(whole.group(1))

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2)
            value = self.params.get(name)
            if value is None:
                self.unresolved.add(path)
                return match.group(0)
            self.budget.spend(len(value))
            return value

        return _PLACEHOLDER.sub(substitute, text)


def render_objects(template: Mapping[str, Any]) -> list[RenderedObject]:
    """Each object with the parameters' defaults; ``TemplateError`` when the
    Template cannot be rendered (``objects`` not a list, a parameter that is
    an alias bomb, an expansion out of proportion)."""
    objects = template.get("objects")
    if objects is None:
        return []
    if not isinstance(objects, list):
        raise TemplateError(f"Template objects is {a_yaml_type(objects)}, not a list")
    params = parameter_values(template)
    typed, budget = _Typed(params), _Budget(template)
    rendered = []
    memo: _Memo = {}
    for index, obj in enumerate(objects):
        renderer = _Renderer(params, typed, budget, memo)
        body = renderer.render(obj, ())
        rendered.append(RenderedObject(index, body, frozenset(renderer.unresolved)))
    return rendered
