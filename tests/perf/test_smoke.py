"""CI's smoke run of the benchmark: 1,000 documents, upgrade-lint within 2x of a
plain libyaml load measured in the same run (the full targets are checked by
``python -m tests.perf.bench``, see docs/performance.md). Generous on purpose:
it catches a regression (an accidental per-node Python walk is 3-5x) without
flaking on a noisy machine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.perf.bench import BASELINE, measure, median, upgrade_lint
from tests.perf.corpus import generate


@pytest.mark.perf
def test_1000_documents_within_2x_of_a_libyaml_load(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    files, _ = generate(corpus, 1000)
    baseline, scans = [], []
    for _ in range(3):
        baseline.append(measure([sys.executable, "-c", BASELINE, str(corpus)]))
        scans.append(measure(upgrade_lint(corpus, tmp_path / "report.json", None)))
    ratio = median(scans).wall / median(baseline).wall
    assert files > 300
    assert ratio < 2.0, f"upgrade-lint took {ratio:.2f}x the libyaml load of the same files"
