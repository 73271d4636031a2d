"""One scan, front to back: sources -> upgrade path -> evaluation.

Both front ends (the pytest plugin and ``upgrade-lint scan``) call ``run_scan``
with the same request, so they produce the same results by construction.
"""

from __future__ import annotations

import contextlib
import gc
import pickle
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from checks.engine import parallel
from checks.engine.catalog import Catalog, load_catalog
from checks.engine.evaluate import Evaluator, input_error_results
from checks.engine.redact import Scrubber
from checks.engine.upgrade_path import UpgradeContext, build_context
from checks.model import (
    JsonPath,
    Outcome,
    Resource,
    Result,
    Severity,
    pack_results,
    unpack_results,
)
from checks.sources import backups
from checks.sources.files import DEFAULT_MAX_FILE_BYTES
from checks.sources.manifests import ScanInputs, discover_inputs, load_files, locator_for
from checks.timings import mark


class ScanUsageError(Exception):
    """Bad options (version syntax, ...): exit code 2, no traceback."""


@dataclass(frozen=True)
class ScanRequest:
    paths: Sequence[str]
    values: Mapping[str, str] = field(default_factory=dict)
    targets: Mapping[str, str] = field(default_factory=dict)
    currents: Mapping[str, str] = field(default_factory=dict)
    rules_dir: Path | None = None
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    stdin_data: bytes | None = None
    backups: Mapping[str, str] = field(default_factory=dict)  # product -> path
    max_backup_age_seconds: float = 24 * 3600
    careful_parser: bool = False
    jobs: int = 1
    #: The encoder of a streamed report that will be written (the JSON
    #: report's), passed by the front end: with ``jobs`` > 1 the workers encode
    #: their own results with it while the parent runs the items. The engine
    #: never imports reporters.
    encode_results: parallel.EncodeResults | None = None


@dataclass
class ScanResult:
    catalog: Catalog
    context: UpgradeContext
    resources: list[Resource]
    results: list[Result]
    files: int
    documents: int
    started_at: datetime
    seconds: float
    #: Objects scanned. ``resources`` holds them all in one process; with
    #: ``--jobs`` only those whole-scan rules and declarations needed.
    objects: int = 0
    #: With ``--jobs`` and ``ScanRequest.encode_results``: the workers' encoding.
    pre_encoded: parallel.PreEncoded | None = None

    def counts(self) -> Counter[tuple[Outcome, Severity]]:
        return Counter((r.outcome, r.severity) for r in self.results)


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """A scan allocates millions of objects and creates no reference cycles, but
    CPython's cyclic collector would rescan them all every few thousand
    allocations (measured: a third of the load time). Pause it, then freeze what
    survives so later collections skip it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def run_scan(request: ScanRequest, catalog: Catalog | None = None) -> ScanResult:
    """Scan the inputs; bad input becomes results, bad options raise ScanUsageError."""
    return prepare_scan(request, catalog).finish()


def prepare_scan(request: ScanRequest, catalog: Catalog | None = None) -> PreparedScan:
    """Load the catalog, find the files and, with ``jobs`` > 1, start the workers.

    ``upgrade-lint scan --jobs N`` calls this before pytest starts, so the
    workers parse while pytest configures itself."""
    return PreparedScan(request, catalog or load_catalog(request.rules_dir))


class PreparedScan:
    def __init__(self, request: ScanRequest, catalog: Catalog) -> None:
        self.request = request
        self.catalog = catalog
        self.started_at, self.clock = datetime.now(timezone.utc), time.perf_counter()
        self.inputs = ScanInputs(request.paths, request.values, request.max_file_bytes,
                                 request.stdin_data, request.careful_parser)
        self.files, self.discovery_errors = discover_inputs(self.inputs)
        jobs = min(request.jobs, len(self.files))
        self.workers = (parallel.Started(self.files, self.inputs, catalog, jobs,
                                         request.encode_results)
                        if jobs > 1 and request.stdin_data is None else None)

    def finish(self) -> ScanResult:
        with _no_cyclic_gc():
            return self._finish()

    def _finish(self) -> ScanResult:
        request, catalog, inputs = self.request, self.catalog, self.inputs
        locator = locator_for(inputs)

        def where(resource: Resource, path: JsonPath) -> str:
            return f"{resource.origin.path}:{locator.line(resource.origin, path)}"

        def make_context(resources: Sequence[Resource]) -> UpgradeContext:
            context, problems = build_context(resources, request.targets, request.currents,
                                              where)
            if problems:
                raise ScanUsageError("; ".join(problems))
            context.backups = {product: backups.inspect(path)
                               for product, path in request.backups.items()}
            context.max_backup_age_seconds = request.max_backup_age_seconds
            return context

        if self.workers is not None:
            combined = self.workers.finish(make_context, locator)
            errors = input_error_results(self.discovery_errors + combined.errors)
            if combined.pre_encoded is not None:
                combined.pre_encoded.shift(len(errors))
            return ScanResult(catalog, combined.context, combined.declarations,
                              errors + combined.results, combined.files, combined.documents,
                              self.started_at, time.perf_counter() - self.clock,
                              combined.objects, combined.pre_encoded)
        manifests = load_files(self.files, inputs)
        mark("scan: loaded")
        context = make_context(manifests.resources)

        scrubber = Scrubber.from_resources(manifests.resources, catalog)
        evaluator = Evaluator(catalog, context, locator.resource_lines, scrubber)
        results = (input_error_results(self.discovery_errors + manifests.errors)
                   + evaluator.evaluate(manifests.resources))
        return ScanResult(catalog, context, manifests.resources, results, manifests.files,
                          manifests.documents, self.started_at,
                          time.perf_counter() - self.clock, len(manifests.resources))


def save_scan(result: ScanResult, path: Path) -> None:
    """The results of a finished scan, for processes that report them without
    scanning again (pytest-xdist workers). The objects stay behind: workers
    that need them scan on their own (see ``load_scan``)."""
    with path.open("wb") as out:
        pickle.dump((result.context, pack_results(result.results), result.files,
                     result.documents, result.started_at, result.seconds, result.objects),
                    out, protocol=pickle.HIGHEST_PROTOCOL)


def load_scan(path: Path, catalog: Catalog) -> ScanResult:
    """What ``save_scan`` wrote (a file this run made: it is unpickled)."""
    with path.open("rb") as data:
        context, packed, files, documents, started_at, seconds, objects = pickle.load(data)
    return ScanResult(catalog, context, [], unpack_results(packed), files, documents,
                      started_at, seconds, objects)
