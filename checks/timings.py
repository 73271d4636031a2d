"""Opt-in phase timings: ``UPGRADE_LINT_TIMINGS=1`` prints them to stderr.

For profiling a slow scan in the field without a profiler: each mark is the
wall time since the process started, so phases that overlap (workers and
pytest start-up) show as they are.
"""

from __future__ import annotations

import os
import sys
import time

ENABLED = bool(os.environ.get("UPGRADE_LINT_TIMINGS"))
_START = time.perf_counter()


def mark(label: str) -> None:
    if ENABLED:
        print(f"upgrade-lint timing {time.perf_counter() - _START:7.3f}s {label}",
              file=sys.stderr)
