"""The fast path: rapidyaml parses, emits JSON, and json.loads builds the dicts.

Why: touching every YAML node from Python costs about as much as PyYAML's
libyaml load (the baseline a linter has to beat). rapidyaml parses in C++ at
over 100 MB/s and emits each document as JSON in C++; CPython's C JSON
decoder then builds the Python objects. No per-node Python code runs except
``object_pairs_hook``, which builds each dict and refuses duplicate keys.

JSON cannot express everything YAML 1.1 means, so a file is handed to the
careful path (``yaml11.iter_documents``, PyYAML with go-yaml v2 semantics)
whenever the fast result could differ from it. That is decided by what the
file holds, never by words that merely appear in it (``volumeClaimTemplates``,
``.dockerconfigjson``, ``&&`` in a shell command are ordinary text):

- a plain (unquoted) scalar that go-yaml v2 reads differently from rapidyaml's
  JSON (``off``/``yes``/``y``, ``True``, ``~``, octal ``010``, ``0x1F``,
  ``1_000``, ``.inf``, ``nan``, ``+1``, a key ``1.0:``): a regex over the
  JSON text finds a string that could have come from one
  (``_json_suspect``), and only then are the plain scalars
  of that file's parse tree compared, each distinct text once
  (``plain_differs``);
- anchors, aliases, merge keys and tags, as the parse tree marks them in
  the documents whose text has a place for one (``_property_starts``);
- duplicate keys (the careful path reports them with their line);
- a document that is an OpenShift ``Template`` or a ``List`` (``kind: List``,
  ``DeploymentList``), whose items need node lines: that document alone is
  read again by the careful path (``yaml11.document_alone``);
- anything rapidyaml rejects or emits as invalid JSON, and any disagreement
  on the number of documents.

Both paths give identical documents; ``tests/test_fast_path.py`` scans every
fixture both ways and compares every outcome and line.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import os
import re
import sys
from collections.abc import Iterator
from typing import Any, NamedTuple

from checks import timings
from checks.model import InputError
from checks.sources.yaml11 import (
    STR_TAG,
    Document,
    Region,
    construct_scalar,
    document_alone,
    document_regions,
    iter_documents,
    json_key,
    may_be_too_deep,
    plain_tag,
)

try:
    import ryml
except ImportError:  # pragma: no cover - rapidyaml is a dependency; stay correct without it
    ryml = None

_NONE = 2**64 - 1  # rapidyaml's NONE node id
#: Strings that go-yaml v2 would not read as strings when written plain.
SPECIAL_WORDS = frozenset((
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "True", "TRUE", "False", "FALSE",
    "on", "On", "ON", "off", "Off", "OFF", "~", "Null", "NULL"))
#: Plain words whose fast reading may differ from go-yaml's although go-yaml
#: reads them as strings: rapidyaml's JSON turns ``nan``/``inf`` into ``.nan``/``.inf``
#: (and ``<<`` is a merge key).
_RISKY_WORDS = SPECIAL_WORDS | {
    f"{sign}{word}" for sign in ("", "-", "+") for word in (
        "nan", "NaN", "NAN", "inf", "Inf", "INF", "infinity", "Infinity", "INFINITY")} | {"<<"}
#: go-yaml v2 tries numbers only for plain scalars starting with one of these
#: (its resolve table); other texts are strings unless they are a listed word.
_NUMERIC_START = frozenset("0123456789+-.")
#: An anchor, alias or tag: ``&``, ``*`` or ``!`` and then a name.
_PROPERTY = re.compile(r"[&*!][^\s,\[\]{}]")
#: Parse-tree node flags of anchors, aliases and tags.
_ANCHOR_FLAGS = 0 if ryml is None else (
    ryml.KEYANCH | ryml.VALANCH | ryml.KEYREF | ryml.VALREF | ryml.KEYTAG | ryml.VALTAG)
_INT_TAG = "tag:yaml.org,2002:int"


class _Careful(Exception):
    """The fast path cannot vouch for this file."""


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same type (``1`` is not ``1.0`` nor ``True``; NaN is NaN)."""
    return a.__class__ is b.__class__ and (a == b or (a != a and b != b))


