"""API Connect as it runs: the management subsystem's reconcile state and its
database backups, read from the cluster (``--cluster`` / ``--snapshot``).

The operator records what it has rolled out in ``status.versions.reconciled``
and its progress in ``status.phase``; an upgrade is complete when the
reconciled version is the ``spec.version`` asked for and the phase is a
settled one. Backups are objects too: API Connect's ``ManagementBackup``, the
EDB (CloudNativePG) ``Backup`` of the management database (10.0.8 and
later), and Velero ``Backup`` objects whose namespaces include the
management's.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from checks.engine.registry import Params, object_check, set_check
from checks.engine.upgrade_path import UpgradeContext
from checks.engine.versions import VersionError, parse_version
from checks.model import NotEvaluated, Resource, Severity, Verdict, Violation
from checks.objects import describe, first_present, is_missing, lookup, split_path
from checks.products.apiconnect.declarations import RECONCILED, VERSION_FIELDS
from checks.products.timestamps import describe_age, epoch_seconds
from checks.sources.live.model import Unavailable


@object_check("apic-reconciled", {
    "required": ["phases"],
    "additionalProperties": False,
    "properties": {
        "phases": {"type": "array", "minItems": 1, "items": {"type": "string"},
                   "description": "status.phase values of a settled subsystem"},
    },
})
def reconciled(resource: Resource, params: Params, ctx: UpgradeContext) -> Iterator[Verdict]:
    """The operator has reconciled ``spec.version`` and the subsystem is settled."""
    wanted, wanted_path = first_present(resource.body, VERSION_FIELDS)
    running = lookup(resource.body, RECONCILED)
    if not is_missing(wanted):
        if is_missing(running) or running in (None, ""):
            yield Violation(f"{resource.kind} {resource.name} asks for version {wanted} but "
                            "reports no reconciled version (status.versions.reconciled): the "
                            "operator has not finished rolling it out",
                            RECONCILED, observed=None, expected=str(wanted))
        else:
            try:
                same = (parse_version("apiconnect", wanted).release
                        == parse_version("apiconnect", running).release)
            except VersionError as exc:
                yield NotEvaluated(f"{describe(running)} or {describe(wanted)} is not a "
                                   f"version: {exc}", RECONCILED)
                return
            if not same:
                yield Violation(f"{resource.kind} {resource.name} asks for version {wanted} "
                                f"({'.'.join(map(str, wanted_path))}) but runs {running} "
                                "(status.versions.reconciled): its upgrade is not complete",
                                RECONCILED, observed=str(running), expected=str(wanted))
    phase = lookup(resource.body, ("status", "phase"))
    settled = list(params["phases"])
    if phase not in settled:
        shown = "no status.phase" if is_missing(phase) else f"status.phase {phase}"
        yield Violation(f"{resource.kind} {resource.name} reports {shown}, not one of "
                        f"{', '.join(settled)}: the subsystem is not settled",
                        ("status", "phase"), observed=None if is_missing(phase) else phase,
                        expected=settled)


@dataclass(frozen=True)
class _Backup:
    resource: Resource
    state: str  # "completed", "running" or "other"
    phase: str
    finished: float | None
    finished_field: str


def _phase(resource: Resource, fields: Sequence[str]) -> str:
    for dotted in fields:
        value = lookup(resource.body, split_path(dotted))
        if isinstance(value, str) and value:
            return value
    return ""


def _classify(resource: Resource, params: Params) -> _Backup:
    phase = _phase(resource, params["phase_fields"])
    lowered = phase.lower()
    state = ("completed" if lowered in {p.lower() for p in params["completed"]}
             else "running" if lowered in {p.lower() for p in params["running"]} else "other")
    for dotted in (*params["finished_fields"], "metadata.creationTimestamp"):
        stamp = epoch_seconds(lookup(resource.body, split_path(dotted)))
        if stamp is not None:
            return _Backup(resource, state, phase, stamp, dotted)
    return _Backup(resource, state, phase, None, "")


def _covers(backup: Resource, namespace: str) -> bool:
    """Does a Velero Backup include ``namespace`` (no list, or ``*``, means all)?"""
    included = lookup(backup.body, ("spec", "includedNamespaces"))
    excluded = lookup(backup.body, ("spec", "excludedNamespaces"))
    names = [str(n) for n in included] if isinstance(included, list) else []
    if isinstance(excluded, list) and any(fnmatch.fnmatchcase(namespace, str(n))
                                          for n in excluded):
        return False
    return not names or any(fnmatch.fnmatchcase(namespace, n) for n in names)


def _is(resource: Resource, selector: Mapping[str, Any]) -> bool:
    return bool(resource.kind == selector["kind"] and resource.group == selector["group"])


def _name(backup: _Backup) -> str:
    r = backup.resource
    return f"{r.kind} {r.namespace + '/' if r.namespace else ''}{r.name}"


@set_check("apic-backup-recent", {
    "required": ["subjects", "backups", "completed", "running", "phase_fields",
                 "finished_fields"],
    "additionalProperties": False,
    "properties": {
        "subjects": {"type": "array", "minItems": 1, "items": {"type": "string"},
                     "description": "kinds whose installation needs a recent backup"},
        "backups": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["group", "kind"], "additionalProperties": False,
            "properties": {"group": {"type": "string"}, "kind": {"type": "string"},
                           "covers_namespaces": {"type": "boolean", "description":
                                                 "lives elsewhere and names the namespaces "
                                                 "it backs up (Velero)"}}}},
        "completed": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "running": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "phase_fields": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "finished_fields": {"type": "array", "minItems": 1, "items": {"type": "string"}},
    },
}, uses_context=True)
def backup_recent(resources: Sequence[Resource], params: Params,
                  ctx: UpgradeContext) -> Iterator[Verdict]:
    """A completed backup younger than --max-backup-age, and none running now."""
    subjects = [r for r in resources if r.kind in params["subjects"]]
    if not subjects:
        return
    here, elsewhere = list(resources), [r for group in ctx.elsewhere.values() for r in group]
    limit = ctx.max_backup_age_seconds
    now = ctx.observed_at
    planned = ctx.planned("apiconnect")
    for subject in subjects:
        if planned.holds is None:  # evidence is needed only for an upgrade
            yield NotEvaluated(planned.reason, resource=subject)
            continue
        namespace = subject.namespace or ""
        unread = _unread_backup_kinds(params["backups"], namespace, ctx.unread)
        if len(unread) == len(params["backups"]):
            yield NotEvaluated("no backup kind could be read from the cluster: "
                               + "; ".join(unread), resource=subject)
            continue
        backups = []
        for selector in params["backups"]:
            if selector.get("covers_namespaces"):
                backups += [r for r in here + elsewhere
                            if _is(r, selector) and _covers(r, namespace)]
            else:
                backups += [r for r in here if _is(r, selector) and r.namespace == namespace]
        yield from _judge(subject, [_classify(b, params) for b in backups], limit, now)


def _unread_backup_kinds(selectors: Sequence[Mapping[str, Any]], namespace: str,
                         unread: Sequence[Unavailable]) -> list[str]:
    """Why each backup kind that could not be read for ``namespace`` was not
    (a CRD not installed, a refused list), one reason per kind. Only when no
    backup kind could be read does "no completed backup" mean nothing."""
    reasons = []
    for selector in selectors:
        for item in unread:
            covers = (item.namespace is None or item.namespace == namespace
                      or bool(selector.get("covers_namespaces")))
            if (item.group, item.kind) == (selector["group"], selector["kind"]) and covers:
                reasons.append(item.reason)
                break
    return reasons


def _judge(subject: Resource, backups: Sequence[_Backup], limit: float,
           now: float | None) -> Iterator[Verdict]:
    running = [b for b in backups if b.state == "running"]
    if running:
        names = ", ".join(f"{_name(b)} ({b.phase})" for b in running)
        yield Violation(f"a backup of the management database is running now ({names}): do "
                        "not start the upgrade until it has finished",
                        observed=[b.phase for b in running], expected="no backup running",
                        resource=subject, severity=Severity.BLOCKER)
        return
    if now is None:
        yield NotEvaluated("the time the cluster was read is unknown", resource=subject)
        return
    completed = [b for b in backups if b.state == "completed" and b.finished is not None]
    hours = f"{limit / 3600:g} h"
    if not completed:
        seen = (f" ({len(backups)} backup object(s), none completed)" if backups else "")
        yield Violation(f"no completed backup of the management database of "
                        f"{subject.namespace or subject.name}{seen}; take one before the "
                        "upgrade", expected=f"a completed backup younger than {hours}",
                        resource=subject)
        return
    newest = max(completed, key=lambda b: b.finished or 0.0)
    age = now - (newest.finished or 0.0)
    if age > limit:
        yield Violation(f"the newest completed backup of the management database, "
                        f"{_name(newest)}, finished {describe_age(age)} ago "
                        f"({newest.finished_field}), older than --max-backup-age {hours}; "
                        "take a fresh one", observed=describe_age(age),
                        expected=f"<= {hours}", resource=subject)
