"""``--base REF``: the scanned files as they were at a git revision.

In a merge-request pipeline REF is the target branch. Its manifests (those
below the scanned paths at REF, so renamed files still count) say what
runs now (the version each installation declares there is its current
version), and a finding that the base already had was not introduced by the
change. The files are read with one ``git cat-file --batch`` per repository,
never checked out, so the working tree is untouched and a shallow clone with
the base fetched is enough.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checks.model import Resource
from checks.sources.files import MANIFEST_SUFFIXES, SKIPPED_DIRS, decode
from checks.sources.manifests import ManifestSet, ScanInputs, load_text
from checks.sources.repo_files import skip_reason_by_name


class BaseRevisionError(Exception):
    """``--base`` cannot be used (not a git repository, unknown revision): a usage error."""


@dataclass
class BaseSnapshot:
    ref: str
    resources: list[Resource] = field(default_factory=list)


def _git(root: str, *args: str, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", root, *args], input=data, capture_output=True,
                          timeout=300, check=False)


def _toplevel(directory: str, cache: dict[str, str | None]) -> str | None:
    if directory not in cache:
        try:
            proc = _git(directory, "rev-parse", "--show-toplevel")
        except (OSError, subprocess.SubprocessError):
            cache[directory] = None
        else:
            cache[directory] = (proc.stdout.decode().strip() or None) if proc.returncode == 0 \
                else None
    return cache[directory]


def _commit(root: str, ref: str) -> str:
    proc = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if proc.returncode != 0:
        raise BaseRevisionError(
            f"--base {ref}: no such commit in the git repository at {root}; in a shallow CI "
            f"clone fetch it first (for example: git fetch --depth=50 origin <target-branch>)")
    return proc.stdout.decode().strip()


def _read_batch(root: str, commit: str, relative: Sequence[str],
                max_bytes: int) -> list[bytes | None]:
    """Each file's content at ``commit`` (None where it did not exist). Sizes
    are asked first: a blob over ``max_bytes`` is never read (b"" stands for
    it, which the caller skips as it skips large files)."""
    sizes = _batch(root, "--batch-check", [f"{commit}:{path}" for path in relative],
                   with_content=False)
    wanted = [i for i, size in enumerate(sizes) if size is not None and 0 <= size <= max_bytes]
    contents: list[bytes | None] = [None if size is None else b"" for size in sizes]
    fetched = _batch(root, "--batch", [f"{commit}:{relative[i]}" for i in wanted],
                     with_content=True) if wanted else []
    for i, data in zip(wanted, fetched, strict=True):
        contents[i] = data
    return contents


def _batch(root: str, mode: str, names: Sequence[str], with_content: bool) -> list[Any]:
    """``git cat-file --batch-check`` sizes or ``--batch`` contents of ``names``."""
    proc = _git(root, "cat-file", mode, data="".join(f"{name}\n" for name in names).encode())
    if proc.returncode != 0:
        raise BaseRevisionError(f"--base: git cat-file failed in {root}: "
                                f"{proc.stderr.decode(errors='replace').strip()}")
    out, position = proc.stdout, 0
    found: list[Any] = []
    for _ in names:
        end = out.index(b"\n", position)
        header = out[position:end].split()
        position = end + 1
        if len(header) < 3 or header[-1] == b"missing" or header[1] != b"blob":
            found.append(None)
            continue
        size = int(header[2])
        if with_content:
            found.append(out[position:position + size])
            position += size + 1
        else:
            found.append(size)
    return found


def _base_files(root: str, commit: str, given: str, real: str) -> list[tuple[str, str]]:
    """(display path, path in the repository) of the manifests below ``given``
    at ``commit``: the base's own files, so a file renamed by the change still
    has its old objects to compare with."""
    relative = os.path.relpath(real, root)
    if not os.path.isdir(real):
        return [(given, relative)]
    proc = _git(root, "ls-tree", "-r", "-z", "--name-only", commit, "--",
                "." if relative == "." else relative)
    if proc.returncode != 0:
        return []
    out = []
    for name in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if not name.endswith(MANIFEST_SUFFIXES):
            continue
        below = name if relative == "." else os.path.relpath(name, relative)
        if any(part in SKIPPED_DIRS for part in below.split("/")[:-1]):
            continue
        out.append((os.path.join(given, below), name))
    return out


def load_base(ref: str, paths: Iterable[str], inputs: ScanInputs) -> BaseSnapshot:
    """The objects below the scanned ``paths`` as they were at ``ref``. Raises
    BaseRevisionError when a path is outside a git repository or the revision
    is unknown there."""
    snapshot = BaseSnapshot(ref)
    roots: dict[str, str | None] = {}
    wanted: dict[str, list[tuple[str, str]]] = {}
    commits: dict[str, str] = {}
    for given in paths:
        if given == "-":
            continue  # standard input has no history
        real = os.path.realpath(given)
        root = _toplevel(real if os.path.isdir(real) else os.path.dirname(real), roots)
        if root is None:
            raise BaseRevisionError(f"--base {ref}: {given} is not in a git repository")
        if root not in commits:
            commits[root] = _commit(root, ref)
        wanted.setdefault(root, []).extend(_base_files(root, commits[root], given, real))
    out = ManifestSet()
    charts = {str(Path(p)): chart for p, chart in inputs.values.items()}
    for root, entries in wanted.items():
        unique = list(dict.fromkeys(entries))
        for (display, _), data in zip(unique, _read_batch(root, commits[root],
                                                          [name for _, name in unique],
                                                          inputs.max_file_bytes),
                                      strict=True):
            # None: new in the change; b"" or more: over the limit, not read.
            if not data or len(data) > inputs.max_file_bytes:
                continue
            if skip_reason_by_name(display) is not None:
                continue  # what the scan itself skips is not compared either
            text = decode(data, display)
            if isinstance(text, str):  # a base that did not parse had nothing to compare
                load_text(text, display, charts.get(str(Path(display))), out, inputs.careful)
    snapshot.resources = out.resources
    return snapshot
