"""One scan, front to back: sources -> upgrade path -> evaluation.

Both front ends (the pytest plugin and ``upgrade-lint scan``) call ``run_scan``
with the same request, so they produce the same results by construction.
"""

from __future__ import annotations

import contextlib
import gc
import pickle
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from checks.engine import parallel
from checks.engine.catalog import Catalog, load_catalog
from checks.engine.evaluate import Evaluator, input_error_results
from checks.engine.existing import BaselineError, FindingKey, finding_keys, mark_existing, read_baseline
from checks.engine.installations import InstallationMap
from checks.engine.live import LiveScope, LiveSourceError, read_live, superseded
from checks.engine.redact import Scrubber
from checks.engine.registry import get_template
from checks.engine.upgrade_path import ContextOptions, ScanContext, build_contexts
from checks.model import (
    InputError,
    JsonPath,
    Outcome,
    Resource,
    Result,
    Severity,
    Skipped,
    format_json_path,
    pack_results,
    unpack_results,
)
from checks.sources import backups
from checks.sources.files import DEFAULT_MAX_FILE_BYTES
from checks.sources.git_base import BaseRevisionError, BaseSnapshot, load_base
from checks.sources.live.model import LiveRead
from checks.sources.live.origins import is_live_origin
from checks.sources.locate import LineLocator
from checks.sources.manifests import (
    ScanInputs,
    discover_inputs,
    load_files,
    locator_for,
    nothing_found,
)
from checks.timings import mark

if TYPE_CHECKING:  # the cluster reader needs `kubernetes`: not for manifest-only scans
    from checks.sources.live.kube import ClusterOptions
    from checks.sources.live.probes import ProbeOptions


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
    #: ``PRODUCT`` or ``PRODUCT@INSTALLATION`` -> path of the backup.
    backups: Mapping[str, str] = field(default_factory=dict)
    max_backup_age_seconds: float = 24 * 3600
    careful_parser: bool = False
    jobs: int = 1
    #: ``--installation NAME=GLOB``: which files make up which installation.
    installations: InstallationMap = field(default_factory=InstallationMap)
    #: ``--base REF``: the merge request's target revision (git).
    base: str | None = None
    #: ``--baseline FILE``: a previous JSON report whose findings are known.
    baseline: str | None = None
    #: ``--gate-all``: existing findings fail the gate too.
    gate_all: bool = False
    #: gitignore-style globs of files to leave out below scanned directories.
    exclude: Sequence[str] = ()
    #: The encoder of a streamed report that will be written (the JSON
    #: report's), passed by the front end: with ``jobs`` > 1 the workers encode
    #: their own results with it while the parent runs the items. The engine
    #: never imports reporters.
    encode_results: parallel.EncodeResults | None = None
    #: ``--cluster``: what to read of which cluster (the cluster reader itself
    #: is imported only when a cluster is read: ``checks.engine.live``).
    cluster: ClusterOptions | None = None
    #: ``--snapshot FILE``: replay a recorded live read instead of a cluster.
    snapshot: str | None = None
    #: ``--record FILE``: save what the live source read (``.gz``: gzip'd).
    record: str | None = None
    #: ``--datapower-secret`` etc.: the product probes' options.
    probes: ProbeOptions | None = None
    #: Rule ids the user named in ``-k``: a live scan lists their kinds even
    #: when they usually judge only what other rules list (k8s-removed-api).
    named_rules: tuple[str, ...] = ()

    @property
    def live(self) -> bool:
        """Does the scan read a live source? (Then it runs in one process.)"""
        return self.cluster is not None or self.snapshot is not None


