"""``--jobs N``: the scan shared out across worker processes by the engine.

pytest-xdist would make every worker collect (and so parse) everything; here
the files are split into N contiguous shares of about equal size, and each
worker process (forked, so the catalog is already loaded) does the expensive
parts for its share only: parse, match rules, evaluate object rules, find
lines. The parent combines what needs the whole scan:

1. each worker reports its input errors, counts, the declarations of target
   versions, the credential values to redact, how many objects each rule
   matched, and the objects that whole-scan (set) rules need;
2. the parent builds the upgrade context from all of them, decides the
   rule-level outcomes (no objects, live, path condition), and sends the
   context back; then it builds the redaction set from every share's
   credentials and sends it too (the workers evaluate meanwhile: outcomes
   need no redaction, only the results made from them do);
3. each worker evaluates the remaining object rules; meanwhile the parent
   evaluates the set rules and asks each worker for the lines of their
   findings in its files (the worker looks them up in the same batch as its
   own, so no document is composed twice);
4. each worker returns its Results and those lines, and the parent assembles
   everything in catalog order, which is exactly the order a single process
   produces.

Results are identical to ``--jobs 1`` (tests/test_parallel.py).

A worker that dies (killed, out of memory) closes its pipe: the parent sees
it at its next exchange, at once, kills the other workers and raises
``WorkerDied`` (the scan then runs in the parent). Workers leave SIGINT to
the parent (a Ctrl-C reaches the whole process group) and die of SIGTERM;
``kill_workers`` stops every running worker when the parent is interrupted.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import IO, Any

from checks.engine.catalog import Catalog, Rule
from checks.engine.evaluate import Evaluator, ResourceIndex, line_requests
from checks.engine.installations import InstallationMap, installation_of
from checks.engine.redact import Scrubber, catalog_words, public_words, secret_values
from checks.engine.registry import get_template
from checks.engine.upgrade_path import ScanContext, declaring_resources
from checks.model import (
    InputError,
    JsonPath,
    Resource,
    Result,
    Skipped,
    pack_results,
    unpack_results,
)
from checks.sources.files import InputFile
from checks.sources.locate import LineLocator
from checks.sources.manifests import ScanInputs, load_files
from checks.timings import mark


@dataclass
class Share:
    """What one worker found in phase 1."""

    errors: list[InputError]
    files: int
    documents: int
    objects: int
    matched: dict[str, int]
    set_resources: dict[str, list[Resource]]
    declarations: list[Resource]
    secrets: list[str]
    #: The installations each rule's objects belong to.
    installations: dict[str, list[str]]
    skipped: list[Skipped]
    #: Words reports show anyway (``redact.public_words``): never scrubbed.
    public: list[str]


#: Encodes each rule's results as one piece of a streamed report
#: (``ScanRequest.encode_results``): rule id -> results -> rule id -> text.
EncodeResults = Callable[[Mapping[str, Sequence[Result]]], dict[str, str]]


@dataclass
class Combined:
    errors: list[InputError] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: int = 0
    documents: int = 0
    objects: int = 0
    results: list[Result] = field(default_factory=list)
    declarations: list[Resource] = field(default_factory=list)
    context: ScanContext = field(default_factory=ScanContext)
    #: Runs of results as (start, count, worker, rule id), for PreEncoded.
    segments: list[tuple[int, int, int, str]] = field(default_factory=list)
    pre_encoded: PreEncoded | None = None


def split(files: Sequence[InputFile], jobs: int) -> list[list[InputFile]]:
    """Contiguous shares of about equal bytes (contiguous keeps result order)."""
    sizes = []
    for item in files:
        try:  # os.stat on the str: a third of Path.stat's cost, 3,500 times
            sizes.append(os.stat(item.display).st_size if item.fs_path else 0)
        except OSError:
            sizes.append(0)
    total = sum(sizes) or 1
    shares: list[list[InputFile]] = [[] for _ in range(jobs)]
    running = 0
    for item, size in zip(files, sizes, strict=True):
        # A file goes to the share its middle byte falls in.
        shares[min(jobs - 1, (running + size // 2) * jobs // total)].append(item)
        running += size
    return [share for share in shares if share]


def _worker(conn: Connection, files: list[InputFile], inputs: ScanInputs,
            catalog: Catalog, mapping: InstallationMap, encode: EncodeResults | None,
            encoded: IO[bytes] | None) -> None:
    """One share, through the exchanges the module docstring lists."""
    gc.disable()  # see scan._no_cyclic_gc
    try:
        manifests = load_files(files, inputs)
        index = ResourceIndex(manifests.resources)
        matched = {rule.id: index.matching(rule) for rule in catalog.rules}
        set_rules = {rule.id for rule in catalog.rules
                     if (t := get_template(rule.check)) is not None and t.scope == "set"}
        conn.send(Share(manifests.errors, manifests.files, manifests.documents,
                        len(manifests.resources), {k: len(v) for k, v in matched.items()},
                        {k: v for k, v in matched.items() if k in set_rules},
                        declaring_resources(manifests.resources, mapping),
                        secret_values(manifests.resources),
                        {k: list(dict.fromkeys(installation_of(r, mapping) for r in v))
                         for k, v in matched.items()}, manifests.skipped,
                        public_words(manifests.resources)))
        # While the parent builds the context: the object rules that do not need
        # it, for every installation (the parent says later which ones the rule
        # applies to). Messages are scrubbed later, with every share's secrets.
        early_evaluator = Evaluator(catalog, ScanContext(mapping=mapping), _no_lines,
                                    Scrubber([]))
        early = {rule.id: early_evaluator.object_pending(rule, matched[rule.id], gates=False,
                                                         gated=False)
                 for rule in catalog.rules if _context_free(rule, set_rules)
                 and matched[rule.id]}
        ctx, object_rules = conn.recv()
        locator = manifests.locator
        assert locator is not None
        # The scrubber follows (the parent builds it meanwhile): pending
        # outcomes need none, results do.
        evaluator = Evaluator(catalog, ctx, locator.resource_lines, Scrubber([]))
        # The installations' own outcomes (not applicable, ...) come from the
        # parent, once each; workers report only their objects.
        pending = [p for rule in catalog.rules if rule.id in object_rules
                   for p in (evaluator.drop_gated(rule, early[rule.id]) if rule.id in early
                             else evaluator.object_pending(rule, matched[rule.id], gates=False))]
        evaluator.scrub = conn.recv()
        by_rule, their_lines = _located(pending, evaluator, locator, matched, conn.recv())
        conn.send(({rule_id: pack_results(results) for rule_id, results in by_rule.items()},
                   their_lines))
        if encode is not None and encoded is not None:
            # The parent assembles results and runs the items meanwhile (see
            # PreEncoded): on two cores the workers yield to it.
            os.nice(10)
            conn.send(_encode_by_rule(by_rule, encode, encoded))
    except BaseException as exc:  # the parent reports it; a worker never hangs it
        conn.send(exc)
    finally:
        conn.close()


def _located(pending: Sequence[Any], evaluator: Evaluator, locator: LineLocator,
             matched: dict[str, list[Resource]], asks: list[tuple[str, int, JsonPath]]
             ) -> tuple[dict[str, list[Result]], list[int]]:
    """This share's results by rule, and the lines the parent asked for: those of
    whole-scan findings in this share's files, by (rule, position in what this
    worker sent). One batch for both, so each document is composed once."""
    own = [(resource.origin, path) for resource, path in line_requests(pending)]
    theirs = [(matched[rule_id][position].origin, path) for rule_id, position, path in asks]
    lines = locator.lines(own + theirs)
    by_rule: dict[str, list[Result]] = {}
    for result in evaluator.with_lines(pending, lines[:len(own)]):
        by_rule.setdefault(result.rule_id, []).append(result)
    return by_rule, lines[len(own):]


def _worker_process(*args: Any) -> None:
    """A worker's whole life. It ends with ``os._exit``: freeing its objects one
    by one (the parsed share, tens of MB) only delays the exit the parent waits
    for, and nothing of it needs cleaning up (the pipe is closed, the encoded
    pieces flushed, the file descriptors go with the process)."""
    try:
        # The parent's handlers (reports to remove, a line to print) are not
        # the worker's: Ctrl-C is the parent's to handle, SIGTERM kills.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)  # held by the fork (_signals_held)
        _worker(*args)
    finally:
        os._exit(0)


def _encode_by_rule(by_rule: dict[str, list[Result]], encode: EncodeResults,
                    out: IO[bytes]) -> dict[str, tuple[int, int]]:
    """Each rule's results, encoded into ``out``: rule id -> (offset, length)."""
    where = {}
    for rule_id, text in encode(by_rule).items():
        data = text.encode("utf-8")
        where[rule_id] = (out.tell(), len(data))
        out.write(data)
    out.flush()
    return where


