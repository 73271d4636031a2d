"""How Helm charts read values, for checks that judge values files.

A chart's ``{{ if .Values.x }}`` follows Go template truth: empty and zero
values are false, every other value is true, so the string ``"true"`` (and
even ``"false"``) switches a block on just like the boolean. Checks that ask
"does the chart render this?" must read values the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def go_truthy(value: Any) -> bool:
    """Go template truth of a values entry: what ``{{ if }}`` decides."""
    if value is None or value is False or value == "":
        return False
    if isinstance(value, bool):
        return True
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, (list, Mapping)):
        return bool(value)
    return True
