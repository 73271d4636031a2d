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

    def spy(data: bytes, text: str, path: str) -> list[fastyaml.Document]:
        documents = original(data, text, path)
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
    # Words and shapes that once sent a file to the careful path, all ordinary text:
    "kind: StatefulSet\nspec:\n  template: {}\n  volumeClaimTemplates:\n  - metadata: {name: d}\n",
    "kind: ManagementCluster\nspec:\n  databaseVolumeClaimTemplate: {storageClassName: gp3}\n",
    "kind: CronJob\nspec:\n  jobTemplate: {spec: {}}\n",
    "kind: Secret\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: e30=\n",
    "args: [sh, -c, 'make && make install']\nscript: |\n  a && b\n  ls *.yaml\n",
    "hosts:\n- \"*.example.com\"\nnote: 'see &anchor and !tag'\n",
    "data:\n  app.yaml: |\n    enabled: yes\n    kind: List\n    ratio: .5\n",
    "ports: {\"8080\": web}\nversion: \"010\"\nhealth: \"nan\"\nkey: .hidden\n",
    "8080: web\n9090: metrics\n",  # go-yaml's int key 8080 is the JSON key "8080"
    "s: |\n  make \\\n  && make install\n---\nb: 1\n---\nc: '*.x'\n",  # no property
])
def test_ordinary_files_take_the_fast_path(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _fast_used(text, monkeypatch)


@pytest.mark.parametrize("text", [
    "database: off\n", "flags: [on, no]\n", "- y\n", "mode: 010\n", "mask: 0x1F\n",
    "n: 1_000\n", "ratio: .inf\n", "plus: +1\n", "none: ~\n", "ok: True\n", "y: 1\n",
    "base: &b {x: 1}\nuse: *b\n", "v: !Ref name\n", "--- !custom\na: 1\n",
    # a node property in every place a node can start
    "&a k: v\n", "- &a x\n- *a\n", "a:\t*b\nb: &b 1\n", "? &k a\n: v\n", "a: [x,*y]\n",
    "a: {\"k\":&v 1}\n", "a: [\n  *y]\n", "- - !t x\n", "a: {b: !!str 1}\n",
    # in a later document of a stream whose first runs a shell script
    "s: |\n  make \\\n  && make install\n---\nb: &x 1\nc: *x\n", "a: 1\n--- !t\nb: 2\n",
    "a: 1\na: 2\n", "a: [1\n",
    # what rapidyaml's JSON rewrites (nan -> ".nan"), merge keys, keys go-yaml rewrites
    "x: nan\n", "x: [1, -inf]\n", "base:\n  <<: {x: 1}\n  z: 2\n", "1.0: a\n", "010: a\n",
])
def test_files_that_json_cannot_express_take_the_careful_path(
        text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not _fast_used(text, monkeypatch)


@pytest.mark.parametrize(("text", "expected"), [
    ("script: |\n  cd /srv && make\n  rm *.log\n", False),
    ("cmd: ['sh', '-c', 'a && b']\nnote: x!y and a & b\n", False),
    ("hosts: ['*.example.com']\n", False),
    ("script: |\n  make \\\n    && make install\n", True),  # a line start: the tree decides
    ("a: *b\n", True), ("- &a x\n", True), ("--- !t\n", True), ("a: [1,&x 2]\n", True),
    ("\ufeff&a k: v\n", True), ("a: {\"k\":*v}\n", True), ("? !t k\n", True),
])
def test_only_text_where_a_node_starts_is_taken_for_a_property(text: str, expected: bool) -> None:
    """The text test that spares most files the walk over the parse tree."""
    assert any(True for _ in fastyaml._property_starts(text)) is expected


def test_rapidyaml_diagnostics_are_silenced_and_stderr_restored(
        capfd: pytest.CaptureFixture[str]) -> None:
    """rapidyaml writes its C++ diagnostics to fd 2 before raising: none of it
    shows, the careful path explains the error, and fd 2 works afterwards."""
    found = list(load_documents("a: {b: 1\nc: [1, 2\n", "broken.yaml"))
    os.write(2, b"after the parse\n")
    assert [(e.path, e.line) for e in found if isinstance(e, InputError)] == [("broken.yaml", 2)]
    assert capfd.readouterr().err == "after the parse\n"


@pytest.mark.parametrize("text", [
    "apiVersion: template.openshift.io/v1\nkind: Template\nobjects:\n- {kind: Service}\n",
    "apiVersion: v1\nkind: List\nitems:\n- kind: Service\n",
    "apiVersion: v1\nkind: DeploymentList\nitems: []\n",
])
def test_a_template_or_list_is_read_alone_by_the_careful_path(
        text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A document whose items need node lines is read again alone, with nodes;
    the other documents of its file (a ``helm template`` stream) stay fast."""
    stream = f"kind: ConfigMap\ndata: {{a: b}}\n---\n{text}---\nkind: Service\n"
    assert _fast_used(stream, monkeypatch)
    documents = [d for d in load_documents(stream, "t.yaml")
                 if isinstance(d, fastyaml.Document)]
    assert [(d.index, d.line, d.node is not None) for d in documents] == [
        (1, 1, False), (2, 4, True), (3, 4 + text.count("\n") + 1, False)]


def test_fast_and_careful_paths_agree_on_the_benchmark_corpus(tmp_path: Path) -> None:
    """The shapes of real repositories and cluster exports (tests/perf/corpus.py:
    StatefulSets, CronJobs, pull and TLS Secrets, CRDs, embedded YAML, Templates,
    Helm values, a ``helm template`` stream) give identical results both ways,
    and almost every file of them takes the fast path."""
    from tests.perf.corpus import GENERATORS, _helm_template, generate

    generate(tmp_path / "repo", 900, seed=11)
    population = [gen for gen, _ in GENERATORS]
    import random
    (tmp_path / "rendered.yaml").write_text(_helm_template(random.Random(3), 0, 300, population))
    assert _results(tmp_path, careful=False) == _results(tmp_path, careful=True)
    careful = []
    for path in sorted(tmp_path.rglob("*.yaml")):
        text = path.read_text()
        try:
            fastyaml._fast_documents(text.encode(), text, str(path))
        except fastyaml._Careful:
            careful.append(path.name)
    assert careful == []


def test_the_json_text_test_finds_every_suspect_string() -> None:
    """``_json_suspect`` reads the JSON text; it must say yes whenever a key or
    string of the decoded value is suspect, however strings are escaped
    (quotes and backslashes next to the words) or the JSON is laid out. It
    may say yes for an escaped quote followed by a word (``\\"yes``), which
    costs a walk over the parse tree, and for nothing else."""
    import json
    import random

    words = ["yes", "on", "No", "~", "<<", "1.0", "010", "0x1F", "8080", "-inf", "+1", ".5",
             "1_000", "name", "a", "", "x\\", '"', '\\"', "\n",
             "1e3", "+.inf", ".NaN", "0b101", "0o17", "-Infinity", "100m", "1Gi",
             "10.0.0.0/8", "2026-11-30T10:00:00Z"]
    rng = random.Random(5)

    def text() -> str:
        return "".join(rng.choice(words) for _ in range(rng.randint(1, 3)))

    def value(depth: int) -> object:
        roll = rng.random()
        if depth > 3 or roll < 0.5:
            return rng.choice([text(), text(), 7, 1.5, True, None])
        if roll < 0.75:
            return [value(depth + 1) for _ in range(rng.randint(0, 3))]
        return {text(): value(depth + 1) for _ in range(rng.randint(0, 3))}

    def suspect(node: object, is_key: bool = False) -> bool:
        if isinstance(node, dict):
            return any(suspect(k, True) or suspect(v) for k, v in node.items())
        if isinstance(node, list):
            return any(suspect(item) for item in node)
        if isinstance(node, str) and node and not node.endswith("\n"):
            # (a plain scalar never ends with a line break, so a string that
            # does came from a quoted one, whatever Python's ``$`` accepts)
            return fastyaml._key_suspect(node) if is_key else fastyaml._value_suspect(node)
        return False

    seen = {True: 0, False: 0}
    for _ in range(3000):
        document = value(0)
        expected = suspect(document)
        seen[expected] += 1
        for layout in (json.dumps(document, ensure_ascii=False),
                       json.dumps(document, indent=2, separators=(",", ": "))):
            found = fastyaml._json_suspect(layout)
            assert found is expected or (found and '\\"' in layout), layout
    assert min(seen.values()) > 300  # both answers were tested often


def test_a_number_like_text_with_another_character_reads_as_a_string() -> None:
    """What lets ``_json_suspect`` skip ``100m`` or ``10.0.0.0/8``: a text that
    starts like a number but holds a character outside ``_NUMBER_CHARS`` is
    the same string in both readings."""
    import random

    rng = random.Random(7)
    alphabet = fastyaml._NUMBER_CHARS + "mGZ:/ %gkMuUe"
    outside = 0
    for _ in range(20_000):
        text = rng.choice("0123456789+-.") + "".join(
            rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
        if set(text) - set(fastyaml._NUMBER_CHARS):
            outside += 1
            assert text not in fastyaml._RISKY_WORDS
            assert fastyaml.plain_differs(text) == (False, False), text
    assert outside > 5_000


def test_the_shortcuts_of_plain_differs_agree_with_asking_both_readers() -> None:
    """``plain_differs`` answers without asking rapidyaml for texts go-yaml reads
    as themselves and for JSON numbers; over many shapes, the answer is the one
    both readers give."""
    import random

    import ryml
    from yaml.nodes import ScalarNode

    from checks.sources.yaml11 import GoYamlV2Resolver

    rng = random.Random(5)
    pieces = ["0", "1", "9", "10", "007", ".", "-", "+", "e", "E", "e+", "e-", "_", "x", "a",
              "nan", "inf", "Inf", ":", "T", "Z", "o"]
    texts = {"".join(rng.choice(pieces) for _ in range(rng.randint(1, 5))) for _ in range(5000)}

    def one_plain_scalar(text: str) -> bool:  # not "-" (a sequence), "a:" (a mapping), ...
        tree = ryml.parse_in_arena(b"- " + text.encode())
        child = tree.first_child(tree.root_id())
        return (tree.num_children(tree.root_id()) == 1 and tree.has_val(child)
                and tree.is_val_plain(child) and bytes(tree.val(child) or b"") == text.encode())

    texts = {text for text in texts if one_plain_scalar(text)}
    texts |= {"8080", "-0", "0.0", "1.0", "1e3", "12345678", "2026-03-01T10:00:00Z", "1.2.3",
              "5f0c0001-2b1e", "-.inf", ".nan", "1_000", "010", "0x1F", "+1", "-1.5e-3"}
    assert len(texts) > 1000
    resolver = GoYamlV2Resolver()
    for text in sorted(texts):
        fastyaml._READINGS.clear()
        tag = resolver.resolve(ScalarNode, text, (True, False))
        assert fastyaml.plain_differs(text) == fastyaml._readings(text, tag), text
