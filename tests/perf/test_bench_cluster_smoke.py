"""CI's smoke run of the cluster benchmark, tiny: the LIST requests are exactly
ceil(objects in scope / page size) per (served kind, scope), every object is
read, and the reader stays within a generous 5x of the bare LIST calls (the
full 5,000-object run and its 3x target: ``python -m tests.perf.bench_cluster``,
figures in docs/performance.md)."""

from __future__ import annotations

import pytest

from tests.perf.bench_cluster import check, run


@pytest.mark.perf
def test_tiny_cluster_scan_requests_grow_with_pages_not_objects() -> None:
    figures = run(objects=60, namespaces=3, page_size=7, repeat=1)
    assert [f.scope for f in figures] == ["all namespaces", "3 namespaces named"]
    assert check(figures, 60, ratio_target=5.0) == []
    assert all(f.lists == f.expected for f in figures)
    # Named namespaces: one LIST per namespaced kind and namespace, more than cluster-wide.
    assert figures[1].lists > figures[0].lists
