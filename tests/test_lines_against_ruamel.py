"""Line numbers checked against an independent reader: ruamel.yaml's round-trip
loader, which records the line of every key and sequence item.

The engine finds lines with its own composer, one document at a time and only
for findings (``checks/sources/locate.py``). Here every key and item of every
object in the fixtures, the demo and the corpus is looked up both ways. Paths
ruamel.yaml reads differently (YAML 1.2 keys such as ``y``, merged keys, chart
defaults that are not in the file) are left out, and counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from checks.model import JsonPath, Resource
from checks.sources.manifests import ScanInputs, locator_for
from tests.support import FIXTURES, every_input, scan


def _paths(node: Any, prefix: JsonPath = ()) -> Iterator[JsonPath]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from _paths(value, (*prefix, index))


def _ruamel_line(document: Any, path: JsonPath) -> int | None:
    """The line ruamel.yaml records for ``path`` (key line for mapping entries,
    item line for sequence items), or None where it reads the path differently."""
    node, line = document, None
    for part in path:
        if isinstance(node, CommentedMap):
            keys = [k for k in node if str(k) == str(part) and not isinstance(k, bool)]
            if len(keys) != 1 or keys[0] in getattr(node, "merge", ()):
                return None
            try:
                line = node.lc.key(keys[0])[0] + 1
            except (KeyError, TypeError):
                return None  # a merged key: no position of its own
            node = node[keys[0]]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            return None
    return line


@pytest.mark.parametrize("path", every_input(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_key_line_matches_ruamel(path: Path) -> None:
    result = scan(path)
    locator = locator_for(ScanInputs([str(path)], {}, 1 << 24, None, False))
    documents: dict[str, list[Any]] = {}
    requests: list[tuple[Resource, JsonPath]] = []
    for resource in result.resources:
        if resource.origin.path not in documents:
            documents[resource.origin.path] = list(YAML(typ="rt").load_all(
                Path(resource.origin.path).read_text("utf-8")))
        requests += [(resource, p) for p in _paths(resource.body)
                     if not resource.is_defaulted(p)]
    ours = locator.resource_lines(requests)
    compared = 0
    mismatches = []
    for (resource, json_path), line in zip(requests, ours, strict=True):
        origin = resource.origin
        expected = _ruamel_line(documents[origin.path][origin.doc_index - 1],
                                origin.prefix + json_path)
        if expected is None:
            continue
        compared += 1
        if line != expected:
            mismatches.append((origin.path, json_path, line, expected))
    assert not mismatches, mismatches[:10]
    if result.resources:
        assert compared > 0
