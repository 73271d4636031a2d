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

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

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


#: Characters of a value quoted in an error message.
_EXCERPT = 40


def _tag_name(tag: str) -> str:
    return "!!" + tag.rpartition(":")[2] if tag.startswith("tag:yaml.org,2002:") else tag


def _excerpt(node: Node) -> str:
    if not isinstance(node, ScalarNode):
        return "(a collection)"
    value = str(node.value)
    return repr(value if len(value) <= _EXCERPT else value[:_EXCERPT] + "...")


class GoYamlV2Constructor(SafeConstructor):
    """SafeConstructor with go-yaml v2 semantics and Kubernetes' strictness.

    Duplicate keys are an error (kubectl's strict decoding rejects them and
    the silent last-one-wins of PyYAML would hide which value is applied).
    Timestamps and binaries stay strings; unknown local tags (``!Ref``) decode
    as their untagged value, as go-yaml does.
    """

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        """Every conversion failure becomes a located ``ConstructorError``.

        The resolver accepts scalars its converters cannot turn into values
        (``!!int abc``, ``!!float ""``) and the stock converters raise
        ``ValueError``/``TypeError``: the one place every node passes through
        turns them into the YAML error the caller reports with a line."""
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, IndexError, ArithmeticError) as exc:
            raise ConstructorError(None, None, f"cannot decode {_tag_name(node.tag)} value "
                                   f"{_excerpt(node)}", node.start_mark) from exc

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode):  # ``!!map [a]``, ``!!set x``
            raise ConstructorError(None, None, f"{_tag_name(node.tag)} on a value that is not "
                                   "a mapping", node.start_mark)
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

    def construct_yaml_int(self, node: ScalarNode) -> int | str:  # type: ignore[override]
        """go-yaml v2's ``strconv.ParseInt(s, 0, 64)`` then ``ParseUint``: a
        plain scalar that looks like an integer but does not parse as a 64-bit
        one (``0x_``, a 5,000-digit number) stays the string it is. An explicit
        ``!!int`` on a non-number is an error, as in go-yaml."""
        written = str(self.construct_scalar(node))
        text = written.replace("_", "")
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        base = 10
        if digits[:2] in ("0x", "0X"):
            base, digits = 16, digits[2:]
        elif digits[:2] in ("0b", "0B"):
            base, digits = 2, digits[2:]
        elif digits[:2] in ("0o", "0O"):
            base, digits = 8, digits[2:]
        elif len(digits) > 1 and digits.startswith("0"):
            base = 8
        if not _INT.match(written):
            raise ConstructorError(None, None, f"cannot decode !!int value {_excerpt(node)}",
                                   node.start_mark)
        # 64 binary digits is the widest a uint64 has: longer is out of range,
        # and never handed to int() (which refuses over 4,300 decimal digits).
        if not digits or len(digits) > 64:
            return written
        try:
            value = sign * int(digits, base)
        except ValueError:
            return written
        if not -(2**63) <= value < 2**64:
            return written
        return value

    def construct_yaml_float(self, node: ScalarNode) -> float | str:  # type: ignore[override]
        """Python's float() with YAML's spellings; a finite literal too large
        for a float64 stays a string (go-yaml's ParseFloat range error)."""
        written = str(self.construct_scalar(node))
        text = written.replace("_", "").lower()
        if text in (".inf", "+.inf"):
            return float("inf")
        if text == "-.inf":
            return float("-inf")
        if text == ".nan":
            return float("nan")
        if not _FLOAT.match(written) and not _INT.match(written):
            raise ConstructorError(None, None, f"cannot decode !!float value {_excerpt(node)}",
                                   node.start_mark)
        try:
            value = float(text) if len(text) <= 4000 else float("inf")
        except ValueError:
            return written
        return written if value in (float("inf"), float("-inf")) else value

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
GoYamlV2Constructor.add_constructor(_FLOAT_TAG, GoYamlV2Constructor.construct_yaml_float)  # type: ignore[type-var]
for _string_tag in _STRING_TAGS:
    GoYamlV2Constructor.add_constructor(_string_tag, GoYamlV2Constructor.construct_as_string)  # type: ignore[type-var]
GoYamlV2Constructor.add_multi_constructor("!", GoYamlV2Constructor.construct_untagged)


