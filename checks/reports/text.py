"""Scanned text made safe for each report format: the reporting boundary.

Names, keys, values and file names come from the scanned files, and nothing
stops them from holding what a report format cannot carry:

- lone surrogates: a JSON escape ``"\\ud800"`` in a manifest, or a file name
  that is not valid UTF-8 (Python keeps its bytes as ``\\udc80``-``\\udcff``).
  No UTF-8 writer can encode them; they are shown as ``\\xff`` (the file
  name's byte) or ``\\ud800``;
- characters XML 1.0 forbids (C0 controls but tab, newline and carriage
  return; ``\\ufffe``, ``\\uffff``): JUnit would no longer parse;
- control characters, newlines and ANSI sequences on a terminal: a file name
  holding ``\\n`` could forge a finding line in a CI log, ``ESC [`` could
  rewrite it.

Each writer passes every text through the function of its format here, so
the data model keeps the scanned text as it is (JSON readers get it exactly,
except for the surrogates no reader could take).
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: Lone surrogates: never encodable.
_SURROGATES = re.compile("[\ud800-\udfff]")
#: What XML 1.0 does not allow (or, for DEL and C1, discourages), and surrogates.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
#: What a terminal line must not contain: every control character (newlines
#: and tabs included), line and paragraph separators, the bidirectional
#: overrides and isolates that reorder what a CI log shows, and surrogates.
_NOT_TERMINAL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2028\u2029"
                           "\u2066-\u2069\ufffe\uffff\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_char(char: str) -> str:
    r"""One character as a visible escape: ``\n``, ``\x1b``, ``\u2028``; a byte
    of a non-UTF-8 file name (``\udcff``, Python's surrogate escape) as ``\xff``."""
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _escaper(pattern: re.Pattern[str], prefix: str = "") -> Callable[[str], str]:
    def escape(text: str) -> str:
        # Printable ASCII has nothing any of the patterns escape, and the two
        # tests run at memory speed; then the search: almost every text has
        # nothing to escape.
        if (text.isascii() and text.isprintable()) or pattern.search(text) is None:
            return text
        return pattern.sub(lambda m: prefix + escape_char(m.group()), text)
    return escape


_surrogates_in_json = _escaper(_SURROGATES, prefix="\\")


def in_json_text(text: str) -> str:
    """Lone surrogates escaped in encoded JSON text, where every one stands in
    a string literal: the escape's backslash is itself escaped (``\\xff``).
    ASCII text has none, and ``isascii`` says so at memory speed: the regex
    stepped through each character of the 20 MB a 10,000-document report has
    (0.13 s)."""
    return text if text.isascii() else _surrogates_in_json(text)


#: What XML 1.0 cannot carry escaped (JUnit, and HTML's texts).
for_xml = _escaper(_NOT_XML)
#: Control characters, newlines and surrogates escaped (the terminal listing).
for_terminal = _escaper(_NOT_TERMINAL)
