"""The hostile corpus, generated at test time (nothing large is committed).

Each ``Case`` writes its input below ``case/`` in a fresh directory; the
harness scans it next to ``good.yaml`` (a GatewayCluster whose ``spec.template``
must still give its finding at line 21). ``expect`` says what the reports must
say about the case's ``subject`` (the path as the reports show it):

- ``invalid``: an ``invalid-input`` result at the subject, line >= 1;
- ``listed``: an ``invalid-input`` result or a skipped entry at the subject;
- ``loads``: no ``invalid-input`` for it, and its object is evaluated;
- ``mention``: some result or skipped entry at the subject, line >= 1
  (inputs that may fairly load or be refused, such as ``0x_``);
- ``survives``: only the promises every case keeps (no traceback, exit code,
  reports written, good manifest reported, time and memory bounded).
"""

from __future__ import annotations

import codecs
import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.hostile import wrong_types
from tests.support import FIXTURES

GOOD_TEXT = (FIXTURES / "apiconnect/apic-template-override/fire.yaml").read_text(encoding="utf-8")
GOOD_FINDING = ("apic-template-override", 21)
#: A GatewayCluster whose spec.template is on its line 6, for "documents after
#: a bad one are still scanned".
GATEWAY_WITH_TEMPLATE = """apiVersion: gateway.apiconnect.ibm.com/v1beta1
kind: GatewayCluster
metadata: {name: later, namespace: apic}
spec:
  version: 10.0.8.0
  template:
  - name: datapower
"""
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hostile\ndata:\n  key: value\n"


@dataclass(frozen=True)
class Built:
    """What the harness passes to ``scan`` and what it checks for."""

    paths: list[str]
    subject: str
    stdin: bytes | None = None
    extra_args: list[str] = field(default_factory=list)
    #: (rule id, line) findings the case's own input must still produce.
    findings: list[tuple[str, int]] = field(default_factory=list)
    #: Bytes of input, for the memory bound.
    size: int = 0
    #: The reports may show the rest of the name escaped (control characters,
    #: bytes that are not UTF-8): match the subject as a prefix.
    subject_is_prefix: bool = False


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Path], Built]
    expect: str
    alone: bool = False  # scanned without good.yaml
    slow: bool = False
    seconds: float = 15.0  # CPU-time budget (the run is killed at twice it, wall time)
    exit_codes: tuple[int, ...] = (1,)


def _file(name: str, data: bytes | str, **built: object) -> Callable[[Path], Built]:
    raw = data.encode("utf-8") if isinstance(data, str) else data

    def build(root: Path) -> Built:
        target = root / "case" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(raw)
        return Built(paths=[f"case/{name}"], subject=f"case/{name}", size=len(raw),
                     **built)  # type: ignore[arg-type]

    return build


def _nested_block(depth: int) -> str:
    """A CRD whose openAPIV3Schema nests ``depth`` mappings (block style)."""
    lines = ["apiVersion: apiextensions.k8s.io/v1", "kind: CustomResourceDefinition",
             "metadata:", "  name: deep.example.com", "spec:", "  schema:"]
    indent = "    "
    for level in range(depth):
        lines.append(f"{indent}level{level}:")
        indent += "  "
    lines.append(f"{indent}leaf: true")
    return "\n".join(lines) + "\n"


def _nested_flow(depth: int) -> str:
    return ('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "deep"}, "data": '
            + '{"a": ' * depth + "1" + "}" * depth + "}\n")


def _billion_laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: laughs}\ndata:\n" + "".join(
        f"  {line}\n" for line in lines)


def _encoded(encoding: str, bom: bool) -> bytes:
    data = CONFIGMAP.encode(encoding)
    if not bom:
        return data
    boms = {"utf-8": codecs.BOM_UTF8, "utf-16-le": codecs.BOM_UTF16_LE,
            "utf-16-be": codecs.BOM_UTF16_BE, "utf-32-le": codecs.BOM_UTF32_LE,
            "utf-32-be": codecs.BOM_UTF32_BE}
    return boms[encoding] + data


def _template(objects: str, parameters: str = "") -> str:
    return ("apiVersion: template.openshift.io/v1\nkind: Template\nmetadata: {name: hostile}\n"
            f"parameters:\n{parameters or '- name: UNUSED'}\nobjects:{objects}\n")


def _template_param_bomb() -> str:
    bomb = _billion_laughs().replace("\n", "\\n").replace('"', '\\"')
    return _template("\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: t}\n"
                     "  data: ${{BOMB}}", f'- name: BOMB\n  value: "{bomb}"')


