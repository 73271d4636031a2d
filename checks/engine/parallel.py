"""``--jobs N``: the scan shared out across worker processes by the engine.

pytest-xdist would make every worker collect (and so parse) everything; here
the files are cut into chunks (runs of consecutive files, about a sixteenth
of a worker's bytes each: ``CHUNKS_PER_JOB``; a larger file is a chunk of its
own), and each worker
process (forked, so the catalog is already loaded) takes the next chunk
nobody has taken until none is left, biggest first. Shares of equal bytes
were not shares of equal work: a ``helm template`` stream of 2,000
documents, a core another job slows down, left one worker idle for a
quarter of the scan. Each worker does the expensive parts for its chunks
only: parse, match rules, evaluate object rules, find lines, index the
credential values it found. The parent combines what needs the whole scan:

1. each worker reports, per chunk, its input errors, counts, how many
   objects each rule matched and the objects that whole-scan (set) rules
   need; and, for all its chunks, the declarations of target versions, its
   credential values indexed (``redact.Credentials``) and its public words;
2. the parent builds the upgrade context from all of them, decides the
   rule-level outcomes (no objects, live, path condition), and sends the
   context back (the workers evaluate the rules that need no context
   meanwhile);
3. each worker evaluates the remaining object rules; meanwhile the parent
   evaluates the set rules and asks each worker for the lines of their
   findings in its files. The worker looks those up with its own findings'
   lines, each document composed once; meanwhile the parent merges the
   credentials into one scrubber and sends it to every worker;
4. each worker returns the lines asked for, then its Results (scrubbed):
   the parent makes the whole-scan results in between. It assembles
   everything in catalog order and, within a rule, in chunk order: exactly
   the order a single process produces.

Results are identical to ``--jobs 1`` (tests/test_parallel.py). A document
is never split between chunks, so what is decided per document (one finding
per field, ``dedup``) is decided as in one process.

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
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import IO, Any, NamedTuple

from checks.engine.catalog import Catalog, Rule
from checks.engine.evaluate import Evaluator, ResourceIndex, line_requests
from checks.engine.installations import InstallationMap, installation_of
from checks.engine.redact import (
    Credentials,
    Scrubber,
    catalog_words,
    scan_words,
)
from checks.engine.registry import get_template
from checks.engine.upgrade_path import ScanContext, declaring_resources
from checks.model import (
    InputError,
    JsonPath,
    Origin,
    Resource,
    Result,
    Skipped,
    pack_results,
    unpack_results,
)
from checks.sources.files import InputFile
from checks.sources.locate import LineLocator
from checks.sources.manifests import ManifestSet, ScanInputs, load_files, locator_for
from checks.timings import mark


@dataclass
class Share:
    """What one worker found in one chunk (phase 1)."""

    chunk: int
    worker: int
    errors: list[InputError]
    files: int
    documents: int
    objects: int
    matched: dict[str, int]
    set_resources: dict[str, list[Resource]]
    #: The installations each rule's objects belong to.
    installations: dict[str, list[str]]
    skipped: list[Skipped]


@dataclass
class Found:
    """A worker's phase 1: its chunks' shares, and for all of them together
    the objects that declare versions (``declaring_resources``), its
    credential values, indexed, and the words reports show anyway
    (``redact.scan_words``: never scrubbed)."""

    shares: list[Share]
    #: (chunk, position in the chunk, object): the parent puts them in file order.
    declarations: list[tuple[int, int, Resource]]
    #: The lines of the fields they declare versions in: the parent's upgrade
    #: context names them, and the worker has the files at hand.
    declaration_lines: list[tuple[Origin, JsonPath, int]]
    credentials: Credentials
    public: list[str]


#: Encodes each rule's results as one piece of a streamed report
#: (``ScanRequest.encode_results``): rule id -> results -> rule id -> text.
EncodeResults = Callable[[Mapping[str, Sequence[Result]]], dict[str, str]]
#: A run of results a worker encoded: (chunk, rule id).
PieceKey = tuple[int, str]


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
    #: Runs of results as (start, count, worker, piece), for PreEncoded.
    segments: list[tuple[int, int, int, PieceKey]] = field(default_factory=list)
    pre_encoded: PreEncoded | None = None


#: Chunks per worker: enough that the last one taken is a small part of the
#: scan, few enough that a chunk's bookkeeping (a message entry, a report
#: piece per rule) stays negligible.
CHUNKS_PER_JOB = 16
#: Whatever ``--jobs`` says: at most 2,001 chunks (see ``_Handout``).
MAX_TARGETS = 1000


class Chunk(NamedTuple):
    files: list[InputFile]
    size: int


def chunked(files: Sequence[InputFile], jobs: int) -> list[Chunk]:
    """Runs of consecutive files of about ``1 / (jobs * CHUNKS_PER_JOB)`` of the
    bytes each (consecutive keeps result order); a larger file is a chunk."""
    sizes = []
    for item in files:
        try:  # os.stat on the str: a third of Path.stat's cost, 3,500 times
            sizes.append(os.stat(item.display).st_size if item.fs_path else 0)
        except OSError:
            sizes.append(0)
    # Consecutive chunks hold more than ``target`` together, so there are at
    # most twice as many chunks as targets, plus one (see _Handout).
    target = sum(sizes) / min(jobs * CHUNKS_PER_JOB, MAX_TARGETS)
    chunks: list[Chunk] = []
    for item, size in zip(files, sizes, strict=True):
        if not chunks or (chunks[-1].files and chunks[-1].size + size > target):
            chunks.append(Chunk([], 0))
        chunks[-1].files.append(item)
        chunks[-1] = chunks[-1]._replace(size=chunks[-1].size + size)
    return chunks


class _Handout:
    """Chunks handed out biggest first (the longest jobs started first finish
    together), each to the first worker free to take it.

    The chunk numbers wait in a pipe, written whole before the workers fork;
    each worker reads the next one (a read of one 2-byte number takes it
    whole: pipe reads are serialised) until the pipe is empty. A pipe needs no
    shared memory or semaphore, which some sandboxes do not offer, and it
    holds them all: at most 2,001 chunks (``chunked``), 4,002 bytes, under the
    4 KiB even a pipe cut to one page holds.
    """

    def __init__(self, order: Sequence[int]) -> None:
        self._read, write = os.pipe()
        try:
            os.write(write, b"".join(n.to_bytes(2, "little") for n in order))
        finally:
            os.close(write)  # the workers see the end when the numbers are gone

    def taken(self) -> Iterator[int]:
        while len(number := os.read(self._read, 2)) == 2:
            yield int.from_bytes(number, "little")

    def close(self) -> None:
        """The parent's copy, once every worker has its own."""
        os.close(self._read)


