"""The fast path (rapidyaml -> JSON) and the careful path (PyYAML) agree exactly.

Every fixture, the demo and the corpus are scanned both ways; every result's
rule, outcome, severity, message, file, line and JSON path must be equal.
Targeted cases check each reason the fast path hands a file to the careful one.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from checks.model import InputError
from checks.sources import fastyaml
from checks.sources.fastyaml import load_documents
from tests.support import FIXTURES, every_input, scan


def _results(path: Path, careful: bool) -> list[tuple[object, ...]]:
    return [(r.rule_id, r.outcome, r.severity, r.message, r.path, r.line, r.json_path,
             r.observed, r.expected) for r in scan(path, careful_parser=careful).results]


@pytest.mark.parametrize("path", every_input(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fast_and_careful_paths_give_identical_results(path: Path) -> None:
    assert _results(path, careful=False) == _results(path, careful=True)


def _fast_used(text: str, monkeypatch: pytest.MonkeyPatch) -> bool:
    used = []
    original = fastyaml._fast_documents

    def spy(data: bytes, text: str) -> list[fastyaml.Document]:
        documents = original(data, text)
        used.append(True)
        return documents

    monkeypatch.setattr(fastyaml, "_fast_documents", spy)
    def seen(careful: bool) -> list[object]:
        return [(d.index, d.line, d.value) if isinstance(d, fastyaml.Document) else str(d)
                for d in load_documents(text, "t.yaml", careful=careful)]

    assert seen(careful=False) == seen(careful=True)
    return bool(used)


@pytest.mark.parametrize("text", [
    "a: 1\nb: [x, 'y']\nc: \"off\"\n",  # quoted: a plain string in both readings
    "---\nkind: ConfigMap\ndata: {port: \"8080\", ratio: 1.5}\n---\n",
    '{"apiVersion": "v1", "kind": "Service"}\n',
])
def test_ordinary_files_take_the_fast_path(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _fast_used(text, monkeypatch)


@pytest.mark.parametrize("text", [
    "database: off\n", "flags: [on, no]\n", "- y\n", "mode: 010\n", "mask: 0x1F\n",
    "n: 1_000\n", "ratio: .inf\n", "plus: +1\n", "none: ~\n", "ok: True\n", "y: 1\n",
    "base: &b {x: 1}\nuse: *b\n", "v: !Ref name\n", "kind: List\nitems: []\n",
    "a: 1\na: 2\n", "a: [1\n",
])
def test_files_that_json_cannot_express_take_the_careful_path(
        text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not _fast_used(text, monkeypatch)


def test_rapidyaml_diagnostics_are_silenced_and_stderr_restored(
        capfd: pytest.CaptureFixture[str]) -> None:
    """rapidyaml writes its C++ diagnostics to fd 2 before raising: none of it
    shows, the careful path explains the error, and fd 2 works afterwards."""
    found = list(load_documents("a: {b: 1\nc: [1, 2\n", "broken.yaml"))
    os.write(2, b"after the parse\n")
    assert [(e.path, e.line) for e in found if isinstance(e, InputError)] == [("broken.yaml", 2)]
    assert capfd.readouterr().err == "after the parse\n"
