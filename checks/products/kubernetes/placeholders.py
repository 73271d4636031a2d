"""Unrendered template placeholders left in fields the rules read.

A ``${VAR}`` or ``{{ .Values.x }}`` where an image tag or a version should be
means the file was committed before rendering, and every rule reading that
field would judge the placeholder. OpenShift Template parameters that
``oc process`` fills in (``generate:``, ``required:``) are expected and skipped.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from checks.engine.redact import REDACTED, looks_like_credential
from checks.engine.registry import Params, object_check
from checks.engine.upgrade_path import UpgradeContext
from checks.model import JsonPath, Resource, Verdict, Violation
from checks.objects import PLACEHOLDER, is_mapping, pattern_steps

Trie = dict[Any, "Trie"]


@functools.lru_cache(maxsize=32)
def _trie(fields: tuple[str, ...]) -> Trie:
    """The field patterns as one trie (None = any list item or mapping value),
    so each object is walked once for all of them."""
    root: Trie = {}
    for field in fields:
        node = root
        for step in pattern_steps(field):
            node = node.setdefault(step, {})
    return root


def _walk(value: Any, trie: Trie, path: JsonPath) -> Iterator[tuple[JsonPath, Any]]:
    if not trie:
        yield path, value
        return
    for step, rest in trie.items():
        if step is None:
            if value.__class__ is list or isinstance(value, list):
                for index, item in enumerate(value):
                    yield from _walk(item, rest, (*path, index))
            elif is_mapping(value):
                for key, item in value.items():
                    yield from _walk(item, rest, (*path, key))
        elif is_mapping(value) and step in value:
            yield from _walk(value[step], rest, (*path, step))


@object_check("placeholder-in-fields", {
    "required": ["fields"],
    "additionalProperties": False,
    "properties": {"fields": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                              "description": "wildcard paths of the fields rules read"}},
})
def placeholder_in_fields(resource: Resource, params: Params,
                          ctx: UpgradeContext) -> Iterator[Verdict]:
    """A field a rule needs holds ``$VAR``, ``${VAR}`` or ``{{ ... }}``."""
    for path, value in _walk(resource.body, _trie(tuple(params["fields"])), ()):
        # Substring test first (C speed); most values hold no "$" or "{{".
        if (not isinstance(value, str) or ("$" not in value and "{{" not in value)
                or path in resource.unresolved):
            continue
        match = PLACEHOLDER.search(value)
        if match is None:
            continue
        field = ".".join(map(str, path))
        if looks_like_credential(str(path[-1])):
            # Redaction by field: a credential's placeholder may carry its
            # default (``{{ .Values.pw | default "..." }}``); it is not quoted.
            yield Violation(f"{field} holds an unrendered placeholder ({REDACTED}); render the "
                            "template before scanning or committing", path, observed=REDACTED)
        else:
            yield Violation(f"{field} holds the unrendered placeholder {match.group(0)!r}; "
                            "render the template before scanning or committing", path,
                            observed=match.group(0))
