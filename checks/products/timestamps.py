"""Times as live objects carry them: RFC 3339 text or epoch seconds."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def epoch_seconds(value: Any) -> float | None:
    """``2026-11-30T10:00:00Z`` (or with an offset), or a number of seconds
    since the epoch (Kong's ``last_seen``), as epoch seconds; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        stamp = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.timestamp()


def describe_age(seconds: float) -> str:
    """``3 h 20 min``, ``45 s``, ``2 d 4 h``: an age people read at a glance."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"
