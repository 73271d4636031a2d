"""Templates over configuration content: Secret keys, embedded YAML files, target references."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from checks.engine.registry import Params, object_check
from checks.engine.upgrade_path import UpgradeContext
from checks.engine.versions import Version, try_parse
from checks.model import NotEvaluated, Resource, Verdict, Violation
from checks.objects import describe, is_missing, is_unresolved, lookup, split_path


def _line_within(text: str, node_path: tuple[str, ...]) -> int | None:
    """1-based line of a key path inside an embedded YAML text."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    node: Any = root
    line = None
    for key in node_path:
        if not isinstance(node, yaml.MappingNode):
            break
        for key_node, value_node in node.value:
            if getattr(key_node, "value", None) == key:
                line = key_node.start_mark.line + 1
                node = value_node
                break
        else:
            break
    return line


@object_check("embedded-yaml-values", {
    "required": ["key", "section", "required"],
    "additionalProperties": False,
    "properties": {
        "key": {"type": "string", "description": "the data key holding a YAML file"},
        "section": {"type": "string", "description": "top-level section inside that file"},
        "required": {"type": "object", "minProperties": 1,
                     "description": "flag -> value it must have (with its YAML type)"},
    },
})
def embedded_yaml_values(resource: Resource, params: Params,
                         ctx: UpgradeContext) -> Iterator[Verdict]:
    """Flags inside a YAML file stored in a ConfigMap key, reported at their own line."""
    path = ("data", params["key"])
    text = lookup(resource.body, path)
    if is_missing(text):
        yield Violation(f"data key {params['key']!r} is missing", ("data",))
        return
    if not isinstance(text, str) or is_unresolved(resource, path, text):
        yield NotEvaluated(f"{params['key']} is not a YAML text that can be read", path)
        return
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        yield Violation(f"{params['key']} is not valid YAML: "
                        f"{' '.join(str(getattr(exc, 'problem', exc)).split())}", path,
                        inner_line=mark.line + 1 if mark is not None else None)
        return
    section = loaded.get(params["section"]) if isinstance(loaded, Mapping) else None
    if not isinstance(section, Mapping):
        yield Violation(f"{params['key']} has no {params['section']!r} section", path)
        return
    for flag, wanted in params["required"].items():
        actual = section.get(flag)
        if type(actual) is type(wanted) and actual == wanted:
            continue
        where = (params["section"], flag) if flag in section else (params["section"],)
        state = "missing" if flag not in section else describe(actual)
        yield Violation(f"{params['key']}: {params['section']}.{flag} is {state}; it must be "
                        f"{describe(wanted)}", path, observed=None if flag not in section else actual,
                        expected=wanted, inner_line=_line_within(text, where))


def _names_version(value: object, params: Params, target: Version) -> bool:
    """Does ``value`` fill the format with a text of the target version (2.5 for 2.5.0)?"""
    prefix, _, suffix = params["format"].partition("{target}")
    if not isinstance(value, str) or not value.startswith(prefix) or not value.endswith(suffix):
        return False
    return try_parse(params["product"], value[len(prefix):len(value) - len(suffix)]) == target


@object_check("field-references-target", {
    "required": ["product", "field", "format"],
    "additionalProperties": False,
    "properties": {
        "product": {"type": "string"},
        "field": {"type": "string"},
        "format": {"type": "string", "description": "expected value; {target} is replaced"},
    },
}, uses_context=True)
def field_references_target(resource: Resource, params: Params,
                            ctx: UpgradeContext) -> Iterator[Verdict]:
    """A field must name the target release, e.g. ``amp-system:{target}``."""
    target = ctx.path(params["product"]).target
    path = split_path(params["field"])
    if target is None:
        yield NotEvaluated(f"the target {params['product']} version is unknown; give --target "
                           f"{params['product']}=VERSION", path)
        return
    expected = params["format"].format(target=target)
    value = lookup(resource.body, path)
    if is_unresolved(resource, path, value):
        yield NotEvaluated(f"{params['field']} holds an unrendered placeholder {value!r}", path)
    elif value != expected and not _names_version(value, params, target):
        yield Violation(f"{params['field']} is {describe(value)}; it must be {expected!r} for the "
                        f"{target} upgrade", path, observed=None if is_missing(value) else value,
                        expected=expected)