class KubernetesLoader(_Parser, GoYamlV2Constructor, GoYamlV2Resolver):
    """libyaml parser + go-yaml v2 types: what `kubectl apply` would decode."""

    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        GoYamlV2Constructor.__init__(self)
        GoYamlV2Resolver.__init__(self)


STR_TAG = "tag:yaml.org,2002:str"
_PLAIN_RESOLVER = GoYamlV2Resolver()


def plain_tag(text: str) -> str:
    """The tag go-yaml v2 gives ``text`` written as a plain scalar."""
    return _PLAIN_RESOLVER.resolve(ScalarNode, text, (True, False))  # type: ignore[no-untyped-call,no-any-return]


def construct_scalar(text: str, tag: str) -> Any:
    """The value go-yaml v2 decodes a scalar ``text`` tagged ``tag`` to (raises
    what the constructor raises for a value it refuses)."""
    loader = KubernetesLoader("")
    try:
        return loader.construct_object(ScalarNode(tag, text))
    finally:
        loader.dispose()


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
        # While a node is being counted it stands for "endless": an alias back
        # to it (``a: &a [*a]``) expands without end, past any limit.
        sizes[id(n)] = limit + 1
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


def _yaml_reason(exc: yaml.YAMLError) -> str:
    reason = _one_line(exc)
    return reason if isinstance(exc, DuplicateKeyError) else f"YAML error: {reason}"


def _block_depth_possible(text: str) -> bool:
    """A sound bound on nesting, without parsing: flow depth is at most the
    number of ``[``/``{``, block depth at most two levels per column of a
    line's indentation-and-indicator prefix (a sequence may sit at its
    parent key's column, everything else indents). Used to skip the exact
    walk of ``node_depth`` on ordinary documents."""
    flow = text.count("[") + text.count("{")
    if flow >= MAX_DEPTH:
        return True
    prefix = max(0, (MAX_DEPTH - flow - 2) // 2)
    return re.search(rf"^[ \t?:-]{{{prefix},}}", text, re.M) is not None


def node_depth(root: Node) -> int:
    """Nesting depth of a composed document, iteratively (no recursion limit)."""
    deepest = 0
    seen: set[int] = set()
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, MappingNode):
            deepest = max(deepest, depth)
            for key, value in node.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
    return deepest


class _Stream:
    """One parse of a YAML text (a whole file, or one document of it after a
    broken one), with the offsets that place it in the file."""

    def __init__(self, text: str, path: str, line_offset: int, index_offset: int,
                 regions: Callable[[], list[Region]], alone: bool = False) -> None:
        self.text, self.path = text, path
        self.alone = alone  # one document of the file, split off after a broken one
        self.line_offset, self.index_offset = line_offset, index_offset
        self.regions = regions  # the whole file's, computed when an error needs them
        self.composed = 0  # documents composed so far (empty ones included)
        self.broken = False  # a syntax error stopped the parse
        self.too_deep = False  # not parsed: some document of it nests too deeply

    def error(self, line: int, reason: str, index: int) -> InputError:
        if len(self.regions()) > 1:  # which document, when there is a choice
            reason = f"document {index}: {reason}"
        return InputError(self.path, line + self.line_offset, reason)

    def documents(self) -> Iterator[Document | InputError]:
        text = self.text
        if may_be_too_deep(text):  # before libyaml's composer, which recurses in C
            line = _too_deep_at(text)
            if line is not None:
                self.broken = True
                if self.alone or len(self.regions()) == 1:  # one document: this one
                    self.composed = 1
                    yield self.error(line, f"nesting deeper than {MAX_DEPTH} levels; "
                                           "not loaded", self.index_offset + 1)
                else:
                    self.too_deep = True
                return
        check_depth = _block_depth_possible(text)
        check_aliases = "*" in text
        loader = KubernetesLoader(text)
        try:
            while True:
                try:
                    if not loader.check_node():
                        return
                    node = loader.get_node()
                except yaml.YAMLError as exc:  # syntax: libyaml cannot go on from here
                    self.broken = True
                    yield self.error(_error_line(exc), _yaml_reason(exc),
                                     self.index_offset + self.composed + 1)
                    return
                if node is None:  # pragma: no cover - check_node() said there is one
                    return
                self.composed += 1
                yield from self._document(loader, node, check_depth, check_aliases)
        finally:
            loader.dispose()

    def _document(self, loader: KubernetesLoader, node: Node, check_depth: bool,
                  check_aliases: bool) -> Iterator[Document | InputError]:
        index = self.index_offset + self.composed
        line = node.start_mark.line + 1
        if check_depth and node_depth(node) > MAX_DEPTH:
            yield self.error(line, f"nesting deeper than {MAX_DEPTH} levels; not loaded", index)
            return
        if check_aliases and expanded_size(node) > MAX_EXPANDED_NODES:
            yield self.error(line, f"expands to more than {MAX_EXPANDED_NODES:,} nodes through "
                                   "aliases (alias bomb?); not loaded", index)
            return
        try:
            value = loader.construct_document(node)
        except yaml.YAMLError as exc:  # a value, not the syntax: the next document is fine
            _reset_constructor(loader)
            yield self.error(_error_line(exc), _yaml_reason(exc), index)
            return
        except RecursionError:
            _reset_constructor(loader)
            yield self.error(line, "document nests too deeply to decode", index)
            return
        if value is None:
            return
        if self.line_offset:
            shift_lines(node, self.line_offset)
        yield Document(index, line + self.line_offset, value, node)