def _template_param_deep() -> str:
    deep = "[" * 3000 + "]" * 3000
    return _template("\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: t}\n"
                     "  data:\n    k: ${{DEEP}}", f'- name: DEEP\n  value: "{deep}"')


def _template_amplified() -> str:
    """A 0.4 MB Template whose parameter expansion reaches gigabytes."""
    value = "x" * 4000
    refs = " ".join(["${BIG}"] * 100)
    items = "".join(f"\n    k{i}: \"{refs}\"" for i in range(1000))
    return _template(f"\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: t}}\n  data:{items}",
                     f"- name: BIG\n  value: {value}")


def _many_documents(count: int) -> str:
    return "".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i}\n"
                   for i in range(count))


def _large_secret(megabytes: int) -> str:
    value = "".join(random.Random(7).choices("abcdefghij0123456789", k=megabytes * 1024 * 1024))
    return ("apiVersion: v1\nkind: Secret\nmetadata: {name: big}\ntype: Opaque\n"
            f"stringData:\n  password: {value}\n")


def _binary() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + bytes(random.Random(3).randrange(256) for _ in range(4096))


def _fifo(root: Path) -> Built:
    case = root / "case"
    case.mkdir(parents=True)
    os.mkfifo(case / "pipe.yaml")
    (case / "ok.yaml").write_text(CONFIGMAP)
    return Built(paths=["case"], subject="case/pipe.yaml")


def _dev_zero(root: Path) -> Built:
    case = root / "case"
    case.mkdir(parents=True)
    (case / "zero.yaml").symlink_to("/dev/zero")
    (case / "ok.yaml").write_text(CONFIGMAP)
    return Built(paths=["case"], subject="case/zero.yaml")


def _symlink_loop(root: Path) -> Built:
    case = root / "case"
    case.mkdir(parents=True)
    (case / "a.yaml").symlink_to("b.yaml")
    (case / "b.yaml").symlink_to("a.yaml")
    (case / "ok.yaml").write_text(CONFIGMAP)
    return Built(paths=["case"], subject="case/a.yaml")


def _directory_loop(root: Path) -> Built:
    case = root / "case" / "sub"
    case.mkdir(parents=True)
    (case / "loop").symlink_to("..")
    (case / "ok.yaml").write_text(CONFIGMAP)
    return Built(paths=["case"], subject="case/sub/ok.yaml")


def _leaves_tree(root: Path) -> Built:
    outside = root / "outside.yaml"
    outside.write_text(CONFIGMAP)
    case = root / "case"
    case.mkdir(parents=True)
    (case / "escape.yaml").symlink_to(outside)
    (case / "ok.yaml").write_text(CONFIGMAP)
    return Built(paths=["case"], subject="case/escape.yaml")


def _unreadable(root: Path) -> Built:
    case = root / "case"
    case.mkdir(parents=True)
    locked = case / "locked.yaml"
    locked.write_text(CONFIGMAP)
    locked.chmod(0)
    return Built(paths=["case/locked.yaml"], subject="case/locked.yaml")


def _small_files(count: int) -> Callable[[Path], Built]:
    def build(root: Path) -> Built:
        case = root / "case"
        for i in range(count):
            folder = case / f"d{i // 1000:02d}"
            if i % 1000 == 0:
                folder.mkdir(parents=True)
            (folder / f"cm{i:05d}.yaml").write_text(
                f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i}\n")
        (case / "zz-broken.yaml").write_text("a: [1\n")
        return Built(paths=["case"], subject="case/zz-broken.yaml", size=count * 60)
    return build


def _huge_file(root: Path) -> Built:
    target = root / "case" / "huge.yaml"
    target.parent.mkdir(parents=True)
    line = b"# " + b"x" * 1021 + b"\n"
    with target.open("wb") as out:
        out.write(CONFIGMAP.encode())
        for _ in range(50 * 1024):
            out.write(line)
    return Built(paths=["case/huge.yaml"], subject="case/huge.yaml")


def _non_utf8_name(root: Path) -> Built:
    case = root / "case"
    case.mkdir(parents=True)
    name = os.fsdecode(b"bad-\xff\xfe.yaml")
    (case / name).write_text(GATEWAY_WITH_TEMPLATE)
    return Built(paths=["case"], subject="case/bad-", subject_is_prefix=True)


