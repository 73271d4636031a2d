"""Line numbers for findings, computed only when a finding needs one.

Loading every document with line information is the slow way to lint (the
ruamel.yaml round-trip loader is ~17x slower than libyaml). Instead the fast
loader keeps only the document's start line, and when a check reports a JSON
path, this module re-composes that one file (cached) and walks the node tree
to the offending field. Paths that do not exist in the file (a value merged in
from chart defaults, a field the check says is missing) resolve to the
deepest ancestor that does exist, which is where the user has to act.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from checks import timings
from checks.model import JsonPath, Origin, Resource
from checks.sources.yaml11 import (
    STR_TAG,
    Region,
    compose_documents,
    construct_scalar,
    document_regions,
    json_key,
    plain_tag,
)

TextProvider = Callable[[str], str | None]


def _key_matches(node: Node, key: object) -> bool:
    """Does this key node decode to ``key`` (``y:`` is the JSON key "true")?"""
    if not isinstance(node, ScalarNode):
        return False
    if node.value == key:
        return True
    if node.style or node.tag == STR_TAG:  # quoted, or plainly a string
        return False
    return _plain_key(node.tag, node.value) == key


@lru_cache(maxsize=4096)
def _plain_key(tag: str, text: str) -> object:
    """The JSON key a plain key decodes to; ``tag`` is "?" when the key was
    composed without resolution. Most keys resolve to strings, which are
    their own JSON key: only the others need a loader (once per text)."""
    if tag == "?":
        tag = plain_tag(text)
    if tag == STR_TAG:
        return text
    try:
        return json_key(construct_scalar(text, tag))
    except Exception:
        return _NO_KEY


_NO_KEY = object()  # a key go-yaml refuses matches nothing


def _child(node: Node, part: str | int) -> tuple[Node, int | None] | None:
    """The child at ``part`` and, when the mapping itself holds it, the line
    of its key (``template:``), which is where users look."""
    if isinstance(node, MappingNode):
        for key_node, value_node in reversed(node.value):
            if _key_matches(key_node, part):
                return value_node, int(key_node.start_mark.line) + 1
            if key_node.value == "<<" and not getattr(key_node, "style", None) and key_node.tag in (
                    "?", "tag:yaml.org,2002:merge"):
                merged = [value_node] if isinstance(value_node, MappingNode) else list(
                    getattr(value_node, "value", []))
                for source in merged:
                    via_merge = _child(source, part)
                    if via_merge is not None:
                        return via_merge[0], None
        return None
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part], None
    return None


def line_in_node(root: Node, path: JsonPath, offset: int = 0) -> int:
    """The line of ``path`` in a document whose node marks are ``offset``
    lines above their place in the file (a document composed alone)."""
    node = root
    line = int(root.start_mark.line) + 1
    for part in path:
        found = _child(node, part)
        if found is None:
            break
        node, key_line = found
        line = key_line if key_line is not None else int(node.start_mark.line) + 1
    return line + offset


class _Placed(NamedTuple):
    """A document's node tree and how many lines above its place in the file
    its marks are (composed alone, it starts at line 1)."""

    node: Node
    offset: int


class LineLocator:
    """Maps (origin, json path) to a 1-based line, caching composed files."""

    def __init__(self, read_text: TextProvider, cache_size: int = 64) -> None:
        self._read_text = read_text
        self._compose = lru_cache(maxsize=cache_size)(self._compose_file)
        self._split = lru_cache(maxsize=8)(self._split_file)
        self._alone = lru_cache(maxsize=cache_size)(self._node_alone)
        self._known: dict[tuple[Origin, JsonPath], int] = {}

    def remember(self, found: Iterable[tuple[Origin, JsonPath, int]]) -> None:
        """Lines looked up elsewhere (by a ``--jobs`` worker, which has the
        file's text at hand): ``line`` answers them without composing again."""
        self._known.update(((origin, path), line) for origin, path, line in found)

    def _compose_file(self, path: str) -> list[_Placed | None] | None:
        """Every document's node tree; after a broken document (the loader read
        the later ones alone) each document is composed alone."""
        text = self._read_text(path)
        if text is None:
            return None
        try:
            return [_Placed(node, 0) for node in compose_documents(text)]
        except Exception:  # the document loaded once; a failure here only costs precision
            pass
        regions = document_regions(text)
        return [self._document_node(path, text, regions, index, whole_file=False)
                for index in range(1, len(regions) + 1)]

    def line(self, origin: Origin, path: JsonPath) -> int:
        """One lookup (an installation's declaration): its document composed
        alone, not its file (a ``helm template`` stream of thousands)."""
        known = self._known.get((origin, path))
        if known is not None:
            return known
        with timings.phase("lines"):
            placed = self._alone(origin.path, origin.doc_index)
            return origin.line if placed is None else line_in_node(
                placed.node, origin.prefix + path, placed.offset)

    def _split_file(self, path: str) -> tuple[str | None, list[Region]]:
        text = self._read_text(path)
        return text, document_regions(text) if text is not None else []

    def _node_alone(self, path: str, doc_index: int) -> _Placed | None:
        text, regions = self._split(path)
        return self._document_node(path, text, regions, doc_index)

    def lines(self, requests: Sequence[tuple[Origin, JsonPath]]) -> list[int]:
        """Many lookups: each document with findings is composed once, alone.

        Composing only the documents that have findings (not their whole files)
        keeps line lookup proportional to findings. A document that does not
        compose on its own falls back to composing its file.
        """
        with timings.phase("lines"):
            return self._lines(requests)

    def _lines(self, requests: Sequence[tuple[Origin, JsonPath]]) -> list[int]:
        by_doc: dict[tuple[str, int], list[int]] = {}
        for position, (origin, _) in enumerate(requests):
            by_doc.setdefault((origin.path, origin.doc_index), []).append(position)
        out = [0] * len(requests)
        current: tuple[str, str | None, list[Region]] = ("", None, [])
        for (path, doc_index), positions in sorted(by_doc.items()):
            if current[0] != path:  # sorted: each file is read and split once
                text = self._read_text(path)
                current = (path, text, document_regions(text) if text is not None else [])
            placed = self._document_node(path, current[1], current[2], doc_index)
            for position in positions:
                origin, json_path = requests[position]
                out[position] = (origin.line if placed is None else line_in_node(
                    placed.node, origin.prefix + json_path, placed.offset))
        return out

    def resource_lines(self, requests: Sequence[tuple[Resource, JsonPath]]) -> list[int]:
        """``lines`` for (resource, path) pairs, as the evaluator asks for them."""
        return self.lines([(resource.origin, path) for resource, path in requests])

    def _document_node(self, path: str, text: str | None,
                       regions: Sequence[Region],
                       doc_index: int, whole_file: bool = True) -> _Placed | None:
        if text is None or doc_index < 1:
            return None
        if doc_index <= len(regions):
            region = regions[doc_index - 1]
            try:
                alone = compose_documents(text[region.start:region.end])
            except Exception:
                alone = []
            if len(alone) == 1:
                return _Placed(alone[0], region.start_line - 1)
        if not whole_file:
            return None
        nodes = self._compose(path)
        return nodes[doc_index - 1] if nodes and doc_index <= len(nodes) else None