def _worker(conn: Connection, worker: int, chunks: list[Chunk], handout: _Handout,
            inputs: ScanInputs, catalog: Catalog, mapping: InstallationMap,
            encode: EncodeResults | None, encoded: IO[bytes] | None) -> None:
    """The chunks this worker takes, through the exchanges the module docstring lists."""
    gc.disable()  # see scan._no_cyclic_gc
    try:
        loaded: dict[int, ManifestSet] = {}
        for chunk in handout.taken():
            loaded[chunk] = load_files(chunks[chunk].files, inputs)
        mark(f"worker {worker}: loaded {len(loaded)} chunks")
        set_rules = _set_rules(catalog)
        matched = {chunk: _matching(catalog, manifests.resources)
                   for chunk, manifests in loaded.items()}
        resources = [r for manifests in loaded.values() for r in manifests.resources]
        secrets, public = scan_words(resources)
        # Indexed with this worker's public words; the parent leaves out those
        # another worker shows.
        credentials = Credentials(secrets, [*public, *catalog_words(catalog)])
        mark(f"worker {worker}: found")
        locator = locator_for(inputs)
        declarations, declared_fields = _declarations(loaded, mapping)
        conn.send(Found([_share(chunk, worker, manifests, matched[chunk], set_rules, mapping)
                         for chunk, manifests in loaded.items()],
                        declarations,
                        [(*asked, line) for asked, line in zip(
                            declared_fields, locator.lines(declared_fields), strict=True)],
                        credentials, public))
        # While the parent builds the context: the object rules that do not need
        # it, for every installation (the parent says later which ones the rule
        # applies to). Messages are scrubbed later, with every worker's secrets.
        early_evaluator = Evaluator(catalog, ScanContext(mapping=mapping), _no_lines,
                                    Scrubber([]))
        context_free = [rule for rule in catalog.rules if _context_free(rule, set_rules)]
        early = {chunk: {rule.id: early_evaluator.object_pending(rule, by_rule[rule.id],
                                                                 gates=False, gated=False)
                         for rule in context_free if by_rule[rule.id]}
                 for chunk, by_rule in matched.items()}
        mark(f"worker {worker}: early done")
        ctx, object_rules = conn.recv()
        mark(f"worker {worker}: context received")
        # The scrubber follows (the parent builds it meanwhile): pending
        # outcomes need none, results do.
        evaluator = Evaluator(catalog, ctx, locator.resource_lines, Scrubber([]))
        pending = {chunk: _object_pending(evaluator, catalog, object_rules, by_rule, early[chunk])
                   for chunk, by_rule in matched.items()}
        requests = {chunk: line_requests(found) for chunk, found in pending.items()}
        # The parent's questions (which it prepared meanwhile): the lines of
        # whole-scan findings in this worker's files, by (chunk, rule, position
        # in what this worker sent). Asked with this worker's own lines, a
        # document with findings of both kinds is composed once.
        asks: list[tuple[int, str, int, JsonPath]] = conn.recv()
        own = [(resource.origin, path) for asked in requests.values() for resource, path in asked]
        found_lines = locator.lines(own + [(matched[chunk][rule_id][position].origin, path)
                                           for chunk, rule_id, position, path in asks])
        lines, their_lines = iter(found_lines[:len(own)]), found_lines[len(own):]
        mark(f"worker {worker}: lines done")
        evaluator.scrub = conn.recv()
        # The parent makes the whole-scan results while this worker makes its own.
        conn.send(their_lines)
        by_chunk = {chunk: _by_rule(evaluator.with_lines(found, [next(lines)
                                                                 for _ in requests[chunk]]))
                    for chunk, found in pending.items()}
        conn.send({chunk: {rule_id: pack_results(results) for rule_id, results in by_rule.items()}
                   for chunk, by_rule in by_chunk.items()})
        mark(f"worker {worker}: results sent")
        if encode is not None and encoded is not None:
            # The parent assembles results and runs the items meanwhile (see
            # PreEncoded): on two cores the workers yield to it.
            os.nice(10)
            conn.send(_encode_by_piece(by_chunk, encode, encoded))
    except BaseException as exc:  # the parent reports it; a worker never hangs it
        conn.send(exc)
    finally:
        conn.close()