@dataclass
class ScanResult:
    catalog: Catalog
    context: ScanContext
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
    #: Well-formed files and documents that are not objects, with the reason.
    skipped: list[Skipped] = field(default_factory=list)
    #: Files below scanned directories left out by --exclude / .upgradelintignore.
    excluded: int = 0
    #: What the live source read (``--cluster``/``--snapshot``), or None.
    live: LiveRead | None = None

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
                                 request.stdin_data, request.careful_parser, request.exclude)
        self.files, self.discovery_errors, self.excluded = discover_inputs(self.inputs)
        jobs = min(request.jobs, len(self.files))
        # Findings are marked existing after the workers encoded them: with a
        # base or a baseline the report encodes every result itself.
        encode = None if request.base or request.baseline else request.encode_results
        # A live scan runs in one process: --jobs applies to manifests only.
        self.workers = (parallel.Started(self.files, self.inputs, catalog, jobs,
                                         encode, request.installations)
                        if jobs > 1 and request.stdin_data is None and not request.live
                        else None)

    def finish(self) -> ScanResult:
        with _no_cyclic_gc():
            return self._finish()

    def _before(self) -> tuple[BaseSnapshot | None, set[FindingKey]]:
        """The base revision's objects and the baseline's findings, read before the
        scan so that a wrong ``--base`` or ``--baseline`` fails fast."""
        request = self.request
        try:
            base = (load_base(request.base, [*request.paths, *request.values], self.inputs)
                    if request.base else None)
            known = read_baseline(request.baseline) if request.baseline else set()
        except (BaseRevisionError, BaselineError) as exc:
            if self.workers is not None:
                self.workers.close()
            raise ScanUsageError(str(exc)) from None
        return base, known

    def _existing(self, base: BaseSnapshot | None, known: set[FindingKey],
                  options: ContextOptions) -> set[FindingKey]:
        """Findings that are not the change's: the baseline's, and those the base
        revision already had (evaluated as the base, with its own context)."""
        if self.request.gate_all:
            return set()
        if base is None:
            return known
        base_options = replace(options, base_ref="", base_resources=())
        context, _ = build_contexts(base.resources, base_options, lambda r, p: r.origin.path)
        evaluator = Evaluator(self.catalog, context, lambda asked: [0] * len(asked),
                              Scrubber([]))
        return known | finding_keys(evaluator.evaluate(base.resources))

    def _finish(self) -> ScanResult:
        request, catalog, inputs = self.request, self.catalog, self.inputs
        locator = locator_for(inputs)
        base, known = self._before()
        options = ContextOptions(
            request.targets, request.currents,
            {key: backups.inspect(path) for key, path in request.backups.items()},
            request.max_backup_age_seconds, request.installations,
            request.base or "", base.resources if base else ())

        def where(resource: Resource, path: JsonPath) -> str:
            if is_live_origin(resource.origin.path):  # a URI: there is no line to look up
                return f"{resource.origin.path} {format_json_path(path)}"
            return f"{resource.origin.path}:{locator.line(resource.origin, path)}"

        def make_context(resources: Sequence[Resource]) -> ScanContext:
            context, problems = build_contexts(resources, options, where)
            if problems:
                raise ScanUsageError("; ".join(problems))
            context.assumed_targets = assumed_targets(catalog, context)
            return context

        combined = self._from_workers(make_context, locator)
        if combined is not None:
            errors = input_error_results(self._errors(self.discovery_errors + combined.errors,
                                                      combined.objects, combined.skipped))
            if combined.pre_encoded is not None:
                combined.pre_encoded.shift(len(errors))
            existing = self._existing(base, known, options)
            return ScanResult(catalog, combined.context, combined.declarations,
                              mark_existing(errors + combined.results, existing),
                              combined.files, combined.documents,
                              self.started_at, time.perf_counter() - self.clock,
                              combined.objects, combined.pre_encoded, combined.skipped,
                              self.excluded)
        manifests = load_files(self.files, inputs)
        mark("scan: loaded")
        live = self._live()
        scanned, standing = list(manifests.resources), set()
        if live is not None:
            # The cluster is the current state: it says which versions run now,
            # and its objects no manifest stands for are checked as they run.
            options = replace(options, live_resources=live.resources,
                              observed_at=_read_at(live, self.started_at),
                              unread=tuple(live.unavailable))
            standing = superseded(manifests.resources, live.resources)
            context = make_context(scanned + [r for r in live.resources
                                              if id(r) not in standing])
            scanned += live.resources
        else:
            context = make_context(scanned)

        scrubber = Scrubber.from_resources(scanned, catalog)
        scope = LiveScope(live is not None, list(live.unavailable) if live else [], standing,
                          {r.group for r in live.resources} if live else set())
        evaluator = Evaluator(catalog, context, locator.resource_lines, scrubber, scope)
        unread = self._errors(self.discovery_errors + manifests.errors,
                              len(scanned), manifests.skipped)
        results = mark_existing(input_error_results(unread)
                                + evaluator.evaluate(scanned),
                                self._existing(base, known, options))
        return ScanResult(catalog, context, scanned, results, manifests.files,
                          manifests.documents, self.started_at,
                          time.perf_counter() - self.clock, len(scanned),
                          skipped=manifests.skipped, excluded=self.excluded, live=live)

    def _live(self) -> LiveRead | None:
        """The live source's read (recorded when asked); a source that cannot
        be used at all is a usage error."""
        request = self.request
        if not request.live:
            return None
        try:
            return read_live(self.catalog, request.cluster, request.probes, request.snapshot,
                             request.record, request.named_rules)
        except LiveSourceError as exc:
            raise ScanUsageError(str(exc)) from None

    def _from_workers(self, make_context: Callable[[Sequence[Resource]], ScanContext],
                      locator: LineLocator) -> parallel.Combined | None:
        """The workers' combined scan; None without workers, or when one died:
        then the parent scans every file itself (the results are those of
        ``--jobs 1``), and says so on standard error."""
        if self.workers is None:
            return None
        try:
            return self.workers.finish(make_context, locator)
        except parallel.WorkerDied:
            self.workers = None
            print("upgrade-lint: a worker process ended without answering (killed, or out of "
                  "memory); its files are scanned in the main process", file=sys.stderr)
            return None

    def _errors(self, errors: list[InputError], objects: int,
                skipped: list[Skipped]) -> list[InputError]:
        """The input errors, and one more when the scan found nothing to check
        (a scan of a live source alone reports what it read in its own section)."""
        if not self.request.paths:
            return errors
        empty = nothing_found(self.request.paths, objects, errors, skipped, self.excluded)
        return errors if empty is None else [*errors, empty]