class _Readings(NamedTuple):
    value_differs: bool  # as a value
    key_differs: bool  # as a mapping key (a JSON key is text)


#: ``plain_differs`` per distinct text: a scan meets the same few thousand.
_READINGS: dict[str, _Readings] = {}
_READINGS_MAX = 200_000


def _fast_plain(text: str) -> Any:
    """How the fast path reads ``text`` written plain (rapidyaml, then JSON)."""
    tree = ryml.parse_in_arena(b"- " + text.encode("utf-8"))
    return json.loads(ryml.emit_json_malloc(tree, tree.root_id()),
                      parse_int=_int64, parse_float=_float64)[0]


#: A decimal number without exponent (``8080``, ``-1``, ``0.5``): rapidyaml's
#: JSON writes such a plain scalar as it is, and go-yaml reads it as the same
#: int or float (``tests/test_fast_path.py`` checks it over many shapes; with
#: an exponent it does not hold: rapidyaml writes ``0e0`` as a string).
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")


def plain_differs(text: str) -> _Readings:
    """Whether go-yaml v2 and the fast path read ``text``, written plain, as
    different values (and, as a key, as different JSON keys). Exact: both
    readers are asked, once per distinct text, unless go-yaml reads it as the
    string itself (rapidyaml rewrites only texts go-yaml reads as floats:
    ``nan`` -> ``.nan``) or it is a JSON number read alike as a value."""
    found = _READINGS.get(text)
    if found is not None:
        return found
    tag = plain_tag(text)
    if tag == STR_TAG and text not in _RISKY_WORDS:
        found = _Readings(False, False)
    elif len(text) <= 18 and _JSON_NUMBER.fullmatch(text):
        number = int(text) if tag == _INT_TAG else float(text)
        found = _Readings(False, json_key(number) != text)  # a key 1.0: is "1"
    else:
        found = _readings(text, tag)
    if len(_READINGS) >= _READINGS_MAX:
        _READINGS.clear()
    _READINGS[text] = found
    return found


def _readings(text: str, tag: str) -> _Readings:
    try:
        fast = _fast_plain(text)
    except Exception:  # rapidyaml or JSON refuse it: a file holding it plain goes careful
        found = _Readings(True, True)
    else:
        if tag == STR_TAG:
            found = _Readings(not _same(fast, text), fast.__class__ is str and fast != text)
        elif fast.__class__ is str:
            found = _Readings(True, True)
        else:
            try:
                careful = construct_scalar(text, tag)
                key = json_key(careful)
            except Exception:  # go-yaml refuses the value: let the careful path say so
                found = _Readings(True, True)
            else:
                found = _Readings(not _same(fast, careful), key != text)
    return found


def _value_suspect(value: str) -> bool:
    """Could this string of the fast result come from a plain scalar that
    go-yaml reads differently? (The parse tree then says whether it did.)"""
    return value in _RISKY_WORDS or (value[:1] in _NUMERIC_START and _numeric_suspect(value))


def _numeric_suspect(value: str) -> bool:
    found = _READINGS.get(value)
    return (found if found is not None else plain_differs(value)).value_differs


def _key_suspect(key: str) -> bool:
    return key in _RISKY_WORDS or (key[:1] in _NUMERIC_START and plain_differs(key).key_differs)


def _plain_scalars_differ(tree: Any) -> bool:
    """Does any plain scalar of the parse tree read differently in go-yaml?
    (A walk over the nodes, only for files where ``_json_suspect`` saw one.)"""
    for node in range(tree.size()):
        if tree.has_val(node) and tree.is_val_plain(node):
            value = tree.val(node)  # None: empty, null in both readings
            if value is not None and _value_suspect(bytes(value).decode("utf-8", "replace")):
                return True
        if tree.has_key(node) and tree.is_key_plain(node):
            key = tree.key(node)
            if key is not None and _key_suspect(bytes(key).decode("utf-8", "replace")):
                return True
    return False