def _object_pending(evaluator: Evaluator, catalog: Catalog, object_rules: set[str],
                    matched: dict[str, list[Resource]],
                    early: dict[str, list[Any]]) -> list[Any]:
    """A chunk's outcomes of the object rules, in catalog order: those
    evaluated early, less the installations the rule turned out not to apply
    to; the others now. The installations' own outcomes (not applicable, ...)
    come from the parent, once each; workers report only their objects."""
    return [p for rule in catalog.rules if rule.id in object_rules
            for p in (evaluator.drop_gated(rule, early[rule.id]) if rule.id in early
                      else evaluator.object_pending(rule, matched[rule.id], gates=False))]


def _by_rule(results: Sequence[Result]) -> dict[str, list[Result]]:
    out: dict[str, list[Result]] = {}
    for result in results:
        out.setdefault(result.rule_id, []).append(result)
    return out


def _set_rules(catalog: Catalog) -> set[str]:
    """The whole-scan rules: evaluated by the parent over every worker's objects."""
    return {rule.id for rule in catalog.rules
            if (t := get_template(rule.check)) is not None and t.scope == "set"}


def _matching(catalog: Catalog, resources: Sequence[Resource]) -> dict[str, list[Resource]]:
    index = ResourceIndex(resources)
    return {rule.id: index.matching(rule) for rule in catalog.rules}


def _share(chunk: int, worker: int, manifests: ManifestSet, matched: dict[str, list[Resource]],
           set_rules: set[str], mapping: InstallationMap) -> Share:
    return Share(chunk, worker, manifests.errors, manifests.files, manifests.documents,
                 len(manifests.resources), {k: len(v) for k, v in matched.items()},
                 {k: v for k, v in matched.items() if k in set_rules},
                 {k: list(dict.fromkeys(installation_of(r, mapping) for r in v))
                  for k, v in matched.items()}, manifests.skipped)