def _context_free(rule: Rule, set_rules: set[str]) -> bool:
    """Evaluable before the scan's context exists: a blocking-state rule (which
    only the installations' versions can turn off), not live, an object
    template that does not read the context, deferring to no rule."""
    template = get_template(rule.check)
    return (rule.applicability == "blocking-state" and rule.when is None and rule.mode != "live"
            and rule.id not in set_rules
            and template is not None and not template.uses_context
            and not rule.defer_to)  # the rules it defers to may need the context


def _no_lines(requests: Sequence[tuple[Resource, JsonPath]]) -> list[int]:
    raise AssertionError("early evaluation never resolves lines")


class WorkerDied(Exception):
    """A worker process ended without answering (killed, out of memory)."""


def _receive(conn: Connection) -> Any:
    try:
        message = conn.recv()
    except (EOFError, OSError):  # its end of the pipe closed: the process is gone
        raise WorkerDied("a worker process ended without answering") from None
    if isinstance(message, BaseException):
        raise message
    return message


def _send(conn: Connection, message: Any) -> None:
    try:
        conn.send(message)
    except OSError:  # BrokenPipeError: the worker is gone
        raise WorkerDied("a worker process ended without answering") from None


#: Signals that wait while a worker is forked and registered.
_HELD = {signal.SIGINT, signal.SIGTERM}
#: How long a worker that has sent everything may take to exit.
_EXIT_GRACE_SECONDS = 2.0


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait: their handler must not run between a fork and
    the registration of the new worker (it would be left running)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)


