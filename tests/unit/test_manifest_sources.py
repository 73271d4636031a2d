"""Manifest inputs: every kind of bad input becomes a located InputError."""

from __future__ import annotations

from pathlib import Path

from checks.model import InputError
from checks.sources.manifests import ScanInputs, load
from tests.support import write


def errors(*paths: Path, **kw: object) -> list[InputError]:
    return load(ScanInputs([str(p) for p in paths], **kw)).errors  # type: ignore[arg-type]


def test_non_utf8_byte_is_located(tmp_path: Path) -> None:
    f = write(tmp_path / "latin1.yaml", "a: 1\nname: caf\xe9\n".encode("latin-1"))
    assert errors(f) == [InputError(str(f), 2, "not valid UTF-8: byte 0xe9 at column 10")]


def test_utf16_is_named(tmp_path: Path) -> None:
    f = write(tmp_path / "u16.yaml", "a: 1\n".encode("utf-16"))
    assert errors(f)[0].reason == "file is UTF-16 encoded; convert it to UTF-8"


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    f = write(tmp_path / "bom.yaml", b"\xef\xbb\xbfapiVersion: v1\nkind: ConfigMap\n"
                                     b"metadata: {name: x}\n")
    out = load(ScanInputs([str(f)]))
    assert out.errors == [] and out.resources[0].name == "x"


def test_file_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    f = write(tmp_path / "big.yaml", "a: " + "x" * 2000 + "\n")
    [err] = errors(f, max_file_bytes=1024)
    assert err.line == 1 and err.reason == ("file is 2,004 bytes, over the 1,024 bytes limit "
                                      "(--max-file-size); not scanned")


def test_documents_that_are_not_objects(tmp_path: Path) -> None:
    """Half an object is invalid input; a document that is well formed but not
    meant as an object (a list, a value, a mapping without apiVersion and kind)
    is skipped with the reason, and the objects beside it are still scanned."""
    f = write(tmp_path / "odd.yaml", "- a\n- b\n---\njust text\n---\nkind: Service\n"
                                    "---\napiVersion: v1\nkind: ConfigMap\nmetadata: [x]\n"
                                    "---\nfoo: bar\n---\napiVersion: v1\nkind: ConfigMap\n"
                                    "metadata: {name: ok}\n")
    out = load(ScanInputs([str(f)]))
    assert [(e.line, e.reason) for e in out.errors] == [
        (6, "document 3 has no apiVersion; not a Kubernetes object"),
        (8, "document 4: metadata is not a mapping"),
    ]
    assert [(s.line, s.reason) for s in out.skipped] == [
        (1, "document 1: a YAML list, not a Kubernetes object"),
        (4, "document 2: a single value, not a Kubernetes object"),
        (12, "document 5: no apiVersion and no kind: not a Kubernetes object, Helm values of a "
             "supported chart or declarative gateway config"),
    ]
    assert [r.name for r in out.resources] == ["ok"]


def test_missing_path_and_other_files_still_scanned(tmp_path: Path) -> None:
    good = write(tmp_path / "ok.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n")
    out = load(ScanInputs([str(tmp_path / "nope.yaml"), str(good)]))
    assert [str(e) for e in out.errors] == [f"{tmp_path / 'nope.yaml'}:1: no such file or directory"]
    assert [r.name for r in out.resources] == ["ok"]


def test_directory_is_recursive_sorted_and_skips_other_files(tmp_path: Path) -> None:
    write(tmp_path / "b" / "two.yml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: two}\n")
    write(tmp_path / "a.json", '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "one"}}')
    write(tmp_path / "notes.txt", "not yaml: [")
    write(tmp_path / ".git" / "x.yaml", "broken: [")
    out = load(ScanInputs([str(tmp_path)]))
    assert [r.name for r in out.resources] == ["one", "two"] and out.errors == []


def test_list_items_get_their_own_lines_and_paths(tmp_path: Path) -> None:
    f = write(tmp_path / "list.yaml", "apiVersion: v1\nkind: List\nitems:\n"
                                     "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n"
                                     "- apiVersion: v1\n  kind: Secret\n  metadata: {name: b}\n")
    out = load(ScanInputs([str(f)]))
    assert [(r.kind, r.origin.line, r.origin.prefix) for r in out.resources] == [
        ("ConfigMap", 4, ("items", 0)), ("Secret", 7, ("items", 1))]


def test_stdin_is_read_from_the_given_bytes() -> None:
    out = load(ScanInputs(["-"], stdin_data=b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n"))
    assert out.resources[0].origin.path == "<stdin>"
    assert out.locator is not None and out.locator.line(out.resources[0].origin, ("kind",)) == 2


def test_json_with_tab_indentation(tmp_path: Path) -> None:
    f = write(tmp_path / "cm.json", '{\n\t"apiVersion": "v1",\n\t"kind": "ConfigMap",\n'
                                   '\t"metadata": {\n\t\t"name": "tabs"\n\t}\n}\n')
    out = load(ScanInputs([str(f)]))
    assert out.errors == [] and out.resources[0].name == "tabs"
    assert out.locator is not None and out.locator.line(out.resources[0].origin,
                                                        ("metadata", "name")) == 5


def test_directory_without_manifests_is_reported(tmp_path: Path) -> None:
    write(tmp_path / "README.md", "# nothing to scan\n")
    assert [str(e) for e in errors(tmp_path)] == [
        f"{tmp_path}: no .yaml, .yml or .json files in this directory"]