def _declarations(loaded: dict[int, ManifestSet], mapping: InstallationMap
                  ) -> tuple[list[tuple[int, int, Resource]], list[tuple[Origin, JsonPath]]]:
    """The worker's objects that declare versions, once over all its chunks
    (per chunk, each installation's objects were searched once a chunk: six
    times the work), with where each stands in file order; and the fields
    they declare them in."""
    placed = [(chunk, position, resource) for chunk in sorted(loaded)
              for position, resource in enumerate(loaded[chunk].resources)]
    declaring = declaring_resources([r for _, _, r in placed], mapping)
    ids = {id(resource) for resource, _ in declaring}
    return ([entry for entry in placed if id(entry[2]) in ids],
            [(resource.origin, path) for resource, paths in declaring for path in paths])


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


def _encode_by_piece(by_chunk: dict[int, dict[str, list[Result]]], encode: EncodeResults,
                     out: IO[bytes]) -> dict[PieceKey, tuple[int, int]]:
    """Each chunk's results of each rule, encoded into ``out``:
    (chunk, rule id) -> (offset, length)."""
    where = {}
    for chunk, by_rule in by_chunk.items():
        for rule_id, text in encode(by_rule).items():
            data = text.encode("utf-8")
            where[chunk, rule_id] = (out.tell(), len(data))
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


def _receive_each(pipes: Sequence[Connection]) -> list[Any]:
    """One message from each worker, read as they come: a worker whose large
    message waits in a full pipe for the parent is a worker not working."""
    messages: dict[int, Any] = {}
    waiting = {conn: worker for worker, conn in enumerate(pipes)}
    while waiting:
        for ready in multiprocessing.connection.wait(list(waiting)):
            assert isinstance(ready, Connection)
            messages[waiting.pop(ready)] = _receive(ready)
    return [messages[worker] for worker in range(len(pipes))]