#: The workers of every scan under way (``kill_workers``).
_RUNNING: set[Started] = set()


def kill_workers() -> None:
    """Kill and reap every running worker (the parent is interrupted)."""
    for started in list(_RUNNING):
        started.kill()


class Started:
    """Workers forked and parsing; ``finish`` combines their work."""

    def __init__(self, files: Sequence[InputFile], inputs: ScanInputs, catalog: Catalog,
                 jobs: int, encode: EncodeResults | None = None,
                 mapping: InstallationMap | None = None) -> None:
        self.catalog = catalog
        self.encode = encode
        context = multiprocessing.get_context("fork")
        self.pipes: list[Connection] = []
        self.processes = []
        #: One anonymous file per worker for its pre-encoded report pieces.
        self.encoded: list[IO[bytes]] = []
        _RUNNING.add(self)  # before the first fork: an interruption finds every worker
        for share in split(files, jobs):
            parent_end, child_end = context.Pipe()
            encoded = _anonymous_file() if encode else None
            process = context.Process(target=_worker_process, daemon=True,
                                      args=(child_end, share, inputs, catalog,
                                            mapping or InstallationMap(), encode, encoded))
            with _signals_held():  # a worker forked is a worker ``kill_workers`` knows
                process.start()
                self.processes.append(process)
            child_end.close()
            self.pipes.append(parent_end)
            if encoded is not None:
                self.encoded.append(encoded)

    def finish(self, make_context: Callable[[Sequence[Resource]], ScanContext],
               locator: LineLocator) -> Combined:
        try:
            combined = _combine(self.pipes, self.catalog, make_context, locator)
        except WorkerDied:
            self.kill()  # the others would wait for the parent's next message
            raise
        except BaseException:
            self.close()
            raise
        if self.encode is None:
            self.close()
        else:  # the workers are still encoding: PreEncoded waits for them
            combined.pre_encoded = PreEncoded(self, combined.segments)
        return combined

    def close(self) -> None:
        """Reap the workers. Everything they had to say has been received, so a
        worker still running after a short grace is stuck (in an exit handler,
        a stopped process): it is killed, not waited for."""
        for conn in self.pipes:
            conn.close()
        deadline = time.monotonic() + _EXIT_GRACE_SECONDS
        for process in self.processes:
            process.join(timeout=max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        self._closed()

    def kill(self) -> None:
        """Stop the workers now, whatever they are doing, and reap them."""
        for process in self.processes:
            if process.is_alive():
                process.kill()
        for process in self.processes:
            process.join()
        for conn in self.pipes:
            conn.close()
        self._closed()

    def _closed(self) -> None:
        for encoded in self.encoded:
            encoded.close()
        _RUNNING.discard(self)


def _anonymous_file() -> IO[bytes]:
    """A temporary file with no name (closed by ``Started.close``)."""
    import tempfile  # here: scans without a JSON report do without it

    return tempfile.TemporaryFile()


class PreEncoded:
    """Report pieces the workers encoded while the parent ran the pytest items.

    Encoding the JSON report's results costs as much as the items; done by the
    workers (each for its own results, with the encoder the front end passed
    in ``ScanRequest.encode_results``), it overlaps them instead of following
    them. ``pieces`` waits for the workers and maps a run of results to its
    encoding; the report writer encodes the other results itself.
    """

    def __init__(self, workers: Started, segments: list[tuple[int, int, int, str]]) -> None:
        self.encode = workers.encode
        self._workers = workers
        self._segments = segments  # (start, count, worker, rule id)
        self._offset = 0
        self._pieces: dict[int, tuple[int, int, int, int]] | None = None

    def shift(self, offset: int) -> None:
        """Results were put in front of the combined ones (input errors)."""
        self._offset += offset

    def pieces(self) -> dict[int, tuple[int, int, int, int]]:
        """Index of a run's first result -> (how many results, and where their
        encoding is: file descriptor, offset, length). The descriptors stay
        open until ``close``."""
        if self._pieces is None:
            self._pieces = self._collect()
        return self._pieces

    def _collect(self) -> dict[int, tuple[int, int, int, int]]:
        workers = self._workers
        where: list[dict[str, tuple[int, int]] | None] = []
        for conn in workers.pipes:
            try:
                where.append(_receive(conn))
            except WorkerDied:  # its results are in the parent: the writer encodes them
                where.append(None)
        out = {}
        for start, count, worker, rule_id in self._segments:
            pieces = where[worker]
            if pieces is None:
                continue
            offset, length = pieces[rule_id]
            out[start + self._offset] = (count, workers.encoded[worker].fileno(), offset, length)
        return out

    def close(self) -> None:
        self._workers.close()


def _combine(pipes: list[Connection], catalog: Catalog,
             make_context: Callable[[Sequence[Resource]], ScanContext],
             locator: LineLocator) -> Combined:
    parts: list[Share] = [_receive(conn) for conn in pipes]
    mark("parallel: phase 1 received")
    out = Combined()
    for part in parts:
        out.errors += part.errors
        out.skipped += part.skipped
        out.files += part.files
        out.documents += part.documents
        out.objects += part.objects
        out.declarations += part.declarations
    ctx = out.context = make_context(out.declarations)
    evaluator = Evaluator(catalog, ctx, locator.resource_lines, Scrubber([]))
    levels = {rule.id: evaluator.rule_level(rule, any(p.matched[rule.id] for p in parts))
              for rule in catalog.rules}
    set_rules = {rule_id for rule_id in parts[0].set_resources} if parts else set()
    object_rules = {rule_id for rule_id, level in levels.items()
                    if level is None and rule_id not in set_rules}
    for conn in pipes:
        _send(conn, (ctx, object_rules))
    # The workers evaluate their objects meanwhile: messages are scrubbed only
    # when their results are made, after the scrubber arrives.
    secrets = sorted({s for part in parts for s in part.secrets})
    public = {w for part in parts for w in part.public} | catalog_words(catalog)
    evaluator.scrub = scrubber = Scrubber(secrets, public)
    for conn in pipes:
        _send(conn, scrubber)
    # While the workers evaluate object rules, the parent does the set rules;
    # their lines are looked up by the workers that read the files.
    own: dict[str, list[Result]] = {}
    set_pending = []
    for rule in catalog.rules:
        level = levels[rule.id]
        if level is not None:
            own[rule.id] = evaluator.with_lines([level], [])
        elif rule.id in set_rules:
            matched = [r for part in parts for r in part.set_resources[rule.id]]
            set_pending += evaluator.object_pending(rule, matched)
    owner = {id(resource): (worker, rule_id, position)
             for worker, part in enumerate(parts)
             for rule_id, resources in part.set_resources.items()
             for position, resource in enumerate(resources)}
    asks: list[list[tuple[str, int, JsonPath]]] = [[] for _ in pipes]
    answer_at = []
    for resource, path in line_requests(set_pending):
        worker, rule_id, position = owner[id(resource)]
        answer_at.append((worker, len(asks[worker])))
        asks[worker].append((rule_id, position, path))
    for conn, ask in zip(pipes, asks, strict=True):
        _send(conn, ask)
    mark("parallel: set rules done")
    answers = [_receive(conn) for conn in pipes]
    mark("parallel: phase 2 received")
    set_lines = [answers[worker][1][index] for worker, index in answer_at]
    for result in evaluator.with_lines(set_pending, set_lines):
        own.setdefault(result.rule_id, []).append(result)
    for rule in catalog.rules:
        if rule.id in own:
            out.results += own[rule.id]
            continue
        # The installations the rule does not apply to, as one process puts them:
        # before the objects' results.
        names = [name for part in parts for name in part.installations[rule.id]]
        out.results += evaluator.with_lines(evaluator.gate_pending(rule, names), [])
        for worker, (by_rule, _) in enumerate(answers):
            packed = by_rule.get(rule.id)
            if packed:
                out.segments.append((len(out.results), len(packed), worker, rule.id))
                out.results += unpack_results(packed)
    return out


def default_jobs() -> int:
    """``--jobs auto``: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1
