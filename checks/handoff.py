"""Hand-over between ``upgrade-lint scan`` and the pytest plugin it runs.

The CLI registers a RunOutcome as a plugin object: it carries stdin bytes
(pytest captures stdin) and a scan already started with ``--jobs N`` one
way, and the finished report the other way, so the CLI can print it after
pytest has released the terminal. It lives apart from the plugin so the CLI
can fork its workers before importing pytest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checks.engine.scan import PreparedScan
    from checks.reports.model import Report


class RunOutcome:
    def __init__(self, stdin_data: bytes | None = None,
                 prepared: PreparedScan | None = None) -> None:
        self.stdin_data = stdin_data
        self.prepared = prepared
        self.report: Report | None = None
        #: One line per report that could not be written (``reports.output``).
        self.report_problems: list[str] = []
        #: A bug in the scan: ``upgrade-lint scan`` reports it (exit 3).
        self.crash: BaseException | None = None
