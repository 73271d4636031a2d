"""Findings that are not new: a merge request is failed only for what it adds.

A finding is *existing* when the merge request's base revision (``--base``)
or a previous report (``--baseline``) already had it. Findings are matched by
rule, installation, object and field, never by line number, so an unrelated
edit above a finding does not make it new. Existing findings are reported
(and counted) but do not fail the gate; ``--gate-all`` turns this off.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from checks.model import ObjectRef, Outcome, Result
from checks.sources.files import read_limited

#: (rule id, installation, object, JSON path of the field)
FindingKey = tuple[str, str | None, ObjectRef | None, str | None]


class BaselineError(Exception):
    """The baseline report cannot be read: a usage error."""


def finding_key(result: Result) -> FindingKey:
    return (result.rule_id, result.installation, result.obj, result.json_path)


def finding_keys(results: Iterable[Result]) -> set[FindingKey]:
    return {finding_key(r) for r in results if r.outcome is Outcome.FAILED}


#: A report of 50,000 documents is about 100 MB; a larger "report" is not one.
MAX_BASELINE_BYTES = 512 * 1024 * 1024


def read_baseline(path: str) -> set[FindingKey]:
    """The failed findings of a JSON report written by ``--json`` (a regular file,
    read no further than MAX_BASELINE_BYTES: not a FIFO, not /dev/zero)."""
    raw = read_limited(Path(path), MAX_BASELINE_BYTES)
    if isinstance(raw, str):
        raise BaselineError(f"--baseline {path}: {raw}")
    try:
        data = json.loads(raw.decode("utf-8"))
        results = data["results"]
        return {_key(item) for item in results if item.get("outcome") == "failed"}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BaselineError(f"--baseline {path}: not an upgrade-lint JSON report "
                            "(write one with --json)") from None


def _key(item: dict[str, Any]) -> FindingKey:
    obj = item.get("object")
    ref = None if obj is None else ObjectRef(obj["apiVersion"], obj["kind"], obj["namespace"],
                                             obj["name"])
    return (item["rule_id"], item.get("installation"), ref, item.get("json_path"))


def mark_existing(results: Sequence[Result], known: set[FindingKey]) -> list[Result]:
    """``results`` with every finding in ``known`` marked existing."""
    if not known:
        return list(results)
    return [r._replace(existing=True) if r.outcome is Outcome.FAILED
            and finding_key(r) in known else r for r in results]
