"""``--jobs N`` gives exactly the results of one process, in the same order."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from checks.engine import parallel
from checks.engine.parallel import chunked
from checks.sources.files import InputFile
from tests.perf.corpus import generate
from tests.support import FIXTURES, scan


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus")
    generate(path, 400)
    return path


def _all(path: Path, jobs: int, **options: object) -> list[object]:
    result = scan(path, jobs=jobs, **options)
    return [(r.rule_id, r.outcome, r.severity, r.message, r.path, r.line, r.json_path,
             r.observed, r.expected, r.installation) for r in result.results] + [
        result.files, result.documents, result.objects, result.skipped, result.excluded,
        {p: v.as_dict() for p, v in result.context.paths.items()},
        {name: {p: v.as_dict() for p, v in ctx.paths.items()}
         for name, ctx in result.context.installations.items()}]


@pytest.mark.parametrize("jobs", [2, 3])
def test_parallel_scan_equals_one_process(corpus: Path, jobs: int) -> None:
    assert _all(corpus, jobs) == _all(corpus, 1)


@pytest.mark.parametrize("options", [
    {"targets": {"kubernetes": "1.25"}, "currents": {"apiconnect": "10.0.5.3"}},
    # Installations whose upgrade is planned, unknown or not planned at all:
    # every kind of rule is turned on or off per installation.
    {"currents": {"kong": "3.4.1", "api7": "3.7.3"}, "targets": {"3scale": "2.5.0"}},
])
def test_parallel_scan_of_the_fixtures_with_options(options: dict[str, object]) -> None:
    assert _all(FIXTURES, 2, **options) == _all(FIXTURES, 1, **options)


def test_chunks_are_runs_of_consecutive_files_and_a_large_file_is_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "CHUNKS_PER_JOB", 8)
    files = []
    sizes = [10] * 20 + [1000] + [10] * 5
    for i, size in enumerate(sizes):
        path = tmp_path / f"f{i:02}.yaml"
        path.write_text("x" * size)
        files.append(InputFile(str(path), path))
    chunks = chunked(files, 2)
    target = sum(sizes) / (2 * parallel.CHUNKS_PER_JOB)
    assert [f for chunk in chunks for f in chunk.files] == files
    assert parallel.Chunk([files[20]], 1000) in chunks
    assert all(chunk.size <= target or len(chunk.files) == 1 for chunk in chunks)
    assert [chunk.size for chunk in chunks] == [70, 70, 60, 1000, 50]


def test_chunks_are_handed_out_biggest_first_and_each_once() -> None:
    import multiprocessing

    first = parallel._Handout([2, 0, 1])
    assert list(first.taken()) == [2, 0, 1]
    first.close()
    # As many as chunked can make, taken by three processes at once.
    handout = parallel._Handout(range(2 * parallel.MAX_TARGETS + 1))
    context = multiprocessing.get_context("fork")
    queue = context.SimpleQueue()
    takers = [context.Process(target=lambda: queue.put(list(handout.taken())))
              for _ in range(3)]
    for taker in takers:
        taker.start()
    handout.close()
    taken = [queue.get() for _ in takers]
    for taker in takers:
        taker.join()
    assert sorted(n for one in taken for n in one) == list(range(2 * parallel.MAX_TARGETS + 1))
    assert all(one == sorted(one) for one in taken)


def test_chunks_stay_few_whatever_jobs_says(tmp_path: Path) -> None:
    """The handout's pipe must hold every chunk number: at most 2,001 chunks."""
    files = []
    for i in range(3000):
        path = tmp_path / f"f{i:04}.yaml"
        path.write_text("x" * (1 + i % 7))
        files.append(InputFile(str(path), path))
    assert len(chunked(files, 10_000)) <= 2 * parallel.MAX_TARGETS + 1


