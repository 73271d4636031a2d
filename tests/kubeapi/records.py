"""What the test API server remembers: every request it answered, and the faults tests injected."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it (query values are the last of each key)."""

    method: str
    path: str
    query: Mapping[str, str]
    status: int
    user: str | None = None
    accept: str = ""
    verb: str = ""

    @property
    def is_list(self) -> bool:
        return self.verb == "list"


@dataclass
class Fault:
    """An injected answer for requests whose `path?query` matches `pattern` (re.search)."""

    pattern: re.Pattern[str]
    status: int | None
    times: int | None
    retry_after: float | None
    delay: float
    method: str | None
    body: str | None = None
    content_type: str = "application/json"
    drop: bool = False
    hits: int = 0

    def matches(self, method: str, target: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        return (self.method is None or self.method == method) and bool(self.pattern.search(target))


@dataclass
class RequestSlot:
    """A request's place in the log, filled in when the answer is sent."""

    record: RequestRecord
    write: bool
