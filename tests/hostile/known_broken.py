"""Hostile cases and property tests that fail today, in ONE place: id -> the
issue 9 item it belongs to.

While a fix is being made, each entry becomes an
``xfail(strict=True)``: when a fix lands the case passes, the strict xfail
turns the suite red, and the entry must be removed here.
"""

from __future__ import annotations

#: Empty: every case the issue listed passes since the fixes of the sources,
#: reports and credentials landed. A case that regresses is added back here only
#: with the issue item it belongs to, while its fix is being made.
KNOWN_BROKEN: dict[str, str] = {}
