"""Hostile YAML never escapes the loaders: every document either loads or is
one located InputError, and one broken document never hides the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.model import InputError
from checks.sources import yaml11
from checks.sources.fastyaml import load_documents
from checks.sources.manifests import ScanInputs, load
from checks.sources.yaml11 import MAX_DEPTH, Document, document_regions, iter_documents

PATHS = [False, True]  # fast path first, then the careful (PyYAML) path


def loaded(text: str, careful: bool) -> list[object]:
    """(index, line, value) of each document, (line, reason) of each error."""
    out: list[object] = []
    for doc in load_documents(text, "h.yaml", careful):
        if isinstance(doc, InputError):
            assert doc.path == "h.yaml"
            out.append((doc.line, doc.reason))
        else:
            out.append((doc.index, doc.line, doc.value))
    return out


@pytest.mark.parametrize("careful", PATHS)
@pytest.mark.parametrize(("scalar", "value"), [
    ("0x_", "0x_"), ("0b_", "0b_"), ("0o_", "0o_"), ("-0x", "-0x"),  # go-yaml: not an int
    ("1" * 5000, "1" * 5000), ("0" + "7" * 5000, "0" + "7" * 5000),  # over int64: a string
    ("18446744073709551615", 2**64 - 1),  # uint64 still is a number
    ("1e400", "1e400"),  # go-yaml's ParseFloat range error: a string, not infinity
])
def test_numbers_the_resolver_accepts_but_cannot_convert_stay_strings(
        scalar: str, value: object, careful: bool) -> None:
    assert loaded(f"a: {scalar}\nb: 1\n", careful) == [(1, 1, {"a": value, "b": 1})]


@pytest.mark.parametrize("careful", PATHS)
def test_huge_json_integer_is_a_string_not_a_crash(careful: bool) -> None:
    assert loaded('{"a": ' + "9" * 5000 + "}\n", careful) == [(1, 1, {"a": "9" * 5000})]


@pytest.mark.parametrize("careful", PATHS)
@pytest.mark.parametrize(("value", "reason"), [
    ("!!int abc", "cannot decode !!int value 'abc'"),
    ('!!float ""', "cannot decode !!float value ''"),
    ("!!float abc", "cannot decode !!float value 'abc'"),
    ("!!map [a]", "!!map on a value that is not a mapping"),
    ("!!set [a]", "!!set on a value that is not a mapping"),
    ("!!int " + "x" * 100, "cannot decode !!int value '" + "x" * 40 + "...'"),
])
def test_explicit_tags_that_do_not_fit_are_located_errors_and_later_documents_load(
        value: str, reason: str, careful: bool) -> None:
    text = f"a: 1\n---\nkind: A\nb: {value}\n---\nkind: B\n"
    assert loaded(text, careful) == [
        (1, 1, {"a": 1}), (4, f"document 2: YAML error: {reason}"), (3, 6, {"kind": "B"})]


@pytest.mark.parametrize("careful", PATHS)
@pytest.mark.parametrize("text", ['{"a": "\\ud800"}\n', 'a: "\\ud800"\n', 'a: "x\\udfff"\n'])
def test_lone_surrogate_escape_is_a_located_error(text: str, careful: bool) -> None:
    first, (line, reason) = loaded("ok: 1\n---\n" + text, careful)  # type: ignore[misc]
    assert first == (1, 1, {"ok": 1})
    assert line == 3 and reason.startswith("document 2: YAML error: ")


@pytest.mark.parametrize("careful", PATHS)
def test_json_surrogate_pairs_decode_like_kubernetes_json_decoder(careful: bool) -> None:
    """A JSON file writes an emoji as two escapes; Kubernetes joins them."""
    text = '{"a": "\\ud83d\\ude00 \\uD83D\\uDE00", "b": "\\\\ud83d\\\\ude00"}\n'
    assert loaded(text, careful) == [(1, 1, {"a": "\U0001F600 \U0001F600",
                                             "b": "\\ud83d\\ude00"})]


@pytest.mark.parametrize("careful", PATHS)
def test_syntax_error_in_a_middle_document_keeps_the_later_ones(careful: bool) -> None:
    text = ("kind: A\n---\nkind: B\nbad: [1, 2\n---\nkind: C\n---\n# only a comment\n"
            "---\nkind: D\nx: {\n---\nkind: E\n")
    found = loaded(text, careful)
    # The parser's own words after "YAML error: " are libyaml's, not asserted.
    assert [(item[0], item[1].partition("YAML error: ")[0]) if isinstance(item[1], str)
            else item for item in found] == [
        (1, 1, {"kind": "A"}), (5, "document 2: "), (3, 6, {"kind": "C"}),
        (12, "document 5: "), (6, 13, {"kind": "E"})]


@pytest.mark.parametrize("careful", PATHS)
def test_duplicate_key_in_one_document_keeps_the_later_ones(careful: bool) -> None:
    text = "kind: A\n---\nkind: B\nkind: B2\n---\nkind: C\n"
    assert loaded(text, careful) == [
        (1, 1, {"kind": "A"}),
        (4, "document 2: duplicate key 'kind' (first defined at line 3)"),
        (3, 6, {"kind": "C"}),
    ]


def test_documents_read_after_a_broken_one_keep_their_node_lines() -> None:
    text = "a: [\n---\nkind: List\nitems:\n- x: 1\n- y: 2\n"
    docs = list(iter_documents(text, "l.yaml"))
    assert isinstance(docs[0], InputError) and docs[0].line == 2
    doc = docs[1]
    assert isinstance(doc, Document) and (doc.index, doc.line) == (2, 3)
    assert doc.node is not None
    items = next(v for k, v in doc.node.value if k.value == "items")  # type: ignore[attr-defined]
    assert [item.start_mark.line + 1 for item in items.value] == [5, 6]


def _map(depth: int) -> str:
    return "".join("  " * i + f"k{i}:\n" for i in range(depth - 1)) + "  " * (depth - 1) + "v: 1\n"


def _expected_map(depth: int) -> object:
    value: object = {"v": 1}
    for i in reversed(range(depth - 1)):
        value = {f"k{i}": value}
    return value


def _seq_of_maps(depth: int) -> str:
    """Two levels per column: a mapping, its sequence at the key's column, the
    item mapping one column in; the indentation heuristic alone misses it."""
    lines = []
    for i in range(depth // 2):
        lines += [" " * i + "k:", " " * i + "-"]
    return "\n".join(lines) + "\n" + " " * (depth // 2) + "x: 1\n"


@pytest.mark.parametrize("careful", PATHS)
@pytest.mark.parametrize("depth", [34, 65, 100, MAX_DEPTH])
def test_deep_but_legal_documents_load(depth: int, careful: bool) -> None:
    assert loaded(_map(depth), careful) == [(1, 1, _expected_map(depth))]
    flow = "a: " + "[" * (depth - 1) + "1" + "]" * (depth - 1) + "\n"
    [(_, _, value)] = loaded(flow, careful)  # type: ignore[misc]
    for _ in range(depth):
        value = value["a"] if isinstance(value, dict) else value[0]  # type: ignore[index]
    assert value == 1
    mixed = "a:\n" + "- " * (depth // 2) + "{b: " * (depth // 2 - 2) + "1" + "}" * (depth // 2 - 2)
    assert len(loaded(mixed + "\n", careful)) == 1
    assert isinstance(loaded(_seq_of_maps(depth), careful)[0], tuple)


def test_crd_with_34_level_schema_loads_on_the_fast_path() -> None:
    schema = "".join("  " * (i + 4) + f"p{i}:\n" + "  " * (i + 5) + "properties:\n"
                     for i in range(16))
    text = ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
            "metadata: {name: a.b}\nspec:\n  versions:\n  - schema:\n      openAPIV3Schema:\n"
            "        properties:\n" + schema.replace("\n", "\n    ", 0))
    text = "".join(line.replace("  ", "    ", 1) + "\n" for line in text.splitlines())
    [(index, line, value)] = loaded(text + "        " + " " * 64 + "type: string\n",
                                    False)  # type: ignore[misc]
    assert (index, line, value["kind"]) == (1, 1, "CustomResourceDefinition")


@pytest.mark.parametrize("careful", PATHS)
@pytest.mark.parametrize("shape", ["map", "seq_of_maps", "flow", "dashes"])
def test_nesting_past_the_limit_is_refused_in_every_style(shape: str, careful: bool) -> None:
    depth = MAX_DEPTH + 2
    text = {"map": _map(depth), "seq_of_maps": _seq_of_maps(depth),
            "flow": "a: " + "[" * depth + "]" * depth + "\n",
            "dashes": "a:\n" + "- " * depth + "x\n"}[shape]
    found = loaded("kind: A\n---\n" + text + "---\nkind: B\n", careful)
    assert found[0] == (1, 1, {"kind": "A"}) and found[-1][:2] == (3, len(text.splitlines()) + 4)
    [(line, reason)] = found[1:-1]  # type: ignore[misc]
    assert reason == f"document 2: nesting deeper than {MAX_DEPTH} levels; not loaded"
    assert 3 <= line <= len(text.splitlines()) + 2


def test_document_regions_count_each_newline_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Line bookkeeping was quadratic in the number of documents (40,000
    documents took a minute). Characters counted must stay within a small
    multiple of the text, however many documents it holds."""
    counters: list[yaml11.LineCounter] = []

    class Counting(yaml11.LineCounter):
        def __init__(self, text: str) -> None:
            super().__init__(text)
            counters.append(self)

    monkeypatch.setattr(yaml11, "LineCounter", Counting)
    for documents in (10, 1000, 20000):
        text = "".join(f"---\nkind: K\nmetadata: {{name: n{i}}}\n" for i in range(documents))
        regions = document_regions(text)
        assert len(regions) == documents and regions[-1].line == 3 * documents - 1
        assert regions[-1].start_line == 3 * documents - 2
        assert sum(c.scanned for c in counters) <= len(text)
        counters.clear()


