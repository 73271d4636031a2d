"""Benchmark: upgrade-lint against a plain libyaml load of the same files.

    python -m tests.perf.bench --documents 1000 10000 [--jobs 2] [--repeat 3]
                               [--compare checkov] [--pytest] [--markdown]

For each size it generates the seeded corpus (tests/perf/corpus.py), then
measures, each in a fresh process and in the same run:

- the baseline: every document loaded with PyYAML's ``CSafeLoader`` (libyaml),
  one process, one core;
- ``upgrade-lint scan DIR --json FILE`` with the full rule catalog (exit code 1
  is expected: the corpus plants violations);
- with ``--jobs N``, the same scan with ``--jobs N``, and N one-process scans
  run at once: how much faster they finish than N after the other is the
  ceiling for ``--jobs N`` with this workload on this machine (besides the
  ceiling of N spinning processes, measured before and after the runs);
- with ``--compare checkov``, ``checkov -d DIR --framework kubernetes`` when
  checkov is installed;
- with ``--pytest``, the same scan as ``pytest --upgrade-lint DIR --upgrade-json
  FILE`` (in an empty directory), as a user's environment runs it: without
  hypothesis's pytest plugin (``-p no:hypothesispytest``; hypothesis is a test
  dependency of this project, not of upgrade-lint, and its autoloaded plugin
  costs 0.8 s of start-up where it is installed), and with ``--jobs N`` also
  under pytest-xdist (``-n N``); where hypothesis is installed, once more with
  its plugin autoloaded, as this project's development environment runs it.

Then, per size, one more ``upgrade-lint scan`` with ``UPGRADE_LINT_TIMINGS=1``
gives the CPU time of each phase (``checks/timings.py``): parsing on the fast
and the careful path with their document counts, the upgrade context, line
lookup, redaction, the rest of loading and of evaluation, the pytest items and
the reports; the next regression shows in the phase it comes from.

Wall time, CPU time (user+sys) and peak RSS come from ``os.wait4`` of each
child; the median of ``--repeat`` runs is reported. Ratios are
upgrade-lint / baseline wall time from the same run. The ``checks`` package is
byte-compiled first, as ``pip install`` leaves it, and the commands run without
``PYTHONDONTWRITEBYTECODE``, after one untimed pytest run: pytest rewrites the
asserts of a plugin's modules on import and caches the result next to them,
unless bytecode writing is off (then every pytest process, and each xdist
worker, rewrites the whole package again: 0.4 s of CPU each here).
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import checks
from tests.perf.corpus import generate

BASELINE = """
import sys, yaml
from pathlib import Path
count = 0
for path in sorted(Path(sys.argv[1]).rglob("*.yaml")):
    for _ in yaml.load_all(path.read_bytes(), Loader=yaml.CSafeLoader):
        count += 1
print(count)
"""

#: ``jobs`` one-process scans at once (argv: jobs, then the scan command): the
#: ceiling for ``--jobs`` with this workload. Unlike the spinning processes of
#: ``parallel_capacity`` they share what a scan shares on this machine: memory
#: bandwidth, caches, the other tenants of the host.
AT_ONCE = """
import subprocess, sys
procs = [subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
         for _ in range(int(sys.argv[1]))]
sys.exit(max(proc.wait() for proc in procs))
"""


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    rss_mb: float
    code: int


#: The commands' environment: bytecode and pytest's rewritten modules cached,
#: as a user's installation has them (see the module docstring).
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def measure(command: list[str], cwd: Path | None = None) -> Run:
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd,
                            env=ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise RuntimeError(f"{command[:3]} failed ({proc.returncode}): {err[-500:]}")
    if proc.stderr:
        proc.stderr.close()
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode)


def median(runs: list[Run]) -> Run:
    walls = sorted(runs, key=lambda r: r.wall)
    middle = walls[len(walls) // 2]
    return Run(statistics.median(r.wall for r in runs), middle.cpu, max(r.rss_mb for r in runs),
               middle.code)


SPIN = "sum(range(25_000_000))"  # about 0.3 s of one core, no I/O, no memory


def parallel_capacity(jobs: int, repeat: int) -> float:
    """How much faster ``jobs`` CPU-bound processes finish than one after the
    other: the ceiling for ``--jobs`` on this machine right now. (On a shared
    VM it moves: 2 cores gave 1.5x to 1.95x within an hour.)"""
    def spin(count: int) -> float:
        start = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(count)]
        for proc in procs:
            proc.wait()
        return time.perf_counter() - start

    one = statistics.median(spin(1) for _ in range(repeat))
    together = statistics.median(spin(jobs) for _ in range(repeat))
    return jobs * one / together


def compile_package() -> None:
    """Byte-compile ``checks`` as an install does, so runs do not compile it."""
    compileall.compile_dir(Path(checks.__file__).parent, quiet=1)


def upgrade_lint(corpus: Path, out: Path, jobs: int | None) -> list[str]:
    command = [sys.executable, "-m", "checks.cli", "scan", str(corpus), "--json", str(out)]
    return command + (["--jobs", str(jobs)] if jobs else [])


#: Where hypothesis is installed (this project's tests use it), pytest
#: autoloads its plugin; a user's environment does not have it.
NO_HYPOTHESIS = ["-p", "no:hypothesispytest"]


def pytest_upgrade_lint(corpus: Path, out: Path, workers: int | None,
                        autoload_hypothesis: bool = False) -> list[str]:
    """The plugin's run of the same scan (run in an empty directory: nothing
    else to collect)."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "--upgrade-lint", str(corpus), "--upgrade-json", str(out)]
    return (command + ([] if autoload_hypothesis else NO_HYPOTHESIS)
            + (["-n", str(workers)] if workers else []))


