"""OpenShift Templates that are hostile or malformed cost one located
invalid-input, never a crash or gigabytes. Rendering that could blow up runs
in a subprocess with an address-space limit and a time limit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from checks.sources.manifests import ScanInputs, load
from checks.sources.openshift import EXPANSION_FACTOR
from checks.sources.yaml11 import MAX_DEPTH, MAX_EXPANDED_NODES

ROOT = Path(__file__).resolve().parents[2]
HEAD = "apiVersion: template.openshift.io/v1\nkind: Template\nmetadata: {name: t}\n"
GOOD = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: after}\n"
LIMITED = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from checks.sources.manifests import ScanInputs, load
found = load(ScanInputs(sys.argv[1:]))
print(json.dumps({"resources": [r.name for r in found.resources],
                  "errors": [[e.line, e.reason] for e in found.errors]}))
"""


def scan_limited(path: Path) -> dict[str, list[object]]:
    proc = subprocess.run([sys.executable, "-c", LIMITED, str(path)], capture_output=True,
                          text=True, timeout=30, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result: dict[str, list[object]] = json.loads(proc.stdout)
    return result


@pytest.mark.parametrize(("objects", "kind"), [
    ("objects:\n  a: {apiVersion: v1, kind: ConfigMap}\n", "a mapping"),
    ("objects: just a string\n", "a string"),
    ("objects: 3\n", "an integer"),
])
def test_template_objects_that_are_not_a_list_are_located_errors(
        tmp_path: Path, objects: str, kind: str) -> None:
    f = tmp_path / "t.yaml"
    f.write_text(HEAD + objects + GOOD)
    found = load(ScanInputs([str(f)]))
    assert [(e.line, e.reason) for e in found.errors] == [
        (1, f"document 1: Template objects is {kind}, not a list")]
    assert [r.name for r in found.resources] == ["after"]


def _bomb() -> str:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i, name in enumerate("bcdefghi"):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{'abcdefghi'[i]}"] * 10) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("value", "reason"), [
    (_bomb(), f"expands to more than {MAX_EXPANDED_NODES:,} nodes through aliases "
              "(alias bomb?); not loaded"),
    ("[" * 3000 + "]" * 3000, None),  # libyaml's own limit or ours: refused either way
    ("".join(" " * i + f"k{i}:\n" for i in range(3000)),
     f"nesting deeper than {MAX_DEPTH} levels; not loaded"),
])
def test_typed_parameters_are_decoded_with_the_loaders_guards(
        tmp_path: Path, value: str, reason: str | None) -> None:
    f = tmp_path / "t.yaml"
    f.write_text(HEAD + "parameters:\n- name: P\n  value: " + json.dumps(value) + "\n"
                 "objects:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c}\n"
                 "  data: {x: '${{P}}'}\n" + GOOD)
    found = scan_limited(f)
    if reason is None:  # refused by the parser: the text stays text, as oc would fail on it
        assert found["resources"][-1] == "after"
        return
    assert found == {"resources": ["after"],
                     "errors": [[1, f"document 1: parameter P: {reason}"]]}


def test_typed_parameter_that_is_not_yaml_stays_text(tmp_path: Path) -> None:
    f = tmp_path / "t.yaml"
    f.write_text(HEAD + "parameters:\n- {name: P, value: '[a'}\n- {name: NUM, value: '3'}\n"
                 "objects:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c}\n"
                 "  data: {x: '${{P}}', num: '${{NUM}}'}\n")
    [resource] = load(ScanInputs([str(f)])).resources
    assert resource.body["data"] == {"x": "[a", "num": 3}


def test_parameter_expansion_out_of_proportion_is_refused(tmp_path: Path) -> None:
    """0.4 MB of Template once reached 2 GB: 100 kB substituted 4,000 times."""
    uses = "".join(f"    k{i}: ${{BIG}}${{BIG}}\n" for i in range(2000))
    f = tmp_path / "t.yaml"
    f.write_text(HEAD + "parameters:\n- name: BIG\n  value: " + "x" * 100_000 + "\n"
                 "objects:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c}\n"
                 "  data:\n" + uses + GOOD)
    assert scan_limited(f) == {"resources": ["after"], "errors": [[1, (
        f"document 1: parameter substitution would grow the Template more than "
        f"{EXPANSION_FACTOR} times its size; not rendered")]]}


def test_ordinary_expansion_renders(tmp_path: Path) -> None:
    uses = "".join(f"    k{i}: ${{NAME}}-{i}\n" for i in range(200))
    f = tmp_path / "t.yaml"
    f.write_text(HEAD + "parameters:\n- {name: NAME, value: " + "n" * 300 + "}\n"
                 "objects:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c}\n"
                 "  data:\n" + uses)
    [resource] = load(ScanInputs([str(f)])).resources
    assert resource.body["data"]["k199"] == "n" * 300 + "-199"


@pytest.mark.parametrize(("items", "kind"), [("{a: 1}", "a mapping"), ("text", "a string")])
def test_list_items_that_are_not_a_list_are_located_errors(
        tmp_path: Path, items: str, kind: str) -> None:
    f = tmp_path / "l.yaml"
    f.write_text(GOOD + f"---\napiVersion: v1\nkind: List\nitems: {items}\n")
    found = load(ScanInputs([str(f)]))
    assert [(e.line, e.reason) for e in found.errors] == [
        (6, f"document 2: List items is {kind}, not a list")]
    assert [r.name for r in found.resources] == ["after"]