def _property_starts(text: str) -> Iterator[int]:
    """Where ``text`` could hold an anchor, alias or tag: only where a node can start:
    at a line's start after indentation, after ``-``, ``?`` or ``---`` and a
    blank, after ``:`` (a flow mapping's value may follow it directly), or in
    a flow collection after ``[``, ``{`` or ``,`` (YAML 1.2, 6.9 "Node
    Properties"; 8.2.1 and 7.4 say where nodes start). A shell ``cd x && make``
    or ``rm *.log`` inside a scalar is not there, so it no longer sends one in
    six files to the walk over the parse tree, which alone decides."""
    for match in _PROPERTY.finditer(text):
        start = before = match.start()
        while before and text[before - 1] in " \t":
            before -= 1
        previous = text[before - 1] if before else "\n"
        if previous in _NODE_START or (previous in "-?" and before < start):
            yield start


_NODE_START = frozenset("\n\r\ufeff:[{,")


def _anchors_or_tags(tree: Any, documents: list[int], text: str,
                     regions: list[Region]) -> bool:
    """Does the parse tree mark an anchor, alias or tag where the text may
    hold one? Only the documents (``documents``: their node ids, in the order
    of ``regions``) with such a place are walked: a ``helm template`` stream
    of 2,000 documents, one of which runs ``make && make install`` in a
    block scalar, was walked whole (140,000 nodes, a third of its parse)."""
    starts = [region.start for region in regions]
    walk: set[int] = set()
    for offset in _property_starts(text):
        number = bisect.bisect_right(starts, offset) - 1
        if number < 0 or offset >= regions[number].end:
            # Outside every document: no place for a node, but the tree decides.
            return _any_node_marked(tree)
        walk.add(number)
    if len(walk) == len(regions):  # every document: the flat scan is cheaper
        return _any_node_marked(tree)
    for number in walk:
        stack = [documents[number]]
        while stack:
            node = stack.pop()
            if tree.type_has_any(node, _ANCHOR_FLAGS):
                return True
            child = tree.first_child(node)
            while child != _NONE:
                stack.append(child)
                child = tree.next_sibling(child)
    return False


def _any_node_marked(tree: Any) -> bool:
    return any(tree.type_has_any(node, _ANCHOR_FLAGS) for node in range(tree.size()))


def _needs_node_lines(value: Any) -> bool:
    """A Template's objects and a List's items get their own lines, which only
    the careful path's nodes have."""
    if value.__class__ is not dict:
        return False
    kind = value.get("kind")
    return kind.__class__ is str and (kind == "Template" or (kind.endswith("List")
                                                             and "items" in value))


def _int64(text: str) -> int:
    """JSON integers as go-yaml reads them: past 64 bits it keeps the string."""
    if len(text) > 18:
        value = int(text) if len(text) <= 21 else 2**64
        if not -(2**63) <= value < 2**64:
            raise _Careful("integer out of range")
        return value
    return int(text)


def _float64(text: str) -> float:
    """JSON floats as go-yaml reads them: one that overflows stays a string."""
    value = float(text)
    if value in (_INF, -_INF):
        raise _Careful("float out of range")
    return value


_INF = float("inf")


