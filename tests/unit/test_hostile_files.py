"""Only regular files are read, never more than the size limit, and nothing
outside a scanned directory: a FIFO, /dev/zero or an endless pipe cannot hang
the scan or fill the memory. Cases that could hang or blow up run in a
subprocess with a time limit and an address-space limit."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from checks.model import InputError, Skipped
from checks.sources.backups import inspect
from checks.sources.files import (
    InputFile,
    decode,
    read_file,
    read_limited,
    read_stdin,
    unreadable_reason,
)
from checks.sources.manifests import NOTHING_FOUND, ScanInputs, load, nothing_found

ROOT = Path(__file__).resolve().parents[2]
GOOD = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: good}\n"
LIMITED = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from checks.sources.manifests import ScanInputs, load
found = load(ScanInputs(sys.argv[1:], max_file_bytes=1 << 20))
print(json.dumps({"resources": [r.origin.path for r in found.resources],
                  "errors": [[e.path, e.line, e.reason] for e in found.errors],
                  "skipped": [[s.path, s.line, s.reason] for s in found.skipped]}))
"""


def scan_in_subprocess(*paths: str) -> dict[str, list[object]]:
    proc = subprocess.run([sys.executable, "-c", LIMITED, *paths], capture_output=True,
                          text=True, timeout=20, cwd=ROOT, check=True)
    result: dict[str, list[object]] = json.loads(proc.stdout)
    return result


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_named_yaml_is_reported_not_read(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    os.mkfifo(tmp_path / "pipe.yaml")
    found = scan_in_subprocess(str(tmp_path))
    assert found == {
        "resources": [str(tmp_path / "good.yaml")],
        "errors": [[str(tmp_path / "pipe.yaml"), 1,
                    "not a regular file (a FIFO, device or socket); not read"]],
        "skipped": []}


def test_symlinks_out_of_the_scanned_directory_are_skipped(tmp_path: Path) -> None:
    tree, elsewhere = tmp_path / "tree", tmp_path / "elsewhere"
    tree.mkdir()
    elsewhere.mkdir()
    (elsewhere / "secret.yaml").write_text(GOOD)
    (tree / "good.yaml").write_text(GOOD)
    (tree / "zero.yaml").symlink_to("/dev/zero")
    (tree / "out.yaml").symlink_to(elsewhere / "secret.yaml")
    (tree / "in.yaml").symlink_to(tree / "good.yaml")
    found = scan_in_subprocess(str(tree))
    reason = "symbolic link to a file outside the scanned directory; not read"
    assert found == {
        "resources": [str(tree / "good.yaml"), str(tree / "in.yaml")],
        "errors": [],
        "skipped": [[str(tree / "out.yaml"), 1, reason], [str(tree / "zero.yaml"), 1, reason]]}


def test_symlinked_directories_are_listed_as_skipped_not_followed(tmp_path: Path) -> None:
    """A link to a directory (a loop back up, another repository) is not walked,
    and the report says so instead of leaving it out silently."""
    tree = tmp_path / "tree"
    (tree / "real").mkdir(parents=True)
    (tree / "real" / "good.yaml").write_text(GOOD)
    (tree / "again").symlink_to(tree / "real")
    (tree / "real" / "up").symlink_to(tree)  # a loop
    (tree / "etc").symlink_to("/etc")
    found = scan_in_subprocess(str(tree))
    reason = ("symbolic link to a directory; not followed (name its target on the command "
              "line to scan it)")
    assert found == {
        "resources": [str(tree / "real" / "good.yaml")], "errors": [],
        "skipped": [[str(tree / name), 1, reason] for name in ("again", "etc", "real/up")]}


def test_named_paths_that_cannot_be_read_say_why(tmp_path: Path) -> None:
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "nowhere.yaml")
    assert unreadable_reason(str(tmp_path / "loop.yaml")) == "symbolic link loop"
    assert unreadable_reason(str(tmp_path / "dangling.yaml")) == (
        "broken symbolic link: its target does not exist")
    assert unreadable_reason(str(tmp_path / "nowhere.yaml")) == "no such file or directory"
    assert unreadable_reason(str(tmp_path), directory_ok=False) == "a directory, not a file"
    assert unreadable_reason("/dev/zero") == (
        "not a regular file (a FIFO, device or socket); not read")
    assert unreadable_reason(str(tmp_path)) is None


