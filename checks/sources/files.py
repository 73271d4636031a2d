"""Finding input files and reading them safely.

Every failure here becomes an ``InputError`` (one line, with a location) so
a bad file is listed in the reports and the rest of the scan goes on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from checks.model import InputError
from checks.sources.ignore import Excluder, compile_patterns, read_ignore_file

STDIN_PATH = "<stdin>"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
#: Larger than any real manifest bundle; `helm template` of a big umbrella
#: chart is a few MB. Configurable with --max-file-size.
DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024
#: Directories a manifest repository never wants scanned.
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv"})


@dataclass(frozen=True)
class InputFile:
    """A file to scan. ``display`` is the path exactly as the user gave it
    (joined with the relative path below a given directory)."""

    display: str
    fs_path: Path | None  # None for stdin


@dataclass(frozen=True)
class Excluded:
    """A file below a scanned directory that ``--exclude`` or ``.upgradelintignore``
    leaves out: counted, never read."""

    display: str


def discover(paths: Iterable[str], exclude: Sequence[str] = ()
             ) -> Iterator[InputFile | InputError | Excluded]:
    """Expand files and directories (recursively, sorted for stable output).

    ``exclude`` (gitignore-style) and the ``.upgradelintignore`` at the root of
    each directory apply to the files found below that directory; a file named
    on the command line is always read."""
    for given in paths:
        if given == "-":
            yield InputFile(STDIN_PATH, None)
            continue
        path = Path(given)
        if path.is_dir():
            excluder = Excluder(compile_patterns([*exclude, *read_ignore_file(path)]))
            found: list[str] = []
            excluded: list[str] = []
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
                relative_root = Path(root).relative_to(path).as_posix()
                prefix = "" if relative_root == "." else relative_root + "/"
                for name in files:
                    if name.endswith(MANIFEST_SUFFIXES):
                        target = excluded if excluder and excluder.excluded(prefix + name) \
                            else found
                        target.append(os.path.join(root, name))
            if not found and not excluded:
                # Pointing a pipeline at the wrong folder must not pass silently.
                yield InputError(given, 0, "no .yaml, .yml or .json files in this directory")
            for name in sorted(excluded):
                yield Excluded(name)
            for name in sorted(found):
                yield InputFile(name, Path(name))
        elif path.is_file():
            yield InputFile(given, path)
        elif path.exists():
            yield InputError(given, 0, "not a regular file or directory")
        else:
            yield InputError(given, 0, "no such file or directory")


def decode(data: bytes, display: str) -> str | InputError:
    """UTF-8 (with or without BOM) or a located error: YAML streams must be UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return InputError(display, 1, "file is UTF-16 encoded; convert it to UTF-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return InputError(display, line,
                          f"not valid UTF-8: byte 0x{data[exc.start]:02x} at column {column}")


def read_file(item: InputFile, max_bytes: int, stdin_data: bytes | None = None) -> str | InputError:
    """Read and decode one input, refusing files over the size limit unread."""
    if item.fs_path is None:
        data = stdin_data if stdin_data is not None else b""
        if len(data) > max_bytes:
            return InputError(item.display, 0, _too_large(len(data), max_bytes))
        return decode(data, item.display)
    try:
        size = item.fs_path.stat().st_size
        if size > max_bytes:
            return InputError(item.display, 0, _too_large(size, max_bytes))
        data = item.fs_path.read_bytes()
    except OSError as exc:
        return InputError(item.display, 0, f"cannot read file: {exc.strerror or exc}")
    return decode(data, item.display)


def _too_large(size: int, limit: int) -> str:
    return (f"file is {size / 1048576:.1f} MiB, over the {limit / 1048576:.1f} MiB limit "
            "(--max-file-size); not scanned")