def _control_name(root: Path) -> Built:
    case = root / "case"
    case.mkdir(parents=True)
    (case / "evil\n\x1b[2Kgood.yaml:1: forged\x07.yaml").write_text("a: [1\n")
    return Built(paths=["case"], subject="case/evil", subject_is_prefix=True)


def _stdin(data: bytes, *extra: str) -> Callable[[Path], Built]:
    def build(root: Path) -> Built:
        return Built(paths=["-"], subject="<stdin>", stdin=data, extra_args=list(extra),
                     size=len(data))
    return build


def _wrong_types(product: str) -> Callable[[Path], Built]:
    def build(root: Path) -> Built:
        text = wrong_types.documents(product)
        return _file(f"wrong-types-{product}.yaml", text)(root)
    return build


#: Inputs the fuzz target (tests/fuzz/fuzz_loaders.py) crashed on: id -> the
#: bytes of its ``crash-*`` file. Each is scanned as a hostile case below.
FUZZ_REGRESSIONS: dict[str, bytes] = {
    # The random fallback fuzzer: a values fixture whose first key became "!!int controller".
    "int-tag-on-key": b"!!int controller:\n  replicaCount: 1\n",
    # A fixture mutated with the token "!!map ": an explicit !!map tag on a scalar.
    "map-tag-on-scalar": (
        b"# cert-manager's served API versions, and a Certificate of another group.\n"
        b'apiVersion: cert-manager.io/v1\n'
        b'kind: !!map icate\n'
        b'metadata: {name: gw-tls}\n'
        b'---\n'
        b'apiVersion: acme.cert-manager.io/v1\n'
        b'kind: Challenge\n'
        b'metadata: {name: gw-tls-1-challenge}\n'
        b'---\n'
        b'apiVersion: example.com/v1alpha1\n'
        b'kind: Certificate\n'
        b'metadata: {name: other}\n'
    ),
}

_BROKEN_MID = GOOD_TEXT.replace("  profile: n3xc4.m8\n", "  profile: [n3xc4.m8\n")

