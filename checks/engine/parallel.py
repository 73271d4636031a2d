"""``--jobs N``: the scan shared out across worker processes by the engine.

pytest-xdist would make every worker collect (and so parse) everything; here
the files are split into N contiguous shares of about equal size, and each
worker process (forked, so the catalog is already loaded) does the expensive
parts for its share only: parse, match rules, evaluate object rules, find
lines. The parent combines what needs the whole scan:

1. each worker reports its input errors, counts, the declarations of target
   versions, the credential values to redact, how many objects each rule
   matched, and the objects that whole-scan (set) rules need;
2. the parent builds the upgrade context and the redaction set from all of
   them, decides the rule-level outcomes (no objects, live, path condition),
   and sends the context back;
3. each worker evaluates the remaining object rules and returns Results; the
   parent evaluates the set rules and assembles everything in catalog order,
   which is exactly the order a single process produces.

Results are identical to ``--jobs 1`` (tests/test_parallel.py).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from checks.engine.catalog import Catalog, Rule
from checks.engine.evaluate import Evaluator, ResourceIndex
from checks.engine.redact import Scrubber, secret_values
from checks.engine.registry import get_template
from checks.engine.upgrade_path import PRODUCTS, UpgradeContext, declared
from checks.model import InputError, JsonPath, Resource, Result
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


@dataclass
class Combined:
    errors: list[InputError] = field(default_factory=list)
    files: int = 0
    documents: int = 0
    objects: int = 0
    results: list[Result] = field(default_factory=list)
    declarations: list[Resource] = field(default_factory=list)
    context: UpgradeContext = field(default_factory=UpgradeContext)


def split(files: Sequence[InputFile], jobs: int) -> list[list[InputFile]]:
    """Contiguous shares of about equal bytes (contiguous keeps result order)."""
    sizes = []
    for item in files:
        try:
            sizes.append(item.fs_path.stat().st_size if item.fs_path else 0)
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
            catalog: Catalog) -> None:
    gc.disable()  # see scan._no_cyclic_gc
    try:
        manifests = load_files(files, inputs)
        index = ResourceIndex(manifests.resources)
        matched = {rule.id: index.matching(rule) for rule in catalog.rules}
        set_rules = {rule.id for rule in catalog.rules
                     if (t := get_template(rule.check)) is not None and t.scope == "set"}
        declarations = [found[1] for product in PRODUCTS
                        if (found := declared(product, manifests.resources)) is not None]
        conn.send(Share(manifests.errors, manifests.files, manifests.documents,
                        len(manifests.resources), {k: len(v) for k, v in matched.items()},
                        {k: v for k, v in matched.items() if k in set_rules},
                        declarations, secret_values(manifests.resources)))
        # While the parent builds the context: the object rules that do not need
        # it. (Messages are scrubbed later, with every share's secrets.)
        early_evaluator = Evaluator(catalog, UpgradeContext(), _no_lines, Scrubber([]))
        early = {rule.id: early_evaluator.object_pending(rule, matched[rule.id])
                 for rule in catalog.rules if _context_free(rule, set_rules)
                 and matched[rule.id]}
        ctx, secrets, object_rules = conn.recv()
        locator = manifests.locator
        assert locator is not None
        evaluator = Evaluator(catalog, ctx, locator.resource_lines, Scrubber(secrets))
        pending = [p for rule in catalog.rules if rule.id in object_rules
                   for p in (early[rule.id] if rule.id in early
                             else evaluator.object_pending(rule, matched[rule.id]))]
        by_rule: dict[str, list[tuple[Any, ...]]] = {}
        # One batch for all rules, so each document is composed once for lines.
        for result in evaluator.results(pending):
            by_rule.setdefault(result.rule_id, []).append(result.to_tuple())
        conn.send(by_rule)
    except BaseException as exc:  # the parent reports it; a worker never hangs it
        conn.send(exc)
    finally:
        conn.close()


def _context_free(rule: Rule, set_rules: set[str]) -> bool:
    """Evaluable before the scan's context exists: no path condition, not live,
    an object template that does not read the context."""
    template = get_template(rule.check)
    return (rule.when is None and rule.mode != "live" and rule.id not in set_rules
            and template is not None and not template.uses_context)


def _no_lines(requests: Sequence[tuple[Resource, JsonPath]]) -> list[int]:
    raise AssertionError("early evaluation never resolves lines")


def _receive(conn: Connection) -> Any:
    message = conn.recv()
    if isinstance(message, BaseException):
        raise message
    return message


class Started:
    """Workers forked and parsing; ``finish`` combines their work."""

    def __init__(self, files: Sequence[InputFile], inputs: ScanInputs, catalog: Catalog,
                 jobs: int) -> None:
        self.catalog = catalog
        context = multiprocessing.get_context("fork")
        self.pipes: list[Connection] = []
        self.processes = []
        for share in split(files, jobs):
            parent_end, child_end = context.Pipe()
            process = context.Process(target=_worker, args=(child_end, share, inputs, catalog),
                                      daemon=True)
            process.start()
            child_end.close()
            self.pipes.append(parent_end)
            self.processes.append(process)

    def finish(self, make_context: Callable[[Sequence[Resource]], UpgradeContext],
               locator: LineLocator) -> Combined:
        try:
            return _combine(self.pipes, self.catalog, make_context, locator)
        finally:
            self.close()

    def close(self) -> None:
        for conn in self.pipes:
            conn.close()
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():  # pragma: no cover - only if a worker hangs
                process.kill()


def _combine(pipes: list[Connection], catalog: Catalog,
             make_context: Callable[[Sequence[Resource]], UpgradeContext],
             locator: LineLocator) -> Combined:
    parts: list[Share] = [_receive(conn) for conn in pipes]
    mark("parallel: phase 1 received")
    out = Combined()
    for part in parts:
        out.errors += part.errors
        out.files += part.files
        out.documents += part.documents
        out.objects += part.objects
        out.declarations += part.declarations
    ctx = out.context = make_context(out.declarations)
    secrets = sorted({s for part in parts for s in part.secrets})
    scrubber = Scrubber(secrets)
    evaluator = Evaluator(catalog, ctx, locator.resource_lines, scrubber)
    levels = {rule.id: evaluator.rule_level(rule, any(p.matched[rule.id] for p in parts))
              for rule in catalog.rules}
    set_rules = {rule_id for rule_id in parts[0].set_resources} if parts else set()
    object_rules = {rule_id for rule_id, level in levels.items()
                    if level is None and rule_id not in set_rules}
    for conn in pipes:
        conn.send((ctx, secrets, object_rules))
    # While the workers evaluate object rules, the parent does the set rules.
    own: dict[str, list[Result]] = {}
    for rule in catalog.rules:
        level = levels[rule.id]
        if level is not None:
            own[rule.id] = evaluator.results([level])
        elif rule.id in set_rules:
            matched = [r for part in parts for r in part.set_resources[rule.id]]
            own[rule.id] = evaluator.results(evaluator.object_pending(rule, matched))
    mark("parallel: set rules done")
    per_worker: list[dict[str, list[tuple[Any, ...]]]] = [_receive(conn) for conn in pipes]
    mark("parallel: phase 2 received")
    for rule in catalog.rules:
        if rule.id in own:
            out.results += own[rule.id]
        else:
            for worker in per_worker:
                out.results += map(Result.from_tuple, worker.get(rule.id, []))
    return out


def default_jobs() -> int:
    """``--jobs auto``: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1
