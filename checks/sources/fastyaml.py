"""The fast path: rapidyaml parses, emits JSON, and json.loads builds the dicts.

Why: touching every YAML node from Python costs about as much as PyYAML's
libyaml load (the baseline a linter has to beat). rapidyaml parses in C++ at
over 100 MB/s and emits each document as JSON in C++; CPython's C JSON
decoder then builds the Python objects. No per-node Python code runs except
``object_pairs_hook``, which does the checks JSON would otherwise hide.

JSON cannot express everything YAML 1.1 means, so a file is handed to the
careful path (``yaml11.iter_documents``, PyYAML with go-yaml v2 semantics)
whenever the fast result could differ from it:

- plain scalars that go-yaml v2 resolves differently from rapidyaml's JSON
  (``off``/``yes``/``y``, ``True``, ``~``, octal ``010``, ``0x1F``, ``1_000``,
  ``.inf``, ``+1``): found as candidate strings by the hook, then confirmed
  plain by a regex over that file's text only;
- anchors, aliases, merge keys and tags (``&a``, ``*a``, ``!Ref``);
- duplicate keys (the careful path reports them with their line);
- files that mention ``List`` or ``Template`` (``kind: List``, OpenShift
  Templates), whose items need node lines;
- anything rapidyaml rejects or emits as invalid JSON, and any disagreement
  on the number of documents.

Both paths give identical documents; ``tests/test_fast_path.py`` scans every
fixture both ways and compares every outcome and line.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Iterator
from typing import Any

from checks.model import InputError
from checks.sources.yaml11 import Document, document_regions, iter_documents, may_be_too_deep

try:
    import ryml
except ImportError:  # pragma: no cover - rapidyaml is a dependency; stay correct without it
    ryml = None

_NONE = 2**64 - 1  # rapidyaml's NONE node id
#: Strings that go-yaml v2 would not read as strings when written plain.
SPECIAL_WORDS = frozenset((
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "True", "TRUE", "False", "FALSE",
    "on", "On", "ON", "off", "Off", "OFF", "~", "Null", "NULL"))
_NUMERIC_START = frozenset("0123456789+-.")
_SPECIAL_NUMBER = re.compile(
    r"[-+]?0[0-9_]+|[-+]?0[xXoObB][0-9a-fA-F_]*|[-+]?[0-9]+_[0-9_]*|[-+]?\.[0-9a-zA-Z_][0-9a-zA-Z_.+-]*"
    r"|\+[0-9.][0-9a-zA-Z_.+-]*|[-+]?[0-9]+\.(?:[eE][-+]?[0-9]+)?")
_WORD = "|".join(sorted(SPECIAL_WORDS, key=len, reverse=True)).replace("~", r"~")
_END = r"[ \t]*(?:$|#|,|\]|\}|:[ \t]|:$)"
#: A special token in plain (unquoted) position: after ``: ``, ``- ``, ``[``, ``,``, ``{``
#: or at the start of a line (keys).
_PLAIN_SPECIAL = re.compile(
    r"(?:[:-][ \t]+|[\[{,][ \t]*|^[ \t]*)(?:" + _WORD + "|" + _SPECIAL_NUMBER.pattern + ")" + _END,
    re.M)
_ANCHOR_OR_TAG = re.compile(r"(?:^|[\s\[{,])[&*!][^\s,\[\]{}]", re.M)


_intern = sys.intern


class _Careful(Exception):
    """The fast path cannot vouch for this file."""


def _is_special(value: str) -> bool:
    return value in SPECIAL_WORDS or (
        value[:1] in _NUMERIC_START and _SPECIAL_NUMBER.fullmatch(value) is not None)


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


class _Checker:
    """object_pairs_hook: builds each dict, refuses duplicates, notes candidates."""

    __slots__ = ("suspect",)

    def __init__(self) -> None:
        self.suspect = False

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        # Keys repeat across thousands of documents ("name", "image", ...):
        # interning keeps one copy of each (a third of the loaded memory).
        mapping = {_intern(key): value for key, value in pairs}
        if len(mapping) != len(pairs):
            raise _Careful("duplicate key")
        if not self.suspect:
            if not SPECIAL_WORDS.isdisjoint(mapping):
                self.suspect = True
            else:
                for key, value in pairs:
                    if (key[:1] in _NUMERIC_START and _is_special(key)) or (
                            value.__class__ is str and value and _is_special(value)) or (
                            value.__class__ is list and self._list_suspect(value)):
                        self.suspect = True
                        break
        return mapping

    def _list_suspect(self, items: list[Any]) -> bool:
        for item in items:
            if item.__class__ is str and item and _is_special(item):
                return True
            if item.__class__ is list and self._list_suspect(item):
                return True
        return False


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


def _rapidyaml_json(data: bytes) -> list[str]:
    """Each document of ``data`` as JSON text, emitted by rapidyaml."""
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
            return [ryml.emit_json_malloc(tree, node) for node in ids]
        except Exception as exc:
            raise _Careful("rapidyaml cannot emit it as JSON") from exc


def _fast_documents(data: bytes, text: str) -> list[Document]:
    if not text.isascii() and ("\u2028" in text or "\u2029" in text or "\x85" in text):
        # YAML 1.1 line breaks (go-yaml and libyaml break lines there; rapidyaml does not)
        raise _Careful("Unicode line separators")
    if ((("&" in text or "*" in text or "!" in text) and _ANCHOR_OR_TAG.search(text))
            or "List" in text or "Template" in text):
        raise _Careful("anchors, tags, Lists or Templates")
    emitted = _rapidyaml_json(data)
    checker = _Checker()
    values = []
    for json_text in emitted:
        if not json_text.isascii() and _has_surrogate(json_text):
            # rapidyaml turns a lone surrogate escape ("\\ud800") into bytes
            # that are not UTF-8; go-yaml refuses it (the careful path says where).
            raise _Careful("lone surrogate")
        try:
            value = json.loads(json_text, object_pairs_hook=checker,
                               parse_int=_int64, parse_float=_float64)
        except (ValueError, RecursionError) as exc:
            raise _Careful("not expressible as JSON") from exc
        # The hook sees mappings only: a document that is a list or a scalar is
        # checked here.
        if (value.__class__ is list and checker._list_suspect(value)) or (
                value.__class__ is str and value and _is_special(value)):
            checker.suspect = True
        values.append(value)
    if checker.suspect and _PLAIN_SPECIAL.search(text):
        raise _Careful("YAML 1.1 scalars")
    lines = [region.line for region in document_regions(text)]
    if len(lines) != len(emitted):
        raise _Careful("document count differs")
    documents = []
    for index, (value, line) in enumerate(zip(values, lines, strict=True), start=1):
        if value is None:
            continue
        if line is None:
            raise _Careful("document line unknown")
        documents.append(Document(index, line, value, None))
    return documents


def load_documents(text: str, path: str, careful: bool = False
                   ) -> Iterator[Document | InputError]:
    """Documents of one file: fast path when it is provably equal, else careful."""
    if not careful and ryml is not None and not may_be_too_deep(text):
        try:
            yield from _fast_documents(text.encode("utf-8"), text)
            return
        except _Careful:
            pass
    yield from iter_documents(text, path)
