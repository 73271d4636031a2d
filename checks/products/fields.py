"""Templates that judge single fields: must be empty, must equal a value.

Shared by every product; the rule's params say which fields and values.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checks.engine.registry import Params, object_check
from checks.engine.upgrade_path import UpgradeContext
from checks.model import NotEvaluated, Resource, Verdict, Violation, yaml_type
from checks.objects import (
    describe,
    first_present,
    is_empty,
    is_missing,
    is_unresolved,
    lookup,
    split_path,
)

_PATHS_SCHEMA = {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}


@object_check("field-empty", {
    "required": ["fields", "message"],
    "additionalProperties": False,
    "properties": {
        "fields": _PATHS_SCHEMA,
        "message": {"type": "string", "minLength": 1,
                    "description": "{field} is replaced by the offending field's path"},
    },
})
def field_empty(resource: Resource, params: Params, ctx: UpgradeContext) -> Iterator[Verdict]:
    """Fields that must be absent or empty (override sections, legacy keys)."""
    for dotted in params["fields"]:
        path = split_path(dotted)
        value = lookup(resource.body, path)
        if is_missing(value) or is_empty(value):
            continue
        if is_unresolved(resource, path, value) and isinstance(value, str):
            # A whole-value placeholder may render empty: the field's state is unknown.
            yield NotEvaluated(f"{dotted} holds an unrendered placeholder {value!r}", path)
            continue
        size = ""
        if isinstance(value, (list, dict)):
            size = f" ({len(value)} {'entry' if len(value) == 1 else 'entries'})"
        yield Violation(params["message"].format(field=dotted) + size, path,
                        observed=f"{yaml_type(value)}{size}", expected="absent or empty")


def _same(actual: Any, expected: Any) -> bool:
    """Equality that keeps YAML types apart: the string "true" is not true."""
    return type(actual) is type(expected) and actual == expected


@object_check("field-equals", {
    "required": ["field", "equals", "message"],
    "additionalProperties": False,
    "properties": {
        "field": {"type": "string", "minLength": 1},
        "equals": {"description": "the value, with its YAML type"},
        "message": {"type": "string", "minLength": 1,
                    "description": "{field} and {observed} are replaced"},
    },
})
def field_equals(resource: Resource, params: Params, ctx: UpgradeContext) -> Iterator[Verdict]:
    """A field must hold exactly one value, of the right type (missing fails)."""
    path = split_path(params["field"])
    value = lookup(resource.body, path)
    if not is_missing(value) and is_unresolved(resource, path, value):
        yield NotEvaluated(f"{params['field']} holds an unrendered placeholder {value!r}", path)
        return
    if _same(value, params["equals"]):
        return
    yield Violation(params["message"].format(field=params["field"], observed=describe(value)),
                    path, observed=None if is_missing(value) else value,
                    expected=params["equals"])


@object_check("field-in", {
    "required": ["fields", "allowed", "message"],
    "additionalProperties": False,
    "properties": {
        "fields": {**_PATHS_SCHEMA, "description": "first present field is judged (legacy keys)"},
        "allowed": {"type": "array", "minItems": 1, "description": "values, with their YAML type"},
        "missing": {"enum": ["fail", "pass"], "default": "fail",
                    "description": "outcome when no field is present (or it is empty)"},
        "unless_annotations": {"type": "object", "additionalProperties": {"type": "string"},
                               "description": "metadata.annotations that opt the object out"},
        "message": {"type": "string", "minLength": 1,
                    "description": "{field}, {observed} and {allowed} are replaced"},
    },
})
def field_in(resource: Resource, params: Params, ctx: UpgradeContext) -> Iterator[Verdict]:
    """A field must hold one of the allowed values (type-strict)."""
    annotations = lookup(resource.body, ("metadata", "annotations"))
    opt_out = params.get("unless_annotations", {})
    if opt_out and isinstance(annotations, dict) and all(
            annotations.get(k) == v for k, v in opt_out.items()):
        return
    paths = [split_path(f) for f in params["fields"]]
    value, path = first_present(resource.body, paths)
    shown = ".".join(str(p) for p in path)
    if is_missing(value) or is_empty(value):
        if params.get("missing", "fail") == "pass":
            return
    elif is_unresolved(resource, path, value):
        yield NotEvaluated(f"{shown} holds an unrendered placeholder {value!r}", path)
        return
    elif any(_same(value, allowed) for allowed in params["allowed"]):
        return
    allowed_text = ", ".join(str(a) for a in params["allowed"])
    yield Violation(params["message"].format(field=shown, observed=describe(value),
                                             allowed=allowed_text),
                    path, observed=None if is_missing(value) else value,
                    expected=list(params["allowed"]))