def warm_pytest(workdir: Path) -> None:
    """One untimed pytest run, so pytest's rewritten modules are cached."""
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "--upgrade-lint", str(workdir), "--co"], cwd=workdir, env=ENV,
                   capture_output=True, check=False)


#: Phases in the order the summary table lists them.
PHASES = ("start-up", "parse fast", "parse careful", "load (rest)", "context", "lines",
          "redaction", "evaluate (rest)", "items", "reports", "total")


def phases(corpus: Path, out: Path) -> dict[str, tuple[float, int | None]]:
    """CPU seconds (and documents) of each phase of one ``upgrade-lint scan``."""
    done = subprocess.run(upgrade_lint(corpus, out, None), capture_output=True, text=True,
                          env={**ENV, "UPGRADE_LINT_TIMINGS": "1"}, check=False)
    found: dict[str, tuple[float, int | None]] = {}
    for line in done.stderr.splitlines():
        if line.startswith("upgrade-lint phase "):
            words = line.removeprefix("upgrade-lint phase ").rsplit(" ", 2)
            if words[-1].replace(".", "", 1).isdigit() and "." not in words[-1]:
                name, seconds, count = words
                found[name] = (float(seconds), int(count))
            else:
                name, seconds = line.removeprefix("upgrade-lint phase ").rsplit(" ", 1)
                found[name] = (float(seconds), None)
    return found


@dataclass(frozen=True)
class Row:
    label: str
    documents: int
    files: int
    size: int
    run: Run
    baseline: Run

    @property
    def ratio(self) -> float:
        return self.run.wall / self.baseline.wall


def bench(documents: int, repeat: int, jobs: int | None, compare: str | None,
          workdir: Path, with_pytest: bool = False) -> list[Row]:
    corpus = workdir / f"corpus-{documents}"
    if corpus.exists():
        shutil.rmtree(corpus)
    files, size = generate(corpus, documents)
    out = workdir / "report.json"
    empty = workdir / "empty"
    empty.mkdir(exist_ok=True)
    commands: dict[str, tuple[list[str], Path | None]] = {
        "libyaml load (baseline)": ([sys.executable, "-c", BASELINE, str(corpus)], None),
        "upgrade-lint scan": (upgrade_lint(corpus, out, None), None)}
    if jobs:
        commands[f"upgrade-lint scan --jobs {jobs}"] = (upgrade_lint(corpus, out, jobs), None)
        # Both write one report (atomically: the last rename stays).
        commands[at_once_label(jobs)] = ([sys.executable, "-c", AT_ONCE, str(jobs),
                                          *upgrade_lint(corpus, workdir / "at-once.json",
                                                        None)], None)
    if with_pytest:
        warm_pytest(empty)
        commands["pytest --upgrade-lint"] = (pytest_upgrade_lint(corpus, out, None), empty)
        if jobs:
            commands[f"pytest --upgrade-lint -n {jobs}"] = (
                pytest_upgrade_lint(corpus, out, jobs), empty)
        if importlib.util.find_spec("hypothesis") is not None:
            # A test dependency of this project, not of upgrade-lint: its pytest
            # plugin alone costs 0.8 s of start-up where it is installed.
            commands["pytest --upgrade-lint (hypothesis plugin autoloaded)"] = (
                pytest_upgrade_lint(corpus, out, None, autoload_hypothesis=True), empty)
    if compare == "checkov" and shutil.which("checkov"):
        commands["checkov"] = (["checkov", "-d", str(corpus), "--framework", "kubernetes",
                                "--quiet", "--compact"], None)
    runs: dict[str, list[Run]] = {label: [] for label in commands}
    for _ in range(repeat):  # interleaved, so drift hits every tool alike
        for label, (command, cwd) in commands.items():
            runs[label].append(measure(command, cwd))
    baseline = median(runs["libyaml load (baseline)"])
    return [Row(label, documents, files, size, median(found), baseline)
            for label, found in runs.items()]


def at_once_label(jobs: int) -> str:
    return f"{jobs} x upgrade-lint scan at once"