def _reset_constructor(loader: KubernetesLoader) -> None:
    """What ``construct_document`` clears when it succeeds."""
    loader.constructed_objects = {}
    loader.recursive_objects = {}
    loader.state_generators = []
    loader.deep_construct = False


#: A UTF-16 surrogate pair written as two JSON escapes (``"\\ud83d\\ude00"``),
#: not preceded by an odd number of backslashes (``\\\\ud83d`` is text).
_SURROGATE_PAIR = re.compile(
    r"(?<!\\)((?:\\\\)*)\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})")


def _as_code_point(match: re.Match[str]) -> str:
    high, low = int(match[2], 16), int(match[3], 16)
    return f"{match[1]}\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08X}"


def json_surrogate_pairs(text: str) -> str:
    """A JSON file's surrogate pairs as YAML's 8-digit ``\\U`` escapes.

    JSON writes a character outside the Basic Multilingual Plane (an emoji) as
    a pair of ``\\u`` escapes, and Kubernetes decodes a JSON file with a JSON
    decoder, which joins them; libyaml (like go-yaml for a YAML file) refuses
    each half as a code point. Only text that Kubernetes reads as JSON (its
    first non-blank character is ``{``) is rewritten; a lone surrogate stays
    an error, as it is for Kubernetes. Lines and lengths of lines are kept."""
    if "\\u" not in text or not text.lstrip(" \t\r\n\ufeff").startswith("{"):
        return text
    return _SURROGATE_PAIR.sub(_as_code_point, text)


def iter_documents(text: str, path: str) -> Iterator[Document | InputError]:
    """Yield each document of a YAML stream, or an InputError where it breaks.

    A document that does not decode (a duplicate key, a value its tag cannot
    hold, an alias bomb, too deep) is one InputError and the next document is
    read. After a syntax error libyaml cannot go on, so the rest of the file is
    split at its document markers (``---`` at column 0, which ends any scalar)
    and each later document is parsed alone: one broken document never hides
    the others. Empty documents are skipped.
    """
    text = json_surrogate_pairs(text)
    regions = functools.cache(lambda: document_regions(text))
    stream = _Stream(text, path, 0, 0, regions)
    yield from stream.documents()
    if not stream.broken:
        return
    # Too deep to compose (which document is unknown): every document alone.
    # Else from the one after the broken one (its 0-based index is `composed`).
    first = 0 if stream.too_deep else stream.composed + 1
    for number, region in enumerate(regions()[first:], start=first + 1):
        alone = _Stream(text[region.start:region.end], path, region.start_line - 1,
                        number - 1, regions, alone=True)
        yield from alone.documents()


def document_alone(text: str, path: str, regions: list[Region], number: int
                   ) -> list[Document | InputError]:
    """Document ``number`` (1-based) of ``text``, read alone by this careful
    path and placed in the file: what the fast path asks for one document
    that needs node lines (a Template in a ``helm template`` stream), so the
    thousands of ordinary documents around it stay on the fast path."""
    region = regions[number - 1]
    alone = _Stream(text[region.start:region.end], path, region.start_line - 1, number - 1,
                    lambda: regions, alone=True)
    return list(alone.documents())