def _read_at(live: LiveRead, started_at: datetime) -> float:
    """When the live objects were read: the recording's time, else the scan's."""
    if live.read_at:
        try:
            stamp = datetime.fromisoformat(live.read_at.replace("Z", "+00:00"))
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=timezone.utc)
            return stamp.timestamp()
        except ValueError:
            pass
    return started_at.timestamp()


def assumed_targets(catalog: Catalog, context: ScanContext) -> dict[str, str]:
    """Targets the rules assume for products given none (see
    ``CheckTemplate.assumes_target``): the reports must say what was judged."""
    out: dict[str, str] = {}
    for rule in catalog.rules:
        template = get_template(rule.check)
        assumed = template.assumes_target(rule.params) if template and template.assumes_target \
            else None
        if assumed is not None and context.default.path(assumed[0]).target is None:
            out.setdefault(*assumed)
    return out


def save_scan(result: ScanResult, path: Path) -> None:
    """The results of a finished scan, for processes that report them without
    scanning again (pytest-xdist workers). The objects stay behind: workers
    that need them scan on their own (see ``load_scan``)."""
    with path.open("wb") as out:
        pickle.dump((result.context, pack_results(result.results), result.files,
                     result.documents, result.started_at, result.seconds, result.objects,
                     result.skipped, result.excluded, result.live),
                    out, protocol=pickle.HIGHEST_PROTOCOL)


def load_scan(path: Path, catalog: Catalog) -> ScanResult:
    """What ``save_scan`` wrote (a file this run made: it is unpickled)."""
    with path.open("rb") as data:
        (context, packed, files, documents, started_at, seconds, objects, skipped,
         excluded, live) = pickle.load(data)
    return ScanResult(catalog, context, [], unpack_results(packed), files, documents,
                      started_at, seconds, objects, skipped=skipped, excluded=excluded,
                      live=live)