def _send_each(pipes: Sequence[Connection], messages: Sequence[Any]) -> None:
    """Each worker its message, all at once. A message larger than a pipe holds
    (the scrubber) waits until its worker reads it; sent one after the other,
    a worker still busy would hold back the message of one already waiting."""
    failed: list[WorkerDied] = []

    def send(conn: Connection, message: Any) -> None:
        try:
            _send(conn, message)
        except WorkerDied as exc:
            failed.append(exc)

    senders = [threading.Thread(target=send, args=pair, daemon=True)
               for pair in zip(pipes, messages, strict=True)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    if failed:
        raise failed[0]


class _Pickled(bytes):
    """A message pickled once for several workers, as ``Connection.send``
    pickles it (``recv`` unpickles it)."""


def _pickled(message: Any) -> _Pickled:
    return _Pickled(ForkingPickler.dumps(message))


def _send(conn: Connection, message: Any) -> None:
    try:
        if isinstance(message, _Pickled):
            conn.send_bytes(message)
        else:
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
        self.processes: list[multiprocessing.process.BaseProcess] = []
        #: One anonymous file per worker for its pre-encoded report pieces.
        self.encoded: list[IO[bytes]] = []
        chunks = chunked(files, jobs)
        handout = _Handout(sorted(range(len(chunks)), key=lambda n: -chunks[n].size))
        _RUNNING.add(self)  # before the first fork: an interruption finds every worker
        try:
            self._start(context, min(jobs, len(chunks)), chunks, handout, inputs, mapping)
        finally:
            handout.close()

    def _start(self, context: Any, workers: int, chunks: list[Chunk], handout: _Handout,
               inputs: ScanInputs, mapping: InstallationMap | None) -> None:
        encode, catalog = self.encode, self.catalog
        for worker in range(workers):
            parent_end, child_end = context.Pipe()
            encoded = _anonymous_file() if encode else None
            process = context.Process(target=_worker_process, daemon=True,
                                      args=(child_end, worker, chunks, handout, inputs, catalog,
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

    def __init__(self, workers: Started,
                 segments: list[tuple[int, int, int, PieceKey]]) -> None:
        self.encode = workers.encode
        self._workers = workers
        self._segments = segments  # (start, count, worker, (chunk, rule id))
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
        where: list[dict[PieceKey, tuple[int, int]] | None] = []
        for conn in workers.pipes:
            try:
                where.append(_receive(conn))
            except WorkerDied:  # its results are in the parent: the writer encodes them
                where.append(None)
        out = {}
        for start, count, worker, piece in self._segments:
            pieces = where[worker]
            if pieces is None:
                continue
            offset, length = pieces[piece]
            out[start + self._offset] = (count, workers.encoded[worker].fileno(), offset, length)
        return out

    def close(self) -> None:
        self._workers.close()


def _combine(pipes: list[Connection], catalog: Catalog,
             make_context: Callable[[Sequence[Resource]], ScanContext],
             locator: LineLocator) -> Combined:
    found: list[Found] = _receive_each(pipes)
    parts = sorted((share for worker in found for share in worker.shares),
                   key=lambda share: share.chunk)
    mark("parallel: phase 1 received")
    out = Combined()
    for part in parts:
        out.errors += part.errors
        out.skipped += part.skipped
        out.files += part.files
        out.documents += part.documents
        out.objects += part.objects
    out.declarations = [resource for _, _, resource in sorted(
        (entry for worker in found for entry in worker.declarations),
        key=lambda entry: entry[:2])]
    locator.remember(entry for worker in found for entry in worker.declaration_lines)
    ctx = out.context = make_context(out.declarations)
    evaluator = Evaluator(catalog, ctx, locator.resource_lines, Scrubber([]))
    levels = {rule.id: evaluator.rule_level(rule, any(p.matched[rule.id] for p in parts))
              for rule in catalog.rules}
    set_rules = _set_rules(catalog)
    object_rules = {rule_id for rule_id, level in levels.items()
                    if level is None and rule_id not in set_rules}
    for conn in pipes:
        _send(conn, (ctx, object_rules))
    mark("parallel: context sent")
    # While the workers evaluate their object rules, the parent does the set
    # rules; their lines are looked up by the workers that read the files,
    # asked for before the workers look up their own.
    own: dict[str, list[Result]] = {}
    set_pending = []
    for rule in catalog.rules:
        level = levels[rule.id]
        if level is not None:
            own[rule.id] = evaluator.with_lines([level], [])
        elif rule.id in set_rules:
            matched = [r for part in parts for r in part.set_resources[rule.id]]
            set_pending += evaluator.object_pending(rule, matched)
    owner = {id(resource): (part.worker, part.chunk, rule_id, position)
             for part in parts
             for rule_id, resources in part.set_resources.items()
             for position, resource in enumerate(resources)}
    asks: list[list[tuple[int, str, int, JsonPath]]] = [[] for _ in pipes]
    answer_at = []
    for resource, path in line_requests(set_pending):
        worker, chunk, rule_id, position = owner[id(resource)]
        answer_at.append((worker, len(asks[worker])))
        asks[worker].append((chunk, rule_id, position, path))
    _send_each(pipes, asks)
    mark("parallel: questions sent")
    # Messages are scrubbed only when their results are made: the workers need
    # the scrubber after their lines.
    public = {w for worker in found for w in worker.public} | catalog_words(catalog)
    evaluator.scrub = scrubber = Scrubber.merged([worker.credentials for worker in found],
                                                 public)
    _send_each(pipes, [_pickled(scrubber)] * len(pipes))  # pickled once for all
    mark("parallel: scrubber sent")
    # While the workers make their results: the whole-scan results, and those
    # of the installations each object rule does not apply to (as one process
    # puts them: before the objects' results).
    answers = _receive_each(pipes)
    set_lines = [answers[worker][index] for worker, index in answer_at]
    for result in evaluator.with_lines(set_pending, set_lines):
        own.setdefault(result.rule_id, []).append(result)
    gated = {rule.id: evaluator.with_lines(evaluator.gate_pending(
                 rule, [name for part in parts for name in part.installations[rule.id]]), [])
             for rule in catalog.rules if rule.id not in own}
    results = _receive_each(pipes)
    mark("parallel: phase 2 received")
    for rule in catalog.rules:
        if rule.id in own:
            out.results += own[rule.id]
            continue
        out.results += gated[rule.id]
        for part in parts:
            packed = results[part.worker][part.chunk].get(rule.id)
            if packed:
                out.segments.append((len(out.results), len(packed), part.worker,
                                     (part.chunk, rule.id)))
                out.results += unpack_results(packed)
    return out


def default_jobs() -> int:
    """``--jobs auto``: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1