def shift_lines(root: Node, offset: int) -> Node:
    """Marks of a document composed alone, moved to their place in the file."""
    if offset:
        stack = [root]
        seen: set[int] = set()
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            node.start_mark = _Mark(node.start_mark.line + offset)
            if isinstance(node, MappingNode):
                for key, value in node.value:
                    key.start_mark = _Mark(key.start_mark.line + offset)
                    stack.append(value)
            elif isinstance(node, SequenceNode):
                stack.extend(node.value)
    return root


class _Mark:
    """Just the line of a mark (0-based, like PyYAML's)."""

    __slots__ = ("line",)

    def __init__(self, line: int) -> None:
        self.line = line


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
    """The node trees of every document (with marks), for line lookup.

    A text too deep to load composes to nothing (its lines fall back to the
    document's): libyaml's composer recurses in C."""
    if may_be_too_deep(text) and _too_deep_at(text) is not None:
        return []
    loader = _ShapeLoader(json_surrogate_pairs(text))
    nodes: list[Node] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                nodes.append(node)
    finally:
        loader.dispose()
    return nodes


#: A document marker: ``---`` or ``...`` at a line start, then a blank or the
#: line's end. Searched as a newline and then the marker, which the regex engine
#: finds by skipping to each newline; a multi-line ``^`` is tried at every
#: character (0.14 s of a 10,000-document scan).
_MARKER_AFTER_NEWLINE = re.compile(r"\n(---|\.\.\.)(?=[ \t\n]|\Z)")
_MARKER_AT_START = re.compile(r"(?:---|\.\.\.)(?=[ \t\n]|\Z)")
_CONTENT = re.compile(r"^[ \t]*[^\s#]", re.M)


class Region(NamedTuple):
    """One document of a stream: ``text[start:end]``, the line of its content
    (None when it is empty) and the line it starts on (1-based)."""

    start: int
    end: int
    line: int | None
    start_line: int


class LineCounter:
    """1-based line of ever-increasing offsets, counting each newline once.

    Recounting from the start of the text for every document made a file of
    n documents cost n times its size; this keeps it linear."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0
        self.line = 1
        self.scanned = 0  # characters counted so far (tests check it stays linear)

    def line_at(self, offset: int) -> int:
        if offset < self.position:  # pragma: no cover - callers go forward
            raise ValueError("offsets must not decrease")
        self.line += self.text.count("\n", self.position, offset)
        self.scanned += offset - self.position
        self.position = offset
        return self.line


def document_regions(text: str) -> list[Region]:
    """Each document of ``text``, as PyYAML counts them.

    The text before the first marker is a document only if it has content;
    every ``---`` starts one (its content line is None when empty); ``...``
    only ends one. ``start`` includes the ``---`` line, ``end`` is the next
    marker. Shared by the fast path (document lines), line lookup (composing
    one document alone) and the reading of documents after a broken one.
    """
    markers = [match.start(1) for match in _MARKER_AFTER_NEWLINE.finditer(text)]
    if _MARKER_AT_START.match(text):
        markers.insert(0, 0)
    bounds = [*markers, len(text)]
    regions: list[Region] = []
    lines = LineCounter(text)
    first = _CONTENT.search(text, 0, bounds[0])
    if first is not None:
        regions.append(Region(0, bounds[0], lines.line_at(first.start()), 1))
    for marker, stop in zip(markers, bounds[1:], strict=True):
        if text[marker] == ".":  # ``...`` ends a document, it does not start one
            continue
        line_end = text.find("\n", marker + 3)
        line_end = len(text) if line_end < 0 else line_end
        marker_line = lines.line_at(marker)
        if text[marker + 3:line_end].split("#", 1)[0].strip():
            regions.append(Region(marker, stop, marker_line, marker_line))  # --- {a: 1}
            continue
        content = _CONTENT.search(text, line_end, stop)
        regions.append(Region(marker, stop,
                              None if content is None else lines.line_at(content.start()),
                              marker_line))
    return regions