CASES: list[Case] = [
    # Broken YAML at several positions.
    Case("broken-first-line", _file("b.yaml", "key: [unclosed\n" + CONFIGMAP), "invalid"),
    Case("broken-mid-document", _file("b.yaml", _BROKEN_MID), "invalid"),
    Case("broken-last-line", _file("b.yaml", CONFIGMAP + 'extra: "unterminated\n'), "invalid"),
    Case("broken-doc2-of-3", _file("b.yaml", CONFIGMAP + "---\nkey: [1\n---\n" + GATEWAY_WITH_TEMPLATE,
                                   findings=[("apic-template-override", 15)]), "invalid"),
    Case("duplicate-key-doc1-of-2", _file("d.yaml", CONFIGMAP + "data: {}\n---\n" + GATEWAY_WITH_TEMPLATE,
                                          findings=[("apic-template-override", 14)]), "invalid"),
    Case("tab-indentation", _file("t.yaml", CONFIGMAP.replace("  name:", "\tname:")), "invalid"),
    Case("tab-after-colon", _file("t.yaml", CONFIGMAP.replace("name: ", "name:\t")), "mention"),
    Case("only-separators", _file("e.yaml", "---\n---\n# nothing\n...\n"), "survives"),
    Case("empty-file-alone", _file("e.yaml", ""), "invalid", alone=True),
    Case("comments-only-alone", _file("e.yaml", "# just a comment\n---\n"), "invalid", alone=True),
    Case("empty-stdin", _stdin(b""), "invalid"),
    Case("stdin-over-limit", _stdin(CONFIGMAP.encode() + b"#" * 200_000 + b"\n",
                                    "--max-file-size", "100000"), "invalid"),
    # Encodings, with and without byte-order mark.
    *[Case(f"encoding-{enc}-{'bom' if bom else 'nobom'}", _file("enc.yaml", _encoded(enc, bom)),
           "loads" if enc == "utf-8" else "listed")
      for enc in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be") for bom in (True, False)],
    Case("binary-file", _file("bin.yaml", _binary()), "invalid"),
    Case("nul-in-text", _file("nul.yaml", CONFIGMAP.replace("value", "va\x00lue")), "invalid"),
    # Amplification and depth.
    Case("billion-laughs", _file("bomb.yaml", _billion_laughs()), "invalid"),
    Case("nesting-10000-flow", _file("deep.yaml", _nested_flow(10_000)), "invalid"),
    Case("nesting-10000-block", _file("deep.yaml", CONFIGMAP + "list:\n" + "- " * 10_000 + "x\n"), "invalid"),
    Case("nesting-10000-json", _file("deep.json", _nested_flow(10_000)), "invalid"),
    *[Case(f"nesting-{depth}-{style}-loads",
           _file("deep.yaml", _nested_block(depth) if style == "block" else _nested_flow(depth)), "loads")
      for depth in (34, 65, 100) for style in ("block", "flow")],
    # Values the YAML 1.1 resolver accepts but cannot convert.
    *[Case(f"scalar-{name}", _file("v.yaml", CONFIGMAP.replace("key: value", f"key: {value}")), "mention")
      for name, value in (("0x_", "0x_"), ("0b_", "0b_"), ("0o_", "0o_"), ("int-5000-digits", "9" * 5000),
                          ("tag-int-abc", "!!int abc"), ("tag-float-empty", '!!float ""'),
                          ("tag-map-seq", "!!map [a]"), ("tag-set-seq", "!!set [a]"))],
    Case("version-5000-digits", _file("v.yaml", GATEWAY_WITH_TEMPLATE.replace(
        "10.0.8.0", '"' + "9" * 5000 + '"')), "mention"),
    Case("json-int-5000-digits", _file("v.json", json.dumps(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "n"}})[:-1]
        + ', "data": {"k": ' + "9" * 5000 + "}}"), "mention"),
    # OpenShift Templates.
    Case("template-param-alias-bomb", _file("t.yaml", _template_param_bomb()), "mention"),
    Case("template-param-3000-deep", _file("t.yaml", _template_param_deep()), "mention"),
    Case("template-param-amplified", _file("t.yaml", _template_amplified()), "mention"),
    Case("template-objects-mapping", _file("t.yaml", _template("\n  a: b")), "mention"),
    Case("template-objects-string", _file("t.yaml", _template(" just-a-string")), "mention"),
    # Found by a reviewer's attack after the fixes: an alias back to its own
    # anchor expands without end; a Template whose apiVersion is not text.
    Case("recursive-alias-sequence", _file("r.yaml", "a: &a [*a]\n"), "invalid"),
    Case("recursive-alias-in-configmap", _file("r.yaml", "apiVersion: v1\nkind: ConfigMap\n"
                                            "metadata: &m {name: r3, labels: *m}\n"), "invalid"),
    Case("template-apiversion-mapping", _file("t.yaml", "apiVersion: {a: 1}\nkind: Template\n"
                                           "objects: []\n"), "mention"),
    # Strings and names that reports must survive.
    Case("lone-surrogate-json", _file("s.json", '{"apiVersion": "v1", "kind": "ConfigMap", '
                                                '"metadata": {"name": "x\\ud800"}}'), "mention"),
    Case("lone-surrogate-yaml", _file("s.yaml", CONFIGMAP.replace("value", '"\\ud800"')), "mention"),
    Case("non-utf8-file-name", _non_utf8_name, "mention"),
    Case("control-chars-file-name", _control_name, "invalid"),
    # Files that are not regular files, or not ours to read.
    Case("fifo-in-directory", _fifo, "listed", seconds=5),
    Case("symlink-to-dev-zero", _dev_zero, "listed", seconds=5),
    Case("symlink-loop", _symlink_loop, "listed"),
    Case("directory-symlink-loop", _directory_loop, "mention"),
    Case("symlink-leaves-tree", _leaves_tree, "listed"),
    Case("unreadable-file", _unreadable, "invalid"),
    # Scale: time linear in the input, memory a small multiple of it.
    Case("documents-20000-one-file", _file("many.yaml", _many_documents(20_000)), "mention", seconds=6),
    Case("bare-separators-100000", _file("dashes.yaml", "---\n" * 100_000), "survives", seconds=4),
    Case("secret-1mb-value", _file("secret.yaml", _large_secret(1)), "mention", seconds=5),
    Case("file-50mb", _huge_file, "invalid", slow=True),
    Case("small-files-20000", _small_files(20_000), "invalid", slow=True, seconds=120),
    # Crashes the fuzz target found, kept as regression cases.
    *[Case(f"fuzz-{name}", _file("fuzz.yaml", data), "mention") for name, data in FUZZ_REGRESSIONS.items()],
    # Wrong types at every field a rule of the catalog reads.
    *[Case(f"wrong-types-{product}", _wrong_types(product), "mention", seconds=12)
      for product in wrong_types.PRODUCTS],
]
