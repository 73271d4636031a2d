"""The JSON report: stable, versioned, validated by ``report.schema.json``.

``schema_version`` changes only when a field changes meaning or goes away;
new fields may be added in minor versions.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from checks.model import Outcome, Result, Severity
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
    encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    with path.open("w", encoding="utf-8") as out:
        out.write(encode(head)[:-1] + ',"results":[')
        separator = ""
        for line in _ResultEncoder(encode).lines(report):
            out.write(separator)
            out.write(line)
            separator = ","
        out.write("]}\n")


_encode_str = json.encoder.encode_basestring
_GATING = (Outcome.FAILED, Outcome.INVALID_INPUT)


class _ResultEncoder:
    """Encodes results field by field, caching what repeats across results (a
    rule's id, title and remediation; object refs; paths). Same bytes as
    encoding ``result_dict``, at a fraction of the cost for large scans."""

    def __init__(self, encode: Any) -> None:
        self.encode = encode
        self.cache: dict[Any, str] = {}

    def cached(self, value: Any) -> str:
        text = self.cache.get(value)
        if text is None:
            text = self.cache[value] = self.encode(_jsonable(value))
        return text

    def obj(self, result: Result) -> str:
        ref = result.obj
        if ref is None:
            return "null"
        text = self.cache.get(ref)
        if text is None:
            text = self.cache[ref] = self.encode({
                "apiVersion": ref.api_version, "kind": ref.kind, "namespace": ref.namespace,
                "name": ref.name})
        return text

    def value(self, value: Any) -> str:
        if value is None:
            return "null"
        if value.__class__ is str:
            return _encode_str(value)
        return str(self.encode(_jsonable(value)))

    def lines(self, report: Report) -> Iterator[str]:
        for r in report.results:
            yield self.line(r, report.fail_on)

    def line(self, r: Result, fail_on: Severity) -> str:
        cached, value = self.cached, self.value
        return "".join((
                '{"rule_id":', cached(r.rule_id), ',"product":', cached(r.product),
                ',"severity":', cached(r.severity.label), ',"outcome":', cached(r.outcome.value),
                ',"gating":', "true" if (r.outcome in _GATING and r.severity >= fail_on)
                else "false",
                ',"title":', cached(r.title), ',"message":', _encode_str(r.message),
                ',"object":', self.obj(r), ',"path":', cached(r.path),
                ',"line":', "null" if r.line is None else str(r.line),
                ',"json_path":', value(r.json_path),
                ',"remediation":', cached(r.remediation),
                ',"observed":', value(r.observed), ',"expected":', value(r.expected), "}"))

