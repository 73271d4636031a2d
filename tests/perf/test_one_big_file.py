"""One big file (``helm template`` of an umbrella chart) scans in time linear
in its size. Line bookkeeping once recounted newlines from the start of the
file for every document: 5,000 documents took 1.3 s, 40,000 took 66 s.

Benchmark style, like test_smoke: sizes 8x apart measured in the same run, on
both parser paths, and the bigger must take less than 8 x 2 times as long
(quadratic is 64x). ``python -m tests.perf.test_one_big_file 16`` measures a
16 MiB file the same way."""

from __future__ import annotations

import sys
import time

import pytest

from checks.sources.manifests import ManifestSet, load_text
from tests.perf.corpus import GENERATORS, LARGE, VALUES

#: Documents of similar size, so that 8x the bytes is about 8x the documents.
_RENDERED = [gen for gen, _ in GENERATORS if gen not in VALUES and gen not in LARGE]


def helm_template_output(size: int) -> str:
    """Documents as ``helm template`` prints them, ``# Source:`` comments included."""
    import random

    rng = random.Random(20261130)
    parts: list[str] = []
    total = n = 0
    while total < size:
        gen = _RENDERED[n % len(_RENDERED)]
        part = f"---\n# Source: platform/templates/t{n}.yaml\n{gen(rng, n, rng.random() < 0.05)}"
        parts.append(part)
        total += len(part)
        n += 1
    return "".join(parts)


def seconds_to_load(text: str, careful: bool) -> tuple[float, int]:
    out = ManifestSet()
    start = time.process_time()
    load_text(text, "rendered.yaml", None, out, careful)
    return time.process_time() - start, len(out.resources)


def growth(small: int, careful: bool) -> tuple[float, int, int]:
    """Time ratio of a file 8x ``small`` to ``small``, best of three runs each,
    interleaved so that a busy spell of the machine slows both sizes."""
    texts = [helm_template_output(small), helm_template_output(8 * small)]
    runs: list[list[tuple[float, int]]] = [[], []]
    for _ in range(3):
        for size, text in enumerate(texts):
            runs[size].append(seconds_to_load(text, careful))
    (few, n_few), (many, n_many) = (min(r) for r in runs)
    return many / max(few, 1e-3), n_few, n_many


@pytest.mark.perf
@pytest.mark.parametrize(("small", "careful"), [(256 * 1024, False), (64 * 1024, True)])
def test_one_file_scans_in_time_linear_in_its_size(small: int, careful: bool) -> None:
    ratio, few, many = growth(small, careful)
    assert many >= 7 * few > 0
    assert ratio < 16, f"8x the documents in one file took {ratio:.1f}x the time"


if __name__ == "__main__":  # pragma: no cover - a manual benchmark
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    for careful in (False, True):
        ratio, few, many = growth(mib * 1024 * 1024 // 8, careful)
        path = "careful" if careful else "fast"
        print(f"{path}: {few} -> {many} objects in one file, {ratio:.1f}x the time for 8x")