def table(rows: list[Row], markdown: bool) -> str:
    header = ("tool", "docs", "files", "MB", "wall s", "CPU s", "peak RSS MB", "x baseline",
              "docs/s")
    lines = [[r.label, str(r.documents), str(r.files), f"{r.size / 1e6:.1f}", f"{r.run.wall:.2f}",
              f"{r.run.cpu:.2f}", f"{r.run.rss_mb:.0f}", f"{r.ratio:.2f}",
              f"{r.documents / r.run.wall:,.0f}"] for r in rows]
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(out + ["| " + " | ".join(line) + " |" for line in lines])
    widths = [max(len(x) for x in col) for col in zip(header, *lines, strict=False)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True))
                     for line in [list(header), *lines])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, nargs="+", default=[10_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--compare", choices=["checkov"])
    parser.add_argument("--pytest", action="store_true",
                        help="also time pytest --upgrade-lint (and -n JOBS with --jobs)")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--workdir", type=Path)
    ns = parser.parse_args(argv)
    compile_package()
    workdir = ns.workdir or Path(tempfile.mkdtemp(prefix="upgrade-lint-bench-"))
    rows: list[Row] = []
    capacity = [parallel_capacity(ns.jobs, ns.repeat)] if ns.jobs else []
    spent: dict[int, dict[str, tuple[float, int | None]]] = {}
    for documents in ns.documents:
        rows += bench(documents, ns.repeat, ns.jobs, ns.compare, workdir, ns.pytest)
        spent[documents] = phases(workdir / f"corpus-{documents}", workdir / "report.json")
    if ns.jobs:
        capacity.append(parallel_capacity(ns.jobs, ns.repeat))
    print(table(rows, ns.markdown))
    print()
    print(phase_table(spent, ns.markdown))
    print()
    for line in summary(rows):
        print(line)
    if capacity:
        print(f"{ns.jobs} CPU-bound processes ran {min(capacity):.2f}x-{max(capacity):.2f}x "
              "as fast as one (before and after the runs): the ceiling for --jobs here")
    return 0


def phase_table(spent: dict[int, dict[str, tuple[float, int | None]]], markdown: bool) -> str:
    """CPU seconds per phase (documents for the parse phases), one column a size."""
    sizes = sorted(spent)
    header = ["phase (CPU s)", *(f"{n} docs" for n in sizes)]

    def cell(found: tuple[float, int | None] | None) -> str:
        if found is None:
            return "-"
        seconds, count = found
        return f"{seconds:.2f}" + (f" ({count:,} docs)" if count is not None else "")

    lines = [[name, *(cell(spent[n].get(name)) for n in sizes)] for name in PHASES]
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(out + ["| " + " | ".join(line) + " |" for line in lines])
    widths = [max(len(x) for x in col) for col in zip(header, *lines, strict=False)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True))
                     for line in [header, *lines])


def summary(rows: list[Row]) -> list[str]:
    """The figures the targets are stated in: speed-up of --jobs and of xdist,
    the plugin against the command, memory, growth."""
    out = []
    by_label = {(r.label, r.documents): r for r in rows}
    scans = {r.documents: r for r in rows if r.label == "upgrade-lint scan"}
    for row in rows:
        if row.label.startswith("upgrade-lint scan --jobs"):
            one = scans[row.documents].run.wall
            out.append(f"{row.label} at {row.documents} documents: {one / row.run.wall:.2f}x "
                       "faster than one process")
            jobs = int(row.label.rsplit(" ", 1)[1])
            together = by_label.get((at_once_label(jobs), row.documents))
            if together is not None:
                out.append(f"{jobs} one-process scans at once at {row.documents} documents ran "
                           f"{jobs * one / together.run.wall:.2f}x as fast as one after the "
                           "other: the ceiling for --jobs with this workload here")
        if row.label.startswith("pytest --upgrade-lint") and " -n " not in row.label:
            out.append(f"{row.label} at {row.documents} documents: "
                       f"{row.run.wall / scans[row.documents].run.wall:.2f}x the time of "
                       "upgrade-lint scan")
        if row.label.startswith("pytest --upgrade-lint -n"):
            one = by_label[("pytest --upgrade-lint", row.documents)].run.wall
            out.append(f"{row.label} at {row.documents} documents: {one / row.run.wall:.2f}x "
                       "as fast as one pytest process")
        if row.label == "checkov":
            for ours in rows:
                if ours.documents == row.documents and ours.label.startswith("upgrade-lint scan"):
                    out.append(f"{ours.label} at {row.documents} documents: "
                               f"{row.run.wall / ours.run.wall:.1f}x faster than checkov")
    for n, row in sorted(scans.items()):
        out.append(f"upgrade-lint scan at {n} documents: {row.ratio:.2f}x the libyaml load, "
                   f"peak RSS {row.run.rss_mb:.0f} MB")
    sizes = sorted(scans)
    if len(sizes) > 1:
        first = scans[sizes[0]].run.wall / sizes[0]
        out.append("wall per document, relative to the smallest run: " + ", ".join(
            f"{n}: {scans[n].run.wall / n / first:.2f}" for n in sizes))
        # Growth beyond a fixed start-up cost: the slope between successive sizes.
        out.append("marginal ms per 1,000 documents: " + ", ".join(
            f"{a}-{b}: {(scans[b].run.wall - scans[a].run.wall) / (b - a) * 1e6:.0f}"
            for a, b in itertools.pairwise(sizes)))
    return out


if __name__ == "__main__":
    sys.exit(main())
