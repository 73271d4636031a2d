"""Coverage-guided fuzz target (atheris / libFuzzer) for the YAML loaders and
rule evaluation: the bytes are one input file, as ``upgrade-lint scan -``
reads it from standard input.

Run (README, "Development"):

    .venv/bin/python tests/fuzz/fuzz_loaders.py -max_total_time=60

The promise under test: bad input never raises. Any exception escaping the
loaders, the scan or the report writers is a crash; libFuzzer saves the input
as ``crash-*`` under ``reports/fuzz/`` and exits non-zero. Every crash found
becomes a case in ``tests/hostile/corpus.py`` (``FUZZ_REGRESSIONS``).

Where atheris does not install, the same target runs under a bounded random
mutation fuzzer (``--random``, also the fallback), with the same time limit.
"""

from __future__ import annotations

import atexit
import io
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

try:
    import atheris  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - depends on the platform
    atheris = None

if atheris is not None:
    with atheris.instrument_imports(include=["checks", "yaml"]):
        from checks.engine.catalog import load_catalog
        from checks.engine.scan import ScanRequest, run_scan
        from checks.model import Severity
        from checks.reports import html, json_report, junit
        from checks.reports.model import Report
        from checks.sources.fastyaml import load_documents
        from checks.sources.files import decode
        from checks.sources.yaml11 import iter_documents
else:  # pragma: no cover
    from checks.engine.catalog import load_catalog
    from checks.engine.scan import ScanRequest, run_scan
    from checks.model import Severity
    from checks.reports import html, json_report, junit
    from checks.reports.model import Report
    from checks.sources.fastyaml import load_documents
    from checks.sources.files import decode
    from checks.sources.yaml11 import iter_documents

CATALOG = load_catalog()
#: Small inputs keep executions fast; the size guard itself is tested elsewhere.
MAX_INPUT = 64 * 1024


def test_one_input(data: bytes) -> None:
    """One execution: decode, both loaders, a whole scan, all three reports."""
    if len(data) > MAX_INPUT:
        return
    text = decode(data, "fuzz.yaml")
    if isinstance(text, str):
        for _ in iter_documents(text, "fuzz.yaml"):
            pass
        for _ in load_documents(text, "fuzz.yaml"):
            pass
    careful = bool(data) and data[-1] % 2 == 0
    scan = run_scan(ScanRequest(paths=["-"], stdin_data=data, careful_parser=careful), catalog=CATALOG)
    report = Report.build(scan, scan.results, Severity.ERROR, ["-"])
    for writer in (json_report, junit, html):
        writer.write_to(report, io.BytesIO())


def _seeds() -> list[bytes]:
    """Every rule fixture and the demo: real manifests to mutate from."""
    files = sorted((REPO / "fixtures").rglob("*.yaml"))
    return [p.read_bytes() for p in files if p.stat().st_size <= 8192]


def _seed_dir() -> str:
    folder = Path(tempfile.mkdtemp(prefix="upgrade-lint-fuzz-"))
    atexit.register(shutil.rmtree, folder, True)
    for i, data in enumerate(_seeds()):
        (folder / f"seed-{i:04d}.yaml").write_bytes(data)
    return str(folder)


def _dictionary(argv: list[str]) -> list[bytes]:
    """Tokens of a libFuzzer ``-dict=FILE`` (quoted strings, ``#`` comments)."""
    tokens: list[bytes] = []
    for arg in argv:
        if arg.startswith("-dict="):
            for line in Path(arg.split("=", 1)[1]).read_text(encoding="utf-8").splitlines():
                if line.startswith('"') and line.endswith('"'):
                    tokens.append(line[1:-1].encode("latin-1").decode("unicode_escape").encode("latin-1"))
    return tokens


def _random_fuzz(seconds: float, tokens: list[bytes]) -> None:
    """Fallback without atheris: random byte, token (``-dict``) and splice
    mutations of the seeds, from a fixed seed."""
    rng = random.Random(1)
    seeds = _seeds()
    deadline = time.monotonic() + seconds
    runs = 0
    while time.monotonic() < deadline:
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(len(data) + 1)
            choice = rng.random()
            if choice < 0.5 and data:
                data[min(at, len(data) - 1)] = rng.randrange(256)
            elif choice < 0.7 and tokens:
                data[at:at] = rng.choice(tokens)
            else:
                other = rng.choice(seeds)
                start = rng.randrange(len(other) + 1)
                data[at:at] = other[start:start + rng.randint(0, 200)]
        try:
            test_one_input(bytes(data))
        except Exception:
            crash = REPO / "reports" / "fuzz" / f"crash-random-{runs}"
            crash.parent.mkdir(parents=True, exist_ok=True)
            crash.write_bytes(bytes(data))
            print(f"crash: input saved as {crash}", file=sys.stderr)
            raise
        runs += 1
    print(f"random fuzzing: {runs} inputs, no crash", file=sys.stderr)


def main(argv: list[str]) -> None:
    seconds = 60.0
    for arg in argv:
        if arg.startswith("-max_total_time="):
            seconds = float(arg.split("=", 1)[1])
    if atheris is None or "--random" in argv:
        _random_fuzz(seconds, _dictionary(argv))
        return
    (REPO / "reports" / "fuzz").mkdir(parents=True, exist_ok=True)
    args = [argv[0] if argv else "fuzz_loaders", *[a for a in argv[1:] if a != "--random"]]
    if not any(a.startswith("-artifact_prefix=") for a in args):
        args.append(f"-artifact_prefix={REPO / 'reports' / 'fuzz'}/")
    if not any(not a.startswith("-") for a in args[1:]):
        args.append(_seed_dir())  # a fresh corpus directory: never write into fixtures/
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
