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
from checks.model import NotEvaluated, Resource, Verdict, Violation
from checks.objects import expand, is_empty, is_missing, lookup, split_path
from checks.sources.backups import FORMATS, BackupEvidence


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g} h"


@object_check("backup-evidence", {
    "required": ["product", "formats"],
    "additionalProperties": False,
    "properties": {
        "product": {"type": "string"},
        "formats": {"type": "array", "minItems": 1, "items": {"enum": list(FORMATS)}},
        "needed_if": {
            "type": "object", "required": ["paths", "values"], "additionalProperties": False,
            "properties": {"paths": {"type": "array", "items": {"type": "string"}},
                           "values": {"type": "array", "items": {"type": "string"}}},
            "description": "only objects with one of these values at these paths need a backup",
        },
        "inline_config": {"type": "array", "items": {"type": "string"},
                          "description": "fields whose non-empty content is itself the backup "
                                         "(a DB-less config kept in the values)"},
    },
}, uses_context=True)
def backup_evidence(resource: Resource, params: Params, ctx: UpgradeContext) -> Iterator[Verdict]:
    """A valid backup of an accepted format, younger than --max-backup-age."""
    needed_if = params.get("needed_if")
    if needed_if and not any(str(value) in needed_if["values"]
                             for pattern in needed_if["paths"]
                             for _, value in expand(resource.body, pattern)):
        return
    for dotted in params.get("inline_config", ()):
        value = lookup(resource.body, split_path(dotted))
        if not is_missing(value) and not is_empty(value):
            return
    product = params["product"]
    yield from judge_evidence(product, params["formats"], ctx.backups.get(product),
                              ctx.max_backup_age_seconds)


def judge_evidence(product: str, formats: Sequence[str], evidence: BackupEvidence | None,
                   limit: float) -> Iterator[Verdict]:
    """The verdict on ``--backup PRODUCT=PATH`` for one object that needs a backup."""
    accepted = ", ".join(formats)
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
        yield Violation(f"backup {evidence.path} is {evidence.describe_age()}, older than "
                        f"--max-backup-age {_hours(limit)}; take a fresh one",
                        observed=evidence.describe_age(), expected=f"<= {_hours(limit)}")
