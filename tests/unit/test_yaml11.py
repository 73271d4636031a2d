"""The fast loader decodes scalars the way Kubernetes and Helm do (go-yaml v2)."""

from __future__ import annotations

import pytest

from checks.model import InputError
from checks.sources.yaml11 import MAX_DEPTH, MAX_EXPANDED_NODES, Document, iter_documents


def one(text: str) -> object:
    docs = list(iter_documents(text, "t.yaml"))
    assert len(docs) == 1 and isinstance(docs[0], Document), docs
    return docs[0].value


@pytest.mark.parametrize(("text", "value"), [
    ("off", False), ("Off", False), ("OFF", False), ("no", False), ("n", False),
    ("on", True), ("yes", True), ("y", True), ("True", True), ('"off"', "off"), ("'yes'", "yes"),
    ("010", 8), ("0x1F", 31), ("0o17", 15), ("0b101", 5), ("-010", -8), ("1_000", 1000),
    ("42", 42), ("1.5", 1.5), ("1e3", 1000.0), ("~", None), ("null", None), ("", None),
    ("1:30", "1:30"),  # go-yaml v2 has no sexagesimal ints
    ("2024-01-01", "2024-01-01"),  # timestamps stay strings in untyped maps
    ("3.7.", "3.7."), ("v3.7.3", "v3.7.3"), ("10.0.8.0", "10.0.8.0"),
])
def test_scalar_resolution_matches_go_yaml_v2(text: str, value: object) -> None:
    assert one(f"k: {text}\n") == {"k": value}


def test_unknown_local_tags_decode_as_their_value() -> None:
    assert one("a: !Ref name\nb: !Sub [x, z]\n") == {"a": "name", "b": ["x", "z"]}


def test_keys_become_json_strings_as_in_sigs_k8s_yaml() -> None:
    assert one("y: 1\n3: 4\n~: 5\n'no': 6\n") == {"true": 1, "3": 4, "null": 5, "no": 6}


def test_keys_equal_after_json_conversion_are_duplicates() -> None:
    [err] = list(iter_documents("y: 1\ntrue: 2\n", "k.yaml"))
    assert err == InputError("k.yaml", 2, "duplicate key 'true' (first defined at line 1)")


def test_merge_keys_may_override_merged_values() -> None:
    item = one("base: &b {x: 1, z: 2}\nitem:\n  <<: *b\n  x: 3\n")["item"]  # type: ignore[index]
    assert item == {"x": 3, "z": 2}


def test_documents_keep_start_lines_and_indexes() -> None:
    docs = list(iter_documents("# c\na: 1\n---\n\n---\nb: 2\n", "t.yaml"))
    assert [(d.index, d.line) for d in docs if isinstance(d, Document)] == [(1, 2), (3, 6)]


def test_duplicate_key_is_an_error_at_the_second_key() -> None:
    docs = list(iter_documents("a: 1\nb:\n  c: 1\n  c: 2\n", "d.yaml"))
    assert docs == [InputError("d.yaml", 4, "duplicate key 'c' (first defined at line 3)")]


def test_syntax_error_keeps_earlier_documents() -> None:
    docs = list(iter_documents("a: 1\n---\nb: [1, 2\nc: 3\n", "s.yaml"))
    assert isinstance(docs[0], Document)
    assert isinstance(docs[1], InputError) and docs[1].line == 4
    assert docs[1].reason.startswith("document 2: YAML error: ")
    assert "\n" not in docs[1].reason


def test_alias_bomb_is_refused_without_expanding_it() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    docs = list(iter_documents("\n".join(lines) + "\n", "bomb.yaml"))
    assert len(docs) == 1 and isinstance(docs[0], InputError)
    assert f"more than {MAX_EXPANDED_NODES:,} nodes" in docs[0].reason


def test_modest_aliases_are_fine() -> None:
    assert one("a: &a [1, 2]\nb: *a\n") == {"a": [1, 2], "b": [1, 2]}


@pytest.mark.parametrize("text", [
    "a: " + "[" * 1_000_000 + "]" * 1_000_000 + "\n",  # crashed libyaml's composer
    "a:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 600)),
    "a:\n" + "- " * 600 + "x\n",
])
def test_deep_nesting_is_refused_without_crashing(text: str) -> None:
    """Refused as one located input error. Newer libyaml releases refuse deep flow
    nesting themselves, with their own wording, so only the refusal is asserted."""
    docs = list(iter_documents(text, "deep.yaml"))
    assert len(docs) == 1 and isinstance(docs[0], InputError)
    assert docs[0].path == "deep.yaml" and docs[0].line >= 1


@pytest.mark.parametrize("text", [
    "a:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 600)),
    "a:\n" + "- " * 600 + "x\n",
])
def test_our_depth_limit_names_itself(text: str) -> None:
    """Below any parser's own limit (libyaml's is 1,000), our 500 applies and says so."""
    docs = list(iter_documents(text, "deep.yaml"))
    assert docs == [InputError("deep.yaml", docs[0].line, f"nesting deeper than {MAX_DEPTH} "
                                                          "levels; not loaded")]  # type: ignore[union-attr]


def test_ordinary_nesting_and_quoted_brackets_load() -> None:
    assert one("a: '" + "[" * 5000 + "'\nb: [[[1]]]\n") == {"a": "[" * 5000, "b": [[[1]]]}
