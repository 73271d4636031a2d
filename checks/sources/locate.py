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

from collections.abc import Callable, Sequence
from functools import lru_cache

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from checks import timings
from checks.model import JsonPath, Origin, Resource
from checks.sources.yaml11 import (
    KubernetesLoader,
    Region,
    compose_documents,
    document_regions,
    json_key,
    shift_lines,
)

TextProvider = Callable[[str], str | None]


def _key_matches(node: Node, key: object) -> bool:
    """Does this key node decode to ``key`` (``y:`` is the JSON key "true")?"""
    if not isinstance(node, ScalarNode):
        return False
    if node.value == key:
        return True
    if node.style or node.tag == "tag:yaml.org,2002:str":  # quoted, or plainly a string
        return False
    loader = KubernetesLoader("")
    try:
        if node.tag == "?":  # composed without resolution: resolve this key now
            tag = loader.resolve(ScalarNode, node.value, (True, False))  # type: ignore[no-untyped-call]
            node = ScalarNode(tag, node.value, node.start_mark, node.end_mark)
        return json_key(loader.construct_object(node)) == key
    except Exception:
        return False
    finally:
        loader.dispose()


def _child(node: Node, part: str | int) -> Node | None:
    if isinstance(node, MappingNode):
        for key_node, value_node in reversed(node.value):
            if _key_matches(key_node, part):
                found: Node = value_node
                return found
            if key_node.value == "<<" and not getattr(key_node, "style", None) and key_node.tag in (
                    "?", "tag:yaml.org,2002:merge"):
                merged = [value_node] if isinstance(value_node, MappingNode) else list(
                    getattr(value_node, "value", []))
                for source in merged:
                    via_merge = _child(source, part)
                    if via_merge is not None:
                        return via_merge
        return None
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        child: Node = node.value[part]
        return child
    return None


def _key_line(node: Node, part: str | int) -> int | None:
    """Line of the key itself (``template:``), which is where users look."""
    if isinstance(node, MappingNode):
        for key_node, _ in reversed(node.value):
            if _key_matches(key_node, part):
                return int(key_node.start_mark.line) + 1
    return None


def line_in_node(root: Node, path: JsonPath) -> int:
    node = root
    line = int(root.start_mark.line) + 1
    for part in path:
        key_line = _key_line(node, part)
        child = _child(node, part)
        if child is None:
            break
        line = key_line if key_line is not None else int(child.start_mark.line) + 1
        node = child
    return line


class LineLocator:
    """Maps (origin, json path) to a 1-based line, caching composed files."""

    def __init__(self, read_text: TextProvider, cache_size: int = 64) -> None:
        self._read_text = read_text
        self._compose = lru_cache(maxsize=cache_size)(self._compose_file)
        self._split = lru_cache(maxsize=8)(self._split_file)
        self._alone = lru_cache(maxsize=cache_size)(self._node_alone)

    def _compose_file(self, path: str) -> list[Node | None] | None:
        """Every document's node tree; after a broken document (the loader read
        the later ones alone) each document is composed alone."""
        text = self._read_text(path)
        if text is None:
            return None
        try:
            return list(compose_documents(text))
        except Exception:  # the document loaded once; a failure here only costs precision
            pass
        regions = document_regions(text)
        return [self._document_node(path, text, regions, index, whole_file=False)
                for index in range(1, len(regions) + 1)]

    def line(self, origin: Origin, path: JsonPath) -> int:
        """One lookup (an installation's declaration): its document composed
        alone, not its file (a ``helm template`` stream of thousands)."""
        with timings.phase("lines"):
            node = self._alone(origin.path, origin.doc_index)
            return origin.line if node is None else line_in_node(node, origin.prefix + path)

    def _split_file(self, path: str) -> tuple[str | None, list[Region]]:
        text = self._read_text(path)
        return text, document_regions(text) if text is not None else []

    def _node_alone(self, path: str, doc_index: int) -> Node | None:
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
            node = self._document_node(path, current[1], current[2], doc_index)
            for position in positions:
                origin, json_path = requests[position]
                out[position] = (origin.line if node is None
                                 else line_in_node(node, origin.prefix + json_path))
        return out

    def resource_lines(self, requests: Sequence[tuple[Resource, JsonPath]]) -> list[int]:
        """``lines`` for (resource, path) pairs, as the evaluator asks for them."""
        return self.lines([(resource.origin, path) for resource, path in requests])

    def _document_node(self, path: str, text: str | None,
                       regions: Sequence[Region],
                       doc_index: int, whole_file: bool = True) -> Node | None:
        if text is None or doc_index < 1:
            return None
        if doc_index <= len(regions):
            region = regions[doc_index - 1]
            try:
                alone = compose_documents(text[region.start:region.end])
            except Exception:
                alone = []
            if len(alone) == 1:
                return shift_lines(alone[0], region.start_line - 1)
        if not whole_file:
            return None
        nodes = self._compose(path)
        return nodes[doc_index - 1] if nodes and doc_index <= len(nodes) else None