def test_objects_after_a_broken_document_are_scanned_with_their_lines(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("a: [1,\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
                 "data:\n  k: v\n")
    found = load(ScanInputs([str(f)]))
    assert [(e.line, e.reason.partition(":")[0]) for e in found.errors] == [(2, "document 1")]
    [resource] = found.resources
    assert (resource.name, resource.origin.line, resource.origin.doc_index) == ("c", 3, 2)
    assert found.locator is not None
    assert found.locator.line(resource.origin, ("data", "k")) == 8
    assert found.locator.lines([(resource.origin, ("metadata", "name"))]) == [6]


@pytest.mark.parametrize("careful", PATHS)
def test_too_deep_first_document_is_reported_and_the_next_loads(careful: bool) -> None:
    text = "a: " + "[" * 600 + "]" * 600 + "\n---\nkind: B\n"
    assert loaded(text, careful) == [
        (1, f"document 1: nesting deeper than {MAX_DEPTH} levels; not loaded"),
        (2, 3, {"kind": "B"})]


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_unicode_line_separators_read_alike_on_both_paths(separator: str) -> None:
    """YAML 1.1 (go-yaml, libyaml) breaks lines at them; rapidyaml did not, so
    the fast path read another mapping (found by fuzzing the loaders)."""
    text = f"kind: A\nspec:\n  match{separator}Labels:\n    app: x\n"
    assert loaded(text, False) == loaded(text, True)
