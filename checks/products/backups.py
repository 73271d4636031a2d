"""Backup rules: a valid, fresh backup of the right kind must be given.

The evidence (``--backup PRODUCT=PATH``) is verified once per scan by
``checks.sources.backups``; this template judges it for each object whose
upgrade needs it. Without evidence the rule fires: "take a backup first" is a
precondition, not a recommendation.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from checks.engine.registry import Params, object_check
from checks.engine.upgrade_path import UpgradeContext
from checks.model import NotEvaluated, Resource, Verdict, Violation, format_json_path
from checks.objects import is_empty, is_missing, is_unresolved, lookup, split_path
from checks.products.image_refs import PATTERNS_SCHEMA, image_references, matches
from checks.sources.backups import FORMATS


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g} h"


@object_check("backup-evidence", {
    "required": ["product", "formats"],
    "additionalProperties": False,
    "properties": {
        "product": {"type": "string"},
        "formats": {"type": "array", "minItems": 1, "items": {"enum": list(FORMATS)}},
        "needed_if": {
            "type": "object", "required": ["paths", "images"], "additionalProperties": False,
            "properties": {"paths": {"type": "array", "items": {"type": "string"}},
                           "images": PATTERNS_SCHEMA},
            "description": "only objects with an image reference matching one of these "
                           "REPOSITORY[:TAG] globs at these paths need a backup",
        },
        "inline_config": {"type": "array", "items": {"type": "string"},
                          "description": "fields whose non-empty content is itself the backup "
                                         "(a DB-less config kept in the values)"},
    },
}, uses_context=True)
def backup_evidence(resource: Resource, params: Params, ctx: UpgradeContext) -> Iterator[Verdict]:
    """A valid backup of an accepted format, younger than --max-backup-age."""
    needed_if = params.get("needed_if")
    if needed_if:
        found = list(image_references(resource, needed_if["paths"]))
        if not any(matches(reference, needed_if["images"]) for _, reference in found):
            unresolved = [(p, r) for p, r in found if is_unresolved(resource, p, r)]
            if unresolved:
                path, reference = unresolved[0]
                yield NotEvaluated(f"{format_json_path(path)} holds an unrendered placeholder "
                                   f"{reference!r}: whether this upgrade needs a backup is "
                                   "unknown", path)
            return
    for dotted in params.get("inline_config", ()):
        value = lookup(resource.body, split_path(dotted))
        if not is_missing(value) and not is_empty(value):
            return
    yield from judge_evidence(params["product"], params["formats"], ctx)


def judge_evidence(product: str, formats: Sequence[str], ctx: UpgradeContext
                   ) -> Iterator[Verdict]:
    """The verdict on ``--backup PRODUCT=PATH`` for one object that needs a backup:
    needed only for an upgrade, matched to its installation, valid and fresh."""
    planned = ctx.planned(product)
    if planned.holds is None:
        yield NotEvaluated(planned.reason)  # evidence is needed only for an upgrade
        return
    evidence = ctx.backups.get(product)
    limit = ctx.max_backup_age_seconds
    accepted = ", ".join(formats)
    if evidence is None and product in ctx.backup_ambiguity:
        yield NotEvaluated(ctx.backup_ambiguity[product])
        return
    if evidence is None:
        yield Violation(f"no backup given; take one and pass --backup {product}=PATH "
                        f"(accepted: {accepted})", expected=accepted)
        return
    if not evidence.checkable:
        yield NotEvaluated(f"backup {evidence.path} cannot be verified: {evidence.reason}")
        return
    if not evidence.valid:
        yield Violation(f"backup {evidence.path} is not usable: {evidence.reason}",
                        observed=evidence.format, expected=accepted)
        return
    if evidence.format not in formats:
        yield Violation(f"backup {evidence.path} is a {evidence.format} backup; this upgrade "
                        f"needs one of: {accepted}", observed=evidence.format, expected=accepted)
        return
    age = evidence.age_seconds or 0.0
    if age > limit:
        yield Violation(f"backup {evidence.path} is {evidence.describe_age()} (age from the "
                        f"{evidence.age_source}), older than --max-backup-age {_hours(limit)}; "
                        "take a fresh one",
                        observed=evidence.describe_age(), expected=f"<= {_hours(limit)}")
