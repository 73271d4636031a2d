"""Unrendered template placeholders left in fields the rules read.

A ``${VAR}`` or ``{{ .Values.x }}`` where an image tag or a version should be
means the file was committed before rendering, and every rule reading that
field would judge the placeholder. OpenShift Template parameters that
``oc process`` fills in (``generate:``, ``required:``) are expected and skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.engine.registry import Params, object_check
from checks.engine.upgrade_path import UpgradeContext
from checks.model import Resource, Verdict, Violation
from checks.objects import PLACEHOLDER, expand


@object_check("placeholder-in-fields", {
    "required": ["fields"],
    "additionalProperties": False,
    "properties": {"fields": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                              "description": "wildcard paths of the fields rules read"}},
})
def placeholder_in_fields(resource: Resource, params: Params,
                          ctx: UpgradeContext) -> Iterator[Verdict]:
    """A field a rule needs holds ``$VAR``, ``${VAR}`` or ``{{ ... }}``."""
    seen = set()
    for pattern in params["fields"]:
        for path, value in expand(resource.body, pattern):
            if path in seen or path in resource.unresolved or not isinstance(value, str):
                continue
            match = PLACEHOLDER.search(value)
            if match:
                seen.add(path)
                yield Violation(f"{'.'.join(map(str, path))} holds the unrendered placeholder "
                                f"{match.group(0)!r}; render the template before scanning or "
                                "committing", path, observed=match.group(0))
