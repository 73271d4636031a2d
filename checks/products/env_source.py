"""Env vars that must come from a Secret key, not a literal value.

3scale 2.5 moved ``MYSQL_USER``/``MYSQL_PASSWORD`` of ``system-mysql`` from
literal values into ``system-database`` Secret keys; the same shape recurs
elsewhere, so the template takes the variables and Secret keys as params.
Literal values are never echoed: they are credentials.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator

from checks.engine.redact import REDACTED
from checks.engine.registry import Params, object_check
from checks.engine.upgrade_path import UpgradeContext
from checks.model import Resource, Verdict, Violation, format_json_path
from checks.objects import containers, env_vars
from checks.products.literal_credentials import Literal, classify, shown, values_credentials


@object_check("env-var-from-secret", {
    "required": ["vars"],
    "additionalProperties": False,
    "properties": {
        "containers": {"type": "array", "items": {"type": "string"},
                       "description": "container names to check (default: all)"},
        "vars": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "required": ["secret", "key"],
                "additionalProperties": False,
                "properties": {"secret": {"type": "string"}, "key": {"type": "string"}},
            },
        },
    },
})
def env_var_from_secret(resource: Resource, params: Params,
                        ctx: UpgradeContext) -> Iterator[Verdict]:
    """Named env vars must use valueFrom.secretKeyRef to the given Secret key."""
    wanted = params["vars"]
    only = set(params.get("containers", ()))
    for container in containers(resource, include_init=True):
        if only and container.name not in only:
            continue
        for var in env_vars(container):
            target = wanted.get(var.name)
            if target is None:
                continue
            expected = f"valueFrom.secretKeyRef {{name: {target['secret']}, key: {target['key']}}}"
            if var.has_literal:
                yield Violation(
                    f"{var.name} of container {container.name!r} is a literal value "
                    f"({REDACTED}); it must come from Secret {target['secret']!r} key "
                    f"{target['key']!r}",
                    (*var.path, "value"), observed=REDACTED, expected=expected)
                continue
            ref = var.secret_ref
            if ref is None:
                yield Violation(
                    f"{var.name} of container {container.name!r} is not read from a Secret; it "
                    f"must come from Secret {target['secret']!r} key {target['key']!r}",
                    var.path, observed="no secretKeyRef", expected=expected)
            elif ref.get("name") != target["secret"] or ref.get("key") != target["key"]:
                yield Violation(
                    f"{var.name} of container {container.name!r} reads Secret "
                    f"{ref.get('name')!r} key {ref.get('key')!r}; it must read Secret "
                    f"{target['secret']!r} key {target['key']!r}",
                    (*var.path, "valueFrom", "secretKeyRef"),
                    observed=f"{ref.get('name')}/{ref.get('key')}", expected=expected)


@functools.lru_cache(maxsize=16)
def _name_matcher(pattern: str, ignored: tuple[str, ...]) -> Callable[[str], bool]:
    """Name -> looks like a credential; memoised, as the same names recur."""
    regex = re.compile(pattern, re.IGNORECASE)

    @functools.lru_cache(maxsize=4096)
    def matches(name: str) -> bool:
        return name not in ignored and regex.search(name) is not None

    return matches


@object_check("credential-env-literal", {
    "required": ["name_pattern"],
    "additionalProperties": False,
    "properties": {
        "name_pattern": {"type": "string", "description": "regex (case-insensitive) of names"},
        "ignore": {"type": "array", "items": {"type": "string"},
                   "description": "names that match the pattern but hold no secret"},
        "values_key_pattern": {
            "type": "string",
            "description": "regex (case-insensitive) of Helm values keys that hold credentials",
        },
    },
})
def credential_env_literal(resource: Resource, params: Params,
                           ctx: UpgradeContext) -> Iterator[Verdict]:
    """Credential-looking env vars (or Helm values keys) must not carry literal values."""
    if resource.chart is not None:
        yield from _values_literals(resource, params)
        return
    looks_secret = _name_matcher(params["name_pattern"], tuple(params.get("ignore", ())))
    for container in containers(resource, include_init=True):
        for var in env_vars(container):
            if not var.has_literal:
                continue
            path = (*var.path, "value")
            # An OpenShift Template parameter becomes a literal when processed.
            kind = Literal.SECRET if path in resource.unresolved else classify(var.literal)
            if kind is Literal.NOT_SECRET or (kind is Literal.SECRET
                                              and not looks_secret(var.name)):
                continue
            yield Violation(f"{var.name} of container {container.name!r} is {kind.value} "
                            f"({shown(str(var.literal), kind)}); read it from a Secret with "
                            "valueFrom.secretKeyRef",
                            path, observed=shown(str(var.literal), kind),
                            expected="valueFrom.secretKeyRef")


def _values_literals(resource: Resource, params: Params) -> Iterator[Verdict]:
    """Helm values: the user's own credential literals (chart defaults are not theirs)."""
    pattern = params.get("values_key_pattern")
    key_matches = _name_matcher(pattern, ()) if pattern else (lambda key: False)
    env_name_matches = _name_matcher(params["name_pattern"], tuple(params.get("ignore", ())))
    for path, kind, value in values_credentials(resource.body, key_matches, env_name_matches):
        if resource.is_defaulted(path):
            continue
        where = format_json_path(path).removeprefix("$.")
        yield Violation(f"{where} is {kind.value} ({shown(value, kind)}) in the {resource.chart} "
                        "chart's values; read it from a Secret (valueFrom.secretKeyRef, or the "
                        "chart's existing-Secret setting)",
                        path, observed=shown(value, kind), expected="a Secret reference")
