"""YAML decoding that gives the values Kubernetes and Helm see.

Kubernetes (sigs.k8s.io/yaml) and Helm decode YAML with go-yaml v2, which
follows YAML 1.1 for plain scalars: ``off``/``no``/``n`` are ``false``,
``on``/``yes``/``y`` are ``true``, ``010`` is octal 8, ``0x1F`` is hex. It does
*not* implement YAML 1.1 sexagesimal numbers (``1:30`` stays a string) and it
keeps timestamps as strings when decoding into untyped maps. ruamel.yaml
defaults to YAML 1.2 (``off`` is a string) and PyYAML's SafeLoader knows
sexagesimals and timestamps, so neither matches as shipped. This module builds
a resolver with exactly go-yaml v2's implicit types on top of PyYAML's libyaml
parser, the fastest parser that keeps node marks.

Bad input never raises past this module: ``iter_documents`` yields
``InputError`` with a line for broken syntax, duplicate keys and alias bombs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import BaseResolver

from checks.model import InputError

try:  # libyaml ships in PyYAML's wheels; the pure-Python parser is the fallback.
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - depends on the platform's wheel
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser, Composer):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)

#: Expanded nodes one document may reach through aliases. A real manifest has
#: a few thousand; a "billion laughs" document has billions.
MAX_EXPANDED_NODES = 1_000_000
#: Nesting depth a document may have. Real manifests stay under 40; libyaml's
#: composer recurses in C and crashes the process somewhere past 20,000.
MAX_DEPTH = 500

_BOOL = re.compile(r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE"
                   r"|on|On|ON|off|Off|OFF)$")
_TRUE = frozenset({"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
# go-yaml v2 resolves ints with strconv.ParseInt(s, 0, 64): decimal, 0x, 0o, 0b and
# C-style leading-zero octal, with an optional sign and Go's digit underscores.
_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9_]*|0[0-7_]+|0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+)$")
_FLOAT = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
                    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")

_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class GoYamlV2Resolver(BaseResolver):
    """Implicit scalar types exactly as go-yaml v2 resolves them."""


for _tag, _regexp, _first in (
    (_BOOL_TAG, _BOOL, "yYnNtTfFoO"),
    (_INT_TAG, _INT, "-+0123456789"),
    (_FLOAT_TAG, _FLOAT, "-+0123456789."),
    (_NULL_TAG, _NULL, ["~", "n", "N", ""]),
    (_MERGE_TAG, re.compile(r"^<<$"), "<"),
):
    GoYamlV2Resolver.add_implicit_resolver(_tag, _regexp, list(_first))


class DuplicateKeyError(ConstructorError):
    pass


def json_key(key: Any, mark: Any = None) -> str:
    """A mapping key as sigs.k8s.io/yaml turns it into a JSON key.

    Kubernetes and Helm convert YAML to JSON, where keys are strings: an
    unquoted ``y:`` or ``on:`` key becomes ``"true"``, ``1:`` becomes ``"1"``.
    ``mark`` is the key's position, for the error a collection key raises.
    """
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, float):
        return format(key, "g")
    if isinstance(key, (list, dict)):
        raise ConstructorError(None, None, "found a collection used as a mapping key", mark)
    return str(key)


class GoYamlV2Constructor(SafeConstructor):
    """SafeConstructor with go-yaml v2 semantics and Kubernetes' strictness.

    Duplicate keys are an error (kubectl's strict decoding rejects them and
    the silent last-one-wins of PyYAML would hide which value is applied).
    Timestamps and binaries stay strings; unknown local tags (``!Ref``) decode
    as their untagged value, as go-yaml does.
    """

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        # Duplicates are checked on the keys as written, before merge keys
        # (``<<: *base``) are flattened in: overriding a merged key is legal.
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = json_key(self.construct_object(key_node, deep=True), key_node.start_mark)
            first = seen.get(key)
            if first is not None:
                raise DuplicateKeyError(
                    None, None, f"duplicate key {key!r} (first defined at line {first})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        mapping = super().construct_mapping(node, deep=deep)
        if all(isinstance(k, str) for k in mapping):
            return mapping
        return {json_key(k): v for k, v in mapping.items()}

    def construct_yaml_bool(self, node: ScalarNode) -> bool:
        return str(self.construct_scalar(node)) in _TRUE

    def construct_yaml_int(self, node: ScalarNode) -> int:
        text = str(self.construct_scalar(node)).replace("_", "")
        sign = -1 if text.startswith("-") else 1
        text = text.lstrip("+-")
        if text.startswith(("0x", "0X")):
            return sign * int(text[2:], 16)
        if text.startswith(("0b", "0B")):
            return sign * int(text[2:], 2)
        if text.startswith(("0o", "0O")):
            return sign * int(text[2:], 8)
        if len(text) > 1 and text.startswith("0"):
            return sign * int(text, 8)
        return sign * int(text)

    def construct_as_string(self, node: Node) -> str:
        return str(self.construct_scalar(node))  # type: ignore[arg-type]

    def construct_untagged(self, tag_suffix: str, node: Node) -> Any:
        if isinstance(node, ScalarNode):
            return node.value
        if isinstance(node, SequenceNode):
            return self.construct_sequence(node, deep=True)
        return self.construct_mapping(node, deep=True)  # type: ignore[arg-type]


# The stubs type these registrations for the stock loaders only.
_STRING_TAGS = ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary")
GoYamlV2Constructor.add_constructor(_BOOL_TAG, GoYamlV2Constructor.construct_yaml_bool)  # type: ignore[type-var]
GoYamlV2Constructor.add_constructor(_INT_TAG, GoYamlV2Constructor.construct_yaml_int)  # type: ignore[type-var]
for _string_tag in _STRING_TAGS:
    GoYamlV2Constructor.add_constructor(_string_tag, GoYamlV2Constructor.construct_as_string)  # type: ignore[type-var]
GoYamlV2Constructor.add_multi_constructor("!", GoYamlV2Constructor.construct_untagged)


class KubernetesLoader(_Parser, GoYamlV2Constructor, GoYamlV2Resolver):
    """libyaml parser + go-yaml v2 types: what `kubectl apply` would decode."""

    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        GoYamlV2Constructor.__init__(self)
        GoYamlV2Resolver.__init__(self)


@dataclass(frozen=True)
class Document:
    index: int
    line: int
    value: Any
    node: Node | None  # None on the fast path (no node marks)


def expanded_size(node: Node, limit: int = MAX_EXPANDED_NODES) -> int:
    """Count the nodes a document has once every alias is expanded.

    Aliases share node objects, so memoising by identity makes this linear in
    the *distinct* nodes while computing the *expanded* size; it stops as soon
    as the count passes ``limit``.
    """
    sizes: dict[int, int] = {}

    def size(n: Node) -> int:
        known = sizes.get(id(n))
        if known is not None:
            return known
        total = 1
        if isinstance(n, SequenceNode):
            for child in n.value:
                total += size(child)
                if total > limit:
                    break
        elif isinstance(n, MappingNode):
            for key, value in n.value:
                total += size(key) + size(value)
                if total > limit:
                    break
        sizes[id(n)] = total
        return total

    return size(node)


_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_BRACKETS = re.compile(r"[\[\]{}]")
_DEEP_INDENT = re.compile(rf"\n[ \t]{{{MAX_DEPTH},}}\S")
_DASH_RUN = re.compile(rf"(?:-[ \t]+){{{MAX_DEPTH // 5},}}")


def may_be_too_deep(text: str) -> bool:
    """Cheap over-estimates (C-speed regexes) that rule out deep nesting.

    Flow nesting is bounded by the bracket balance (quoted brackets only make
    the bound larger), block nesting by indentation and by runs of ``- - -``.
    """
    # Substring tests (C speed) gate the regexes: YAML indents with spaces only.
    if ("\n" + " " * MAX_DEPTH in text and _DEEP_INDENT.search(text)) or (
            "- - - -" in text and _DASH_RUN.search(text)):
        return True
    if text.count("[") + text.count("{") <= MAX_DEPTH // 2:
        return False
    depth = peak = 0
    for bracket in _BRACKETS.findall(text):
        depth += _BRACKET_STEP[bracket]
        peak = max(peak, depth)
    return peak > MAX_DEPTH // 2


def _too_deep_at(text: str) -> int | None:
    """Line where nesting first exceeds MAX_DEPTH, from libyaml's (iterative) events."""
    loader = KubernetesLoader(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    return int(mark.line) + 1 if mark is not None else 1
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return None  # the real parse reports it with its location
    finally:
        loader.dispose()
    return None


def _one_line(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    parts = [p for p in (context, problem) if p]
    text = "; ".join(parts) if parts else str(exc).splitlines()[0]
    return " ".join(text.split())


def _error_line(exc: yaml.YAMLError) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else 1


def iter_documents(text: str, path: str) -> Iterator[Document | InputError]:
    """Yield each document of a YAML stream, or an InputError where it breaks.

    A syntax error ends the stream (libyaml cannot resynchronise), but the
    documents before it are still yielded. Empty documents are skipped.
    """
    if may_be_too_deep(text):
        line = _too_deep_at(text)
        if line is not None:
            yield InputError(path, line, f"nesting deeper than {MAX_DEPTH} levels; not loaded")
            return
    loader = KubernetesLoader(text)
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:  # pragma: no cover - check_node() said there is one
                break
            index += 1
            if "*" in text and expanded_size(node) > MAX_EXPANDED_NODES:
                yield InputError(
                    path, node.start_mark.line + 1,
                    f"document {index} expands to more than {MAX_EXPANDED_NODES:,} nodes through "
                    "aliases (alias bomb?); not loaded",
                )
                continue
            value = loader.construct_document(node)
            if value is None:
                continue
            yield Document(index, node.start_mark.line + 1, value, node)
    except yaml.YAMLError as exc:
        kind = "duplicate key" if isinstance(exc, DuplicateKeyError) else "YAML error"
        reason = _one_line(exc)
        if kind == "YAML error":
            reason = f"YAML error: {reason}"
        yield InputError(path, _error_line(exc), reason)
    except RecursionError:
        yield InputError(path, 1, "document nests too deeply to decode")
    finally:
        loader.dispose()


class _ShapeLoader(_Parser, GoYamlV2Resolver):
    """Composes node trees without resolving scalar types: line lookup needs
    shapes and marks only, and resolution is a third of composing time. Keys
    that need their type (``y:`` is "true") are resolved on demand."""

    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        GoYamlV2Resolver.__init__(self)

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is ScalarNode:
            return "?"
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call,no-any-return]


def compose_documents(text: str) -> list[Node]:
    """The node trees of every document (with marks), for line lookup."""
    loader = _ShapeLoader(text)
    nodes: list[Node] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                nodes.append(node)
    finally:
        loader.dispose()
    return nodes


_DOC_MARKER = re.compile(r"^(?:---|\.\.\.)(?=[ \t]|$)", re.M)
_CONTENT = re.compile(r"^[ \t]*[^\s#]", re.M)


def document_regions(text: str) -> list[tuple[int, int, int | None]]:
    """(start, end, content line) of each document, as PyYAML counts them.

    The text before the first marker is a document only if it has content;
    every ``---`` starts one (its content line is None when empty); ``...``
    only ends one. ``start`` includes the ``---`` line, ``end`` is the next
    marker. Shared by the fast path (document lines) and line lookup
    (composing one document alone).
    """
    markers = list(_DOC_MARKER.finditer(text))
    bounds = [m.start() for m in markers] + [len(text)]
    regions: list[tuple[int, int, int | None]] = []
    first = _CONTENT.search(text, 0, bounds[0])
    if first is not None:
        regions.append((0, bounds[0], text.count("\n", 0, first.start()) + 1))
    for marker, stop in zip(markers, bounds[1:], strict=True):
        if marker.group(0) == "...":
            continue
        line_end = text.find("\n", marker.end())
        line_end = len(text) if line_end < 0 else line_end
        marker_line = text.count("\n", 0, marker.start()) + 1
        if text[marker.end():line_end].split("#", 1)[0].strip():
            regions.append((marker.start(), stop, marker_line))  # --- {a: 1}
            continue
        content = _CONTENT.search(text, line_end, stop)
        regions.append((marker.start(), stop,
                        None if content is None else text.count("\n", 0, content.start()) + 1))
    return regions