def test_device_named_on_the_command_line_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    found = scan_in_subprocess(str(tmp_path / "zero.yaml"), "/dev/zero")
    reason = "not a regular file (a FIFO, device or socket); not read"
    assert found["errors"] == [[str(tmp_path / "zero.yaml"), 1, reason],
                               ["/dev/zero", 1, reason]]
    assert read_limited(Path("/dev/zero"), 10) == (
        "not a regular file (a FIFO, device or socket); not read")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_a_file_larger_than_it_claims_is_read_to_the_limit() -> None:
    """Only the size a file claims is read at first; one that turns out larger
    (a /proc file claims 0 bytes; a file may grow) is read on, to the limit."""
    status = Path("/proc/self/status")
    assert status.stat().st_size == 0
    whole = read_limited(status, 1 << 20)
    assert isinstance(whole, bytes) and whole.startswith(b"Name:") and len(whole) > 100
    assert read_limited(status, 100) == (
        "input is over the 100 bytes limit (--max-file-size); not scanned")


def test_short_reads_read_on_to_the_whole_file(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A read may return less than asked (a signal, over 2 GiB at once): the
    rest is read, and the limit still holds."""
    real_read = os.read
    monkeypatch.setattr("checks.sources.files.os.read",
                        lambda fd, size: real_read(fd, min(size, 7)))
    text = "a: " + "x" * 100 + "\n"
    path = tmp_path / "f.yaml"
    path.write_text(text)
    assert read_limited(path, 1000) == text.encode()
    assert read_limited(str(path), 104) == text.encode()
    assert read_limited(path, 103) == (
        "file is 104 bytes, over the 103 bytes limit (--max-file-size); not scanned")


def test_never_more_than_the_limit_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * 3000 + "\n")
    assert read_file(InputFile("big.yaml", big), 1000) == InputError(
        "big.yaml", 1, "file is 3,004 bytes, over the 1,000 bytes limit (--max-file-size); "
        "not scanned")
    assert read_stdin(io.BytesIO(b"x" * 5000), 1000) == b"x" * 1001
    assert read_file(InputFile("<stdin>", None), 1000, b"x" * 1001) == InputError(
        "<stdin>", 1, "input is over the 1,000 bytes limit (--max-file-size); not scanned")
    assert read_file(InputFile("<stdin>", None), 1001, b"a: 1\n" * 200) == "a: 1\n" * 200


def test_endless_standard_input_is_cut_at_the_limit() -> None:
    """``upgrade-lint scan -`` fed /dev/zero, in 1 GiB of address space."""
    script = textwrap.dedent("""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from checks.cli import main
        sys.argv = ["upgrade-lint", "scan", "-", "--max-file-size", "1000000"]
        sys.exit(main())
    """)
    with open("/dev/zero", "rb") as zero:
        proc = subprocess.run([sys.executable, "-c", script], stdin=zero, capture_output=True,
                              text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 1, proc.stderr
    assert ("<stdin>:1: invalid-input (error) input is over the 1,000,000 bytes limit "
            "(--max-file-size); not scanned") in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.parametrize(("data", "name"), [
    ("a: 1\n".encode("utf-32-le"), "UTF-32 (little-endian)"),
    ("a: 1\n".encode("utf-32-be"), "UTF-32 (big-endian)"),
    ("a: 1\n".encode("utf-32"), "UTF-32 (little-endian)"),  # with a byte order mark
    (b"\x00\x00\xfe\xff" + "a: 1\n".encode("utf-32-be"), "UTF-32 (big-endian)"),
    ("a: 1\n".encode("utf-16"), "UTF-16"),
    ("a: 1\n".encode("utf-16-le"), "UTF-16"),
    ("a: 1\n".encode("utf-16-be"), "UTF-16"),
])
def test_wide_encodings_are_named_correctly(data: bytes, name: str) -> None:
    assert decode(data, "w.yaml") == InputError(
        "w.yaml", 1, f"file is {name} encoded; convert it to UTF-8")


def test_utf8_with_and_without_bom_decodes() -> None:
    assert decode(b"\xef\xbb\xbfa: \xc3\xa9\n", "u.yaml") == "a: \u00e9\n"
    assert decode(b"a: 1\n", "u.yaml") == "a: 1\n"


def test_missing_paths_carry_line_1(tmp_path: Path) -> None:
    found = load(ScanInputs([str(tmp_path / "nope.yaml")]))
    assert found.errors == [InputError(str(tmp_path / "nope.yaml"), 1,
                                       "no such file or directory")]


@pytest.mark.parametrize("text", ["", "---\n", "---\n---\n...\n", "# only\n# comments\n",
                                  "\n\n  \n"])
def test_empty_input_scanned_alone_finds_nothing_at_line_1(tmp_path: Path, text: str) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text(text)
    found = load(ScanInputs([str(empty)]))
    assert (found.resources, found.errors, found.skipped) == ([], [], [])
    assert nothing_found([str(empty)], 0, [], [], 0) == InputError(
        str(empty), 1, f"{NOTHING_FOUND} found")
    stdin = load(ScanInputs(["-"], stdin_data=text.encode()))
    assert stdin.errors == [InputError("<stdin>", 1, f"{NOTHING_FOUND} in standard input")]


def test_a_directory_has_no_line(tmp_path: Path) -> None:
    assert nothing_found([str(tmp_path)], 0, [], [Skipped("x", 1, "why")], 0) == InputError(
        str(tmp_path), 0, f"{NOTHING_FOUND} found (1 skipped)")


@pytest.mark.parametrize(("entities", "valid", "reason"), [
    ("services:\n- {name: a, port: 0x_}\n", True,
     "declarative config _format_version 3.0, 1 entities"),
    ("services:\n- {name: a, port: " + "9" * 5000 + "}\n", True,
     "declarative config _format_version 3.0, 1 entities"),
    ("services:\n- {name: a, retries: !!int abc}\n", False,
     "does not parse: YAML error: cannot decode !!int value 'abc'"),
    ("services: !!set [a]\n", False,
     "does not parse: YAML error: !!set on a value that is not a mapping"),
])
def test_deck_backup_with_values_the_resolver_cannot_convert(
        tmp_path: Path, entities: str, valid: bool, reason: str) -> None:
    deck = tmp_path / "kong.yaml"
    deck.write_text('_format_version: "3.0"\n' + entities)
    evidence = inspect(str(deck))
    assert (evidence.valid, evidence.reason) == (valid, reason)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_backup_that_is_a_fifo_or_a_device_is_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "dump.sql")
    script = ("import resource, sys\n"
              "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
              "from checks.sources.backups import inspect\n"
              "for path in sys.argv[1:]:\n"
              "    evidence = inspect(path)\n"
              "    print(evidence.valid, evidence.reason)\n")
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path / "dump.sql"), "/dev/zero"],
                          capture_output=True, text=True, timeout=20, cwd=ROOT, check=True)
    assert proc.stdout.splitlines() == [
        "False not a regular file (a FIFO, device or socket); not read"] * 2


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_hostile_tree_gives_the_same_results_with_jobs(tmp_path: Path) -> None:
    """FIFO, symlinks out, a broken document before a good one, a Template whose
    objects is a mapping, a wide encoding: --jobs 2 reports what one process does."""
    from tests.test_parallel import _all

    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a-good.yaml").write_text(GOOD)
    (tree / "b-broken.yaml").write_text("a: [1,\n---\n" + GOOD)
    (tree / "c-template.yaml").write_text(
        "apiVersion: v1\nkind: Template\nobjects: {a: 1}\n")
    (tree / "d-wide.yaml").write_bytes(GOOD.encode("utf-32"))
    os.mkfifo(tree / "e-pipe.yaml")
    (tree / "f-zero.yaml").symlink_to("/dev/zero")
    (tree / "g-deep.yaml").write_text("a: " + "[" * 600 + "]" * 600 + "\n---\n" + GOOD)
    one = _all(tree, 1)
    assert _all(tree, 2) == one
    lines = sorted((str(r[4]).rpartition("/")[2], r[5]) for r in one[:-7]
                   if r[1] == "invalid-input")  # type: ignore[index]
    assert lines == [("b-broken.yaml", 2), ("c-template.yaml", 1), ("d-wide.yaml", 1),
                     ("e-pipe.yaml", 1), ("g-deep.yaml", 1)]


def test_symlink_loop_is_a_located_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    (tmp_path / "good.yaml").write_text(GOOD)
    found = scan_in_subprocess(str(tmp_path))
    assert found["resources"] == [str(tmp_path / "good.yaml")]
    assert [(path, line) for path, line, _ in found["errors"]] == [  # type: ignore[misc]
        (str(tmp_path / "a.yaml"), 1), (str(tmp_path / "b.yaml"), 1)]
    assert all(str(reason).startswith("cannot read file: ")
               for _, _, reason in found["errors"])  # type: ignore[misc]


def test_base_revision_reads_no_more_than_the_scan_would(tmp_path: Path) -> None:
    """--base reads each file's earlier content from git: a blob over the size
    limit is not loaded then either."""
    from checks.sources.git_base import load_base

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                       cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    big, small = tmp_path / "big.yaml", tmp_path / "small.yaml"
    big.write_text(GOOD + "data: {k: " + "v" * 5000 + "}\n")
    small.write_text(GOOD)
    git("add", ".")
    git("commit", "-q", "-m", "base")
    snapshot = load_base("HEAD", [str(tmp_path)], ScanInputs([str(tmp_path)], max_file_bytes=1000))
    assert [r.origin.path for r in snapshot.resources] == [str(small)]
