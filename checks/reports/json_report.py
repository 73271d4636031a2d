"""The JSON report: stable, versioned, validated by ``report.schema.json``.

``schema_version`` changes only when a field changes meaning or goes away;
new fields may be added in minor versions.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from checks.model import Result
from checks.reports.model import OUTCOME_ORDER, Report

SCHEMA_VERSION = "1.0"


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def result_dict(result: Result, gating: bool) -> dict[str, Any]:
    obj = None
    if result.obj is not None:
        obj = {"apiVersion": result.obj.api_version, "kind": result.obj.kind,
               "namespace": result.obj.namespace, "name": result.obj.name}
    return {
        "rule_id": result.rule_id,
        "product": result.product,
        "severity": result.severity.label,
        "outcome": result.outcome.value,
        "gating": gating,
        "title": result.title,
        "message": result.message,
        "object": obj,
        "path": result.path,
        "line": result.line,
        "json_path": result.json_path,
        "remediation": result.remediation,
        "observed": _jsonable(result.observed),
        "expected": _jsonable(result.expected),
    }


def build(report: Report, with_results: bool = True) -> dict[str, Any]:
    scan = report.scan
    counts = report.count_by_outcome()
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "upgrade-lint", "version": report.tool_version},
        "catalog": {"digest": scan.catalog.digest, "rules": len(scan.catalog.rules)},
        "generated_at": scan.started_at.isoformat(timespec="seconds"),
        "duration_seconds": round(scan.seconds, 3),
        "inputs": {"paths": list(report.paths), "files": scan.files,
                   "documents": scan.documents, "objects": scan.objects},
        "fail_on": report.fail_on.label,
        "verdict": "fail" if report.failed else "pass",
        "targets": {p: path.as_dict() for p, path in sorted(scan.context.paths.items())},
        "summary": {o.value: sum(counts[o].values()) for o in OUTCOME_ORDER},
        "rules": [
            {"id": rule.id, "product": rule.product, "severity": rule.severity.label,
             "mode": rule.mode, "title": rule.title}
            for rule in report.rules()
        ],
        **({"results": [result_dict(r, report.gates(r)) for r in report.results]}
           if with_results else {}),
    }


def write(report: Report, path: Path) -> None:
    """Compact and streamed: a scan of 10,000 documents has tens of thousands of
    results; building them as one document would double the scan's peak memory,
    and indentation triples the encoding time and size (read it with ``jq``).
    The bytes are those of ``json.dumps(build(report), separators=(",", ":"))``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    head = build(report, with_results=False)
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    with path.open("w", encoding="utf-8") as out:
        out.write(dumps(head)[:-1] + ',"results":[')
        for index, result in enumerate(report.results):
            if index:
                out.write(",")
            out.write(dumps(result_dict(result, report.gates(result))))
        out.write("]}\n")
