"""``--exclude GLOB`` and ``.upgradelintignore``: gitignore-style path patterns.

Repositories already describe what to leave out in ``.gitignore`` syntax, so
the patterns mean what they mean there, relative to the scanned directory:

- ``ci/*.yml`` (a slash inside) is anchored at the directory; ``*.json`` (no
  slash) matches a name at any depth; a leading ``/`` anchors too;
- ``*`` and ``?`` stay within one path segment, ``**`` spans segments
  (``**/templates/**``), ``[abc]`` is a character class;
- a trailing ``/`` matches directories only (and so everything below them);
- ``!pattern`` re-includes what an earlier pattern excluded, except below an
  excluded directory (as in git);
- blank lines and lines starting with ``#`` are ignored in the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

IGNORE_FILE = ".upgradelintignore"


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    negated: bool
    directory_only: bool


def _segment_regex(text: str) -> str:
    """``*``, ``?`` and ``[...]`` of one glob, without ``**`` handling."""
    out, i = [], 0
    while i < len(text):
        char = text[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\" and i + 1 < len(text):
            i += 1
            out.append(re.escape(text[i]))
        elif char == "[":
            end = text.find("]", i + 2 if text[i + 1:i + 2] in ("!", "^") else i + 1)
            if end == -1:
                out.append(re.escape(char))  # an unterminated class is a literal [
            else:
                body = text[i + 1:end]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def compile_pattern(line: str) -> Pattern | None:
    """One gitignore line -> a pattern over ``/``-separated relative paths
    (None for blank lines and comments)."""
    text = line.rstrip("\n").rstrip()
    if not text or text.startswith("#"):
        return None
    negated = text.startswith("!")
    if negated:
        text = text[1:]
    directory_only = text.endswith("/")
    text = text.rstrip("/")
    if not text:
        return None
    while text.startswith("./"):  # users write paths the shell way: same as "/ci/*.yml"
        text = "/" + text[2:].lstrip("/")
    anchored = "/" in text
    text = text.lstrip("/")
    parts = text.split("/")
    regex = ""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            regex += ".*" if last else "(?:.*/)?"
        else:
            regex += _segment_regex(part) + ("" if last else "/")
    if not anchored:
        regex = "(?:.*/)?" + regex
    return Pattern(re.compile(regex, re.DOTALL), negated, directory_only)


def compile_patterns(lines: Iterable[str]) -> list[Pattern]:
    return [p for p in (compile_pattern(line) for line in lines) if p is not None]


def read_ignore_file(root: Path) -> list[str]:
    """The lines of ``root/.upgradelintignore`` (none if it is absent or unreadable)."""
    try:
        return (root / IGNORE_FILE).read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return []


class Excluder:
    """Decides, for paths relative to one scanned directory, what is left out."""

    def __init__(self, patterns: Sequence[Pattern]) -> None:
        self.patterns = list(patterns)
        self._directories: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def _matches(self, relative: str, is_dir: bool) -> bool:
        excluded = False
        for pattern in self.patterns:
            if pattern.directory_only and not is_dir:
                continue
            if pattern.negated == excluded and pattern.regex.fullmatch(relative):
                excluded = not pattern.negated
        return excluded

    def directory_excluded(self, relative: str) -> bool:
        """Is this directory (or one above it) excluded? Memoised: every file asks."""
        known = self._directories.get(relative)
        if known is None:
            parent = relative.rpartition("/")[0]
            known = ((bool(parent) and self.directory_excluded(parent))
                     or self._matches(relative, True))
            self._directories[relative] = known
        return known

    def excluded(self, relative: str) -> bool:
        """Is this file, given relative to the scanned directory with ``/``, left out?"""
        parent = relative.rpartition("/")[0]
        if parent and self.directory_excluded(parent):
            return True  # git cannot re-include a file below an excluded directory
        return self._matches(relative, False)
