"""Finding input files and reading them safely.

Every failure here becomes an ``InputError`` (one line, with a location) so
a bad file is listed in the reports and the rest of the scan goes on.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

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
    #: What to open; None for stdin. A str for the files found below a
    #: directory: a Path for each of thousands of files cost a third of discovery.
    fs_path: str | Path | None
    #: Why it is listed but not read (a symlink out of the scanned directory).
    skip: str | None = None


@dataclass(frozen=True)
class Excluded:
    """A file below a scanned directory that ``--exclude`` or ``.upgradelintignore``
    leaves out: counted, never read."""

    display: str


def unreadable_reason(path: str, directory_ok: bool = True) -> str | None:
    """Why a path named by the user cannot be read as an input, or None.

    ``exists()`` says False for a symlink loop and a dangling link alike, and
    True for /dev/zero or a FIFO: the user deserves the real reason, and a
    FIFO or a device must never be opened (one blocks, the other never ends)."""
    try:
        found = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
        if exc.errno == errno.EACCES:
            return "permission denied"
        if os.path.islink(path):
            return "broken symbolic link: its target does not exist"
        return "no such file or directory"
    if stat.S_ISREG(found.st_mode) or (directory_ok and stat.S_ISDIR(found.st_mode)):
        return None
    if stat.S_ISDIR(found.st_mode):
        return "a directory, not a file"
    return "not a regular file (a FIFO, device or socket); not read"


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
        reason = unreadable_reason(given)
        if reason is not None:
            yield InputError(given, 1, reason)
        elif path.is_dir():
            yield from _walk(given, path, exclude)
        else:
            yield InputFile(given, path)


def _walk(given: str, path: Path, exclude: Sequence[str]
          ) -> Iterator[InputFile | InputError | Excluded]:
    excluder = Excluder(compile_patterns([*exclude, *read_ignore_file(path)]))
    root_real = os.path.realpath(path)
    found: list[str] = []
    excluded: list[str] = []
    linked_dirs: list[str] = []
    for root, dirs, files in os.walk(path):
        relative_root = Path(root).relative_to(path).as_posix()
        prefix = "" if relative_root == "." else relative_root + "/"
        kept = []
        for name in sorted(d for d in dirs if d not in SKIPPED_DIRS):
            if not os.path.islink(os.path.join(root, name)):
                kept.append(name)
            elif not (excluder and excluder.directory_excluded(prefix + name)):
                linked_dirs.append(os.path.join(root, name))
        dirs[:] = kept
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
        yield InputFile(name, name, _outside(name, root_real))
    for name in linked_dirs:
        # Not followed (a link loop, another repository, the same files twice),
        # but never silently: listed as skipped.
        yield InputFile(name, name, "symbolic link to a directory; not followed "
                                    "(name its target on the command line to scan it)")


def _outside(name: str, root_real: str) -> str | None:
    """Why a symlink below a scanned directory is not followed: its target is
    outside that directory (``/dev/zero``, another repository, a secret file)."""
    if not os.path.islink(name):
        return None
    target = os.path.realpath(name)
    if os.path.commonpath([target, root_real]) == root_real:
        return None
    return "symbolic link to a file outside the scanned directory; not read"


#: Byte patterns of the first four bytes (YAML 1.2, section 5.2) -> encoding name.
_WIDE_ENCODINGS = (
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"), (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\xfe\xff", "UTF-16"), (b"\xff\xfe", "UTF-16"),
)


def _wide_encoding(data: bytes) -> str | None:
    """The UTF-16/32 encoding ``data`` is in, with or without a byte order mark."""
    for mark, name in _WIDE_ENCODINGS:
        if data.startswith(mark):
            return name
    head = data[:4]
    if len(head) == 4 and head[:3] == b"\x00\x00\x00" and head[3]:
        return "UTF-32 (big-endian)"
    if len(head) == 4 and head[0] and head[1:] == b"\x00\x00\x00":
        return "UTF-32 (little-endian)"
    if len(head) >= 2 and (head[0] == 0) != (head[1] == 0):
        return "UTF-16"
    return None


def decode(data: bytes, display: str) -> str | InputError:
    """UTF-8 (with or without BOM) or a located error: YAML streams must be UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    else:
        wide = _wide_encoding(data)
        if wide is not None:
            return InputError(display, 1, f"file is {wide} encoded; convert it to UTF-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return InputError(display, line,
                          f"not valid UTF-8: byte 0x{data[exc.start]:02x} at column {column}")


def read_limited(path: str | Path, max_bytes: int) -> bytes | str:
    """The bytes of a regular file of at most ``max_bytes``, or why not.

    A FIFO would block the scan forever and ``/dev/zero`` (or a symlink to it)
    would fill the memory: only regular files are opened, without blocking,
    and never more than ``max_bytes`` + 1 bytes are read, whatever the size
    the file claims."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return "not a regular file (a FIFO, device or socket); not read"
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        return f"cannot read file: {exc.strerror or exc}"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # replaced since the stat above
            return "not a regular file (a FIFO, device or socket); not read"
        if info.st_size > max_bytes:
            return _too_large(info.st_size, max_bytes)
        # The size the file claims, and one byte more to see it grow:
        # reading the limit (16 MiB) made a buffer that large for every file
        # (0.14 s for 2,831 files). One read usually returns exactly that size
        # (a buffered reader asks again to see the end); a short read (a
        # signal, over 2 GiB) or a file that grew reads on, to one byte over
        # the limit at most, and a file that shrank ends at its end.
        data = os.read(fd, info.st_size + 1)
        if len(data) != info.st_size:
            parts, total = [data], len(data)
            while total != info.st_size and total <= max_bytes:
                more = os.read(fd, min(max_bytes + 1 - total, 1 << 20))
                if not more:
                    break
                parts.append(more)
                total += len(more)
            data = b"".join(parts)
    except OSError as exc:
        return f"cannot read file: {exc.strerror or exc}"
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # grew while being read
        return _too_large(None, max_bytes)
    return data


def read_stdin(stream: BinaryIO, max_bytes: int) -> bytes:
    """Standard input, at most one byte more than the limit (which the scan
    then reports): a pipe that never ends does not fill the memory."""
    return stream.read(max(max_bytes, 0) + 1)


def read_file(item: InputFile, max_bytes: int, stdin_data: bytes | None = None) -> str | InputError:
    """Read and decode one input, refusing files over the size limit unread."""
    if item.fs_path is None:
        data = stdin_data if stdin_data is not None else b""
        if len(data) > max_bytes:
            return InputError(item.display, 1, _too_large(None, max_bytes))
        return decode(data, item.display)
    read = read_limited(item.fs_path, max_bytes)
    if isinstance(read, str):
        return InputError(item.display, 1, read)
    return decode(read, item.display)


def byte_size(count: int) -> str:
    """A size as people read it: ``3,001 bytes``, ``1.5 MiB`` (never "0.0 MiB")."""
    if count < 1 << 20:
        return f"{count:,} bytes" if count != 1 else "1 byte"
    return f"{count / (1 << 20):,.1f} MiB"


def _too_large(size: int | None, limit: int) -> str:
    what = f"file is {byte_size(size)}, over" if size is not None else "input is over"
    return f"{what} the {byte_size(limit)} limit (--max-file-size); not scanned"