def test_a_worker_that_takes_no_chunk_changes_nothing(corpus: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The other workers took every chunk before it started (it was forked last)."""

    real = parallel._worker

    def late(conn: object, worker: int, chunks: object, handout: object,
             *rest: object) -> None:
        if worker == 1:
            handout = parallel._Handout([])
        real(conn, worker, chunks, handout, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel, "_worker", late)  # forked workers run it
    assert _all(corpus, 3) == _all(corpus, 1)


@pytest.mark.parametrize("options", [[], ["--fail-on", "blocker"], ["-k", "apic-"]])
def test_cli_json_report_is_the_same_with_jobs(corpus: Path, tmp_path: Path,
                                               options: list[str]) -> None:
    """Workers pre-encode their share of the JSON report (for the threshold the
    front end passed, and only used when nothing was deselected): the bytes must
    not differ from one process's."""
    import re
    import subprocess
    import sys

    def report(jobs: str) -> str:
        out = tmp_path / f"r{jobs}.json"
        subprocess.run([sys.executable, "-m", "checks.cli", "scan", str(corpus), "--json",
                        str(out), "--jobs", jobs, *options], capture_output=True, check=False,
                       timeout=120)
        return re.sub(r'"generated_at":"[^"]*","duration_seconds":[0-9.]+', "", out.read_text())

    one = report("1")
    assert '"results":[{' in one
    assert report("2") == one


def test_templates_that_read_the_context_say_so() -> None:
    """--jobs evaluates templates without uses_context before the context exists."""
    import inspect

    from checks.engine.registry import templates

    for key, template in templates().items():
        if template.scope != "object":
            continue  # whole-scan templates always run with the context (in the parent)
        source = inspect.getsource(template.func)
        reads = "ctx." in source or "ctx)" in source  # reads it, or hands it on
        assert reads == template.uses_context, key


def test_backup_evidence_is_inspected_once_with_jobs(corpus: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Inspecting a backup may run pg_restore: the context is built once."""
    from checks.sources import backups

    calls: list[str] = []
    real = backups.inspect
    monkeypatch.setattr(backups, "inspect", lambda path: calls.append(path) or real(path))
    scan(corpus, jobs=2, backups={"kong": str(corpus / "none.yaml")})
    assert calls == [str(corpus / "none.yaml")]


@pytest.mark.parametrize("sendfile", [True, False])
def test_workers_pre_encode_most_of_the_json_report(corpus: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    sendfile: bool) -> None:
    from checks.model import Severity
    from checks.reports import json_report
    from checks.reports.model import Report

    def written(jobs: int) -> tuple[str, int]:
        result = scan(corpus, jobs=jobs, encode_results=json_report.encoder_for(Severity.ERROR))
        pre = sum(piece[0] for piece in result.pre_encoded.pieces().values()) \
            if result.pre_encoded else 0
        out = tmp_path / f"{jobs}.json"
        json_report.write(Report.build(result, result.results, Severity.ERROR, ["c"]), out)
        text = out.read_text()
        return text[text.index('"results"'):], pre * 100 // len(result.results)

    if not sendfile:  # as where the kernel cannot sendfile between files
        def refuse(*args: object) -> int:
            raise OSError("not supported")
        monkeypatch.setattr("os.sendfile", refuse)
    one, none_pre_encoded = written(1)
    two, percent_pre_encoded = written(2)
    # The rest are the rule-level and whole-scan rules' results, which the parent
    # encodes (about a tenth with the benchmark corpus's mix of 45 rules).
    assert none_pre_encoded == 0 and percent_pre_encoded >= 85
    assert two == one


def test_a_worker_stuck_after_its_last_answer_is_not_waited_for(
        corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Everything was received: a worker that does not exit (stuck in an exit
    handler, say) is killed after a short grace, not joined for half a minute."""
    answered = parallel._worker

    def stuck_after_answering(*args: object) -> None:
        answered(*args)
        time.sleep(120)

    monkeypatch.setattr(parallel, "_worker", stuck_after_answering)  # forked workers run it
    started = time.monotonic()
    assert _all(corpus, 2) == _all(corpus, 1)
    assert time.monotonic() - started < 30
