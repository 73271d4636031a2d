"""The license ID must be well formed and, ideally, known for the target stream.

IBM publishes one License ID per program and version stream (10.0.7.x,
12.1.1.x, ...); a CR upgraded without changing it carries the old stream's
ID. The known IDs are the rule's params (IBM, "API Connect licenses").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from checks.engine.registry import Params, object_check
from checks.engine.upgrade_path import UpgradeContext
from checks.engine.versions import try_parse
from checks.model import NotEvaluated, Resource, Severity, Verdict, Violation
from checks.objects import describe, first_present, is_missing, is_unresolved, lookup, split_path


@object_check("apic-license-id", {
    "required": ["pattern", "known"],
    "additionalProperties": False,
    "properties": {
        "pattern": {"type": "string"},
        "known": {"type": "object", "additionalProperties": {
            "type": "array", "items": {"type": "string"}},
            "description": "version stream (e.g. 10.0.7) -> License IDs"},
    },
}, uses_context=True)
def apic_license_id(resource: Resource, params: Params, ctx: UpgradeContext) -> Iterator[Verdict]:
    """spec.license.license is an L-XXXX-XXXXXX ID, known for the CR's version stream."""
    path = ("spec", "license", "license")
    value = lookup(resource.body, path)
    if is_missing(value) or value in (None, ""):
        yield Violation("spec.license.license is missing; set the License ID of the target "
                        "version", ("spec", "license"), expected=params["pattern"])
        return
    if is_unresolved(resource, path, value):
        yield NotEvaluated(f"spec.license.license holds an unrendered placeholder {value!r}", path)
        return
    if not isinstance(value, str) or not re.fullmatch(params["pattern"], value):
        yield Violation(f"spec.license.license is {describe(value)}, not a License ID of the form "
                        "L-XXXX-XXXXXX", path, observed=value, expected=params["pattern"])
        return
    planned = ctx.path("apiconnect")
    declared, _ = first_present(resource.body, [split_path("spec.version"),
                                                split_path("spec.appVersion")])
    # --target wins over the CR's own version: the license must fit the target.
    version = (planned.target if planned.target_source == "--target"
               else try_parse("apiconnect", declared) or planned.target)
    if version is None:
        yield NotEvaluated("the version stream is unknown (no spec.version, no --target "
                           "apiconnect); cannot check the License ID against it", path)
        return
    stream = ".".join(str(p) for p in version.release[:3])
    known = params["known"].get(stream)
    if known is None:
        yield NotEvaluated(f"no License ID list for the {stream}.x stream", path)
    elif value not in known:
        yield Violation(f"License ID {value} is not one IBM lists for {stream}.x "
                        f"({', '.join(known)}); it may belong to an older release",
                        path, observed=value, expected=known, severity=Severity.WARNING)
