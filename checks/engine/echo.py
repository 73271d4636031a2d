"""Scanned values quoted in results, cut to a bounded length.

A message or ``observed`` value quotes what the scanned file holds, and a
file may hold a 10 MB string where a version was expected: every report
would carry it, once per finding. Quoted values longer than ``ECHO_LIMIT``
characters keep their first ``ECHO_LIMIT`` characters, an ellipsis and the
original length, so the reader still sees what it was. Cutting happens after
the scrubber ran (a credential is never cut in half, leaving a part of it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: Characters of a quoted value kept.
ECHO_LIMIT = 200
#: A whole message is cut beyond this (several quoted values, or unquoted text).
MESSAGE_LIMIT = 2000
_CUT = "\u2026 ({} characters)"
_ALREADY_CUT = re.compile("\u2026 \\(\\d+ characters\\)$")
#: A quoted value too long to keep whole: ``'...'`` or ``"..."`` on one line.
_LONG = ECHO_LIMIT + 2
_LONG_QUOTED = re.compile(f"'([^'\\n]{{{_LONG},}})'|\"([^\"\\n]{{{_LONG},}})\"")


def cut(value: str, limit: int = ECHO_LIMIT) -> str:
    """``value`` if short, else its first ``limit`` characters, ``…`` and its length."""
    if len(value) <= limit + 1 or _ALREADY_CUT.search(value):
        return value
    return value[:limit] + _CUT.format(len(value))


def _cut_quoted(match: re.Match[str]) -> str:
    quote = match.group()[0]
    inner = match.group(1) if match.group(1) is not None else match.group(2)
    return f"{quote}{inner[:ECHO_LIMIT]}\u2026{quote} ({len(inner)} characters)"


def cut_message(message: str) -> str:
    """A message with each long quoted value cut, and cut as a whole if still long."""
    if len(message) <= ECHO_LIMIT + 1:
        return message
    return cut(_LONG_QUOTED.sub(_cut_quoted, message), MESSAGE_LIMIT)


def cut_value(value: Any) -> Any:
    """``observed``/``expected``: every string in it cut (dicts and lists kept)."""
    if isinstance(value, str):
        return cut(value)
    if isinstance(value, Mapping):
        return {k: cut_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [cut_value(v) for v in value]
    return value
