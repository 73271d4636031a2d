"""Opt-in phase timings: ``UPGRADE_LINT_TIMINGS=1`` prints them to stderr.

For profiling a slow scan in the field without a profiler, and for the
benchmark (``tests/perf/bench.py``), which prints where the time goes so the
next regression shows in the phase it comes from:

- each ``mark`` prints the wall time since the process started, so phases that
  overlap (workers and pytest start-up) show as they are;
- ``phase`` blocks (parsing on each path, line lookup, redaction, the upgrade
  context) add up their own CPU time, less that of the phases they contain,
  and ``count`` adds up what they handled (documents);
- ``summary`` then gives each phase's CPU seconds, and for each span between
  two marks (``scan: loaded`` ends the load, ``scan: done`` the evaluation,
  ...) the CPU time no phase inside it claimed.

Disabled, a phase costs one flag test and a shared null context.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator

ENABLED = bool(os.environ.get("UPGRADE_LINT_TIMINGS"))
_START = time.perf_counter()
#: What the span ending at each mark is called in the summary.
_SPANS = {"pytest: session start": "start-up", "scan: loaded": "load (rest)",
          "scan: done": "evaluate (rest)", "items: done": "items",
          "reports: written": "reports"}

_spent: dict[str, float] = {}
_counts: dict[str, int] = {}
_open: list[list[object]] = []  # [name, CPU time it last started or resumed]
_marks: list[tuple[str, float, dict[str, float]]] = []


def mark(label: str) -> None:
    if ENABLED:
        # The process's own CPU time too: a --jobs worker's marks show its work.
        print(f"upgrade-lint timing {time.perf_counter() - _START:7.3f}s {label} "
              f"(CPU {time.process_time():.3f}s)", file=sys.stderr)
        _marks.append((label, time.process_time(), dict(_spent)))


def phase(name: str) -> contextlib.AbstractContextManager[None]:
    """CPU time of the block, less the phases inside it (never around a ``yield``).
    Disabled, one shared do-nothing context (a generator-based one cost a
    microsecond a block, and the scan opens ten thousand)."""
    return _timed(name) if ENABLED else _UNTIMED


_UNTIMED = contextlib.nullcontext()


@contextlib.contextmanager
def _timed(name: str) -> Iterator[None]:
    now = time.process_time()
    if _open:
        outer = _open[-1]
        _spent[str(outer[0])] = _spent.get(str(outer[0]), 0.0) + now - float(str(outer[1]))
    _open.append([name, now])
    try:
        yield
    finally:
        now = time.process_time()
        _, started = _open.pop()
        _spent[name] = _spent.get(name, 0.0) + now - float(str(started))
        if _open:
            _open[-1][1] = now


def count(name: str, number: int) -> None:
    if ENABLED:
        _counts[name] = _counts.get(name, 0) + number


def summary() -> list[str]:
    """``phase NAME SECONDS [COUNT]`` lines (CPU time): each phase's total, then
    each span's time outside any phase, then the total up to the last mark."""
    rests: list[str] = []
    before = inside = 0.0
    previous: dict[str, float] = {}
    for label, cpu, spent in _marks:
        inside += sum(seconds - previous.get(name, 0.0) for name, seconds in spent.items())
        previous = spent
        span = _SPANS.get(label)
        if span is not None:
            rests.append(f"phase {span} {cpu - before - inside:.3f}")
            before, inside = cpu, 0.0
    phases = [f"phase {name} {seconds:.3f}" + (f" {_counts[name]}" if name in _counts else "")
              for name, seconds in previous.items()]
    total = [f"phase total {_marks[-1][1]:.3f}"] if _marks else []
    return phases + rests + total


def print_summary() -> None:
    if ENABLED:
        for line in summary():
            print(f"upgrade-lint {line}", file=sys.stderr)