def _has_surrogate(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate (the C encoder finds it fastest)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


#: Every character of a text go-yaml reads as a number (``yaml11._INT`` and
#: ``_FLOAT``: digits, ``_``, signs, ``.``, ``0x``/``0o``/``0b``, hex digits,
#: exponents, ``.inf``, ``.nan``) or of a signed risky word (``-Infinity``).
#: A string starting like a number with any other character (``100m``,
#: ``1Gi``, ``10.0.0.0/8``, a timestamp) is a string in both readings.
_NUMBER_CHARS = "0123456789_.+-xXoObBaAcCdDeEfFiInNtTyY"


def _build_json_candidate() -> re.Pattern[str]:
    """A JSON string token that may hold a suspect (see ``_json_suspect``): one
    made of ``_NUMBER_CHARS`` and starting with a character go-yaml tries
    numbers on, or one of the ``_RISKY_WORDS`` that do not start so (written
    as a trie: the regex engine then tests one branch per first character at
    each quote)."""
    rests: dict[str, list[str]] = {}
    for word in _RISKY_WORDS:
        if word[0] not in _NUMERIC_START:
            rests.setdefault(word[0], []).append(word[1:])
    branches = []
    for first, tails in sorted(rests.items()):
        longer = [re.escape(tail) for tail in sorted(tails, key=lambda t: (-len(t), t)) if tail]
        branch = re.escape(first)
        if longer:
            branch += f"(?:{'|'.join(longer)})" + ("?" if "" in tails else "")
        branches.append(branch)
    start, rest = (re.escape("".join(sorted(chars))) for chars in (_NUMERIC_START, _NUMBER_CHARS))
    # One character class right after the quote turns most quotes away at
    # once, before the branches are tried one by one (a third of the search).
    first = re.escape("".join(sorted(set(_NUMERIC_START) | set(rests))))
    return re.compile(f'"(?=[{first}])(?:(?P<numeric>[{start}][{rest}]*)|{"|".join(branches)})"')


_JSON_CANDIDATE = _build_json_candidate()
_KEY_COLON = re.compile(r"[ \t\r\n]*:")


def _json_suspect(json_text: str) -> bool:
    """Could a string of this JSON come from a plain scalar that go-yaml reads
    differently? (The parse tree then says whether one did.)

    Found by a regex over the JSON text rather than in ``object_pairs_hook``,
    which would test every string of the scan in Python (a third of the
    parse). Every string token is seen: a match starts at a quote and ends at
    the next quote, with neither quote nor backslash between, so it ends
    where its token ends and never swallows the quote that opens the next
    one; a match that starts at an escaped quote inside a string only costs a
    look at that string's rest."""
    for match in _JSON_CANDIDATE.finditer(json_text):
        text = match.group("numeric")
        if text is None:  # one of the words
            return True
        is_key = _KEY_COLON.match(json_text, match.end()) is not None
        if _key_suspect(text) if is_key else _value_suspect(text):
            return True
    return False


def _dict_of(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """object_pairs_hook: builds each dict and refuses duplicate keys (the
    careful path reports them with their line). Keys are not interned: the
    decoder already keeps one copy of each within a call, and a file is one
    call; interning across files saved 5 MB at 10,000 documents for a
    comprehension per mapping (a tenth of the parse)."""
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        raise _Careful("duplicate key")
    return mapping


_devnull_fd: int | None = None


@contextlib.contextmanager
def _cpp_diagnostics_silenced() -> Iterator[None]:
    """rapidyaml's C++ error handler writes ``ERROR: [parse] ...`` and its
    source file (``parse_engine.def.hpp``) to file descriptor 2 before it raises,
    and the Python binding offers no callback to stop it. The careful path then
    explains the same error as one line with its location, so that text is only
    noise on the user's terminal: fd 2 points at /dev/null while rapidyaml runs
    (four system calls a file; the scan is single-threaded in each process).
    """
    global _devnull_fd
    try:
        if _devnull_fd is None:
            _devnull_fd = os.open(os.devnull, os.O_WRONLY)
        saved = os.dup(2)
    except OSError:  # no fd 2, or no /dev/null: run unsilenced rather than fail
        yield
        return
    if sys.stderr is not None:
        sys.stderr.flush()  # Python's own pending text goes where it was meant to
    try:
        os.dup2(_devnull_fd, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _rapidyaml_json(data: bytes) -> tuple[Any, list[int], list[str]]:
    """rapidyaml's parse tree of ``data``, its documents' node ids, and each
    document as JSON text."""
    with _cpp_diagnostics_silenced():
        try:
            tree = ryml.parse_in_arena(data)
        except Exception as exc:  # rapidyaml raises its own types; the careful path explains
            raise _Careful("rapidyaml rejected it") from exc
        root = tree.root_id()
        ids = []
        if tree.is_stream(root):
            child = tree.first_child(root)
            while child != _NONE:
                ids.append(child)
                child = tree.next_sibling(child)
        elif tree.is_map(root) or tree.is_seq(root) or tree.has_val(root):
            ids.append(root)
        try:
            return tree, ids, [ryml.emit_json_malloc(tree, node) for node in ids]
        except Exception as exc:
            raise _Careful("rapidyaml cannot emit it as JSON") from exc


def _fast_documents(data: bytes, text: str, path: str) -> list[Document]:
    if not text.isascii() and ("\u2028" in text or "\u2029" in text or "\x85" in text):
        # YAML 1.1 line breaks (go-yaml and libyaml break lines there; rapidyaml does not)
        raise _Careful("Unicode line separators")
    tree, ids, emitted = _rapidyaml_json(data)
    regions = document_regions(text)
    if len(regions) != len(emitted):
        raise _Careful("document count differs")
    # The text test only rules them out; the tree's flags say whether the
    # ``&&`` or ``*`` it found is an anchor or an alias, or text.
    if ("&" in text or "*" in text or "!" in text) and _anchors_or_tags(tree, ids, text, regions):
        raise _Careful("anchors, aliases or tags")
    need_nodes: set[int] = set()  # 1-based numbers of documents read carefully
    # One decode for the whole file: the decoder keeps one copy of each key
    # within a call, so the documents of a file share their keys.
    json_text = "[" + ",".join(emitted) + "]"
    if not json_text.isascii() and _has_surrogate(json_text):
        # rapidyaml turns a lone surrogate escape ("\\ud800") into bytes
        # that are not UTF-8; go-yaml refuses it (the careful path says where).
        raise _Careful("lone surrogate")
    try:
        values = json.loads(json_text, object_pairs_hook=_dict_of,
                            parse_int=_int64, parse_float=_float64)
    except (ValueError, RecursionError) as exc:
        raise _Careful("not expressible as JSON") from exc
    for number, value in enumerate(values, start=1):
        if _needs_node_lines(value):
            need_nodes.add(number)
    if _json_suspect(json_text) and _plain_scalars_differ(tree):
        raise _Careful("YAML 1.1 scalars")
    lines = [region.line for region in regions]
    documents = []
    for index, (value, line) in enumerate(zip(values, lines, strict=True), start=1):
        if value is None:
            continue
        if line is None:
            raise _Careful("document line unknown")
        if index in need_nodes:
            with timings.phase("parse careful"):
                alone = document_alone(text, path, regions, index)
            timings.count("parse careful", 1)
            if len(alone) != 1 or not isinstance(alone[0], Document) or alone[0].index != index:
                raise _Careful("a Template or a List the careful path reads otherwise")
            documents.append(alone[0])
            continue
        documents.append(Document(index, line, value, None))
    return documents


def load_documents(text: str, path: str, careful: bool = False
                   ) -> Iterator[Document | InputError]:
    """Documents of one file: fast path when it is provably equal, else careful."""
    if not careful and ryml is not None and not may_be_too_deep(text):
        try:
            with timings.phase("parse fast"):
                documents = _fast_documents(text.encode("utf-8"), text, path)
        except _Careful:
            pass
        else:
            timings.count("parse fast", sum(d.node is None for d in documents))
            yield from documents
            return
    if not timings.ENABLED:
        yield from iter_documents(text, path)
        return
    careful_documents = iter_documents(text, path)
    while True:  # timed one document at a time: the phase must not span a yield
        with timings.phase("parse careful"):
            document = next(careful_documents, None)
        if document is None:
            return
        timings.count("parse careful", isinstance(document, Document))
        yield document
