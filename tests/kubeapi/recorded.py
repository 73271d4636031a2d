"""Read the recorded kube-apiserver responses (tests/data/k8s-api-recorded) and compare shapes.

A recording is `curl -i` output: status line, headers, blank line, body. `objects()` rebuilds the
recorded cluster's objects from the recorded list bodies, so the test server can be loaded with
exactly what the real server held and answer the same requests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

RECORDED = Path(__file__).resolve().parents[1] / "data" / "k8s-api-recorded"


@dataclass(frozen=True)
class Recording:
    name: str
    status: int
    headers: dict[str, str]
    body: str

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        return json.loads(self.body)


@cache
def load(prefix: str) -> Recording:
    """The recording whose file name starts with `prefix` ("10" or "10-list-configmaps...")."""
    matches = sorted(RECORDED.glob(f"{prefix}*.http"))
    if len(matches) != 1:
        raise LookupError(f"{len(matches)} recordings match {prefix!r} in {RECORDED}")
    text = matches[0].read_text()
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    status_line, *header_lines = head.splitlines()
    headers = {}
    for line in header_lines:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return Recording(matches[0].name, int(status_line.split()[1]), headers, body)


@cache
def index() -> dict[str, tuple[str, str]]:
    """Recording file name -> (method, path with query) from INDEX.tsv."""
    rows = (RECORDED / "INDEX.tsv").read_text().splitlines()[1:]
    return {cols[0]: (cols[2], cols[3]) for cols in (row.split("\t") for row in rows if row)}


def _items(prefix: str) -> list[dict[str, Any]]:
    document = load(prefix).json()
    api_version, kind = document["apiVersion"], document["kind"].removesuffix("List")
    # Built-in list items carry no apiVersion/kind: give them back what a GET would show.
    return [{"apiVersion": api_version, "kind": kind, **item} for item in document["items"]]


def objects() -> list[dict[str, Any]]:
    """The recorded cluster's objects: ConfigMaps (10-12), GatewayClusters (16), Namespaces (54)."""
    found = _items("10") + _items("11") + _items("12") + _items("16")
    namespaces = load("54").json()["rows"]
    return found + [row["object"] for row in namespaces]


def shape(value: Any) -> Any:
    """Key sets and value types, recursively; a list becomes the set of its elements' shapes."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return {"[]": sorted({json.dumps(shape(item), sort_keys=True) for item in value})}
    return type(value).__name__
