"""Helpers shared by the tests: where things are and how to run one scan."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from checks.engine.catalog import Catalog, load_catalog
from checks.engine.scan import ScanRequest, ScanResult, run_scan
from checks.model import Outcome, Result

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
DEMO = FIXTURES / "demo"
CORPUS = FIXTURES / "corpus"
DATA = Path(__file__).resolve().parent / "data"
PRODUCTS = ("apiconnect", "api7", "kong", "3scale", "kubernetes")
#: Fixtures of live rules: a recorded cluster read, scanned with ``snapshot=``.
SNAPSHOT_SUFFIX = ".snapshot.json"


@cache
def catalog() -> Catalog:
    return load_catalog()


def scan(*paths: str | Path, **options: Any) -> ScanResult:
    request = ScanRequest(paths=[str(p) for p in paths], **options)
    return run_scan(request, catalog=catalog() if "rules_dir" not in options else None)


def every_input() -> list[Path]:
    """Every rule fixture case, the demo and the corpus: what the tests that
    compare two readings of the same files run over."""
    cases = sorted(p for p in FIXTURES.glob("*/*/*") if p.name.startswith(("fire", "dont-fire"))
                   and not p.name.endswith(SNAPSHOT_SUFFIX))
    return [*cases, DEMO, FIXTURES / "corpus"]


def of_rule(results: Iterable[Result], rule_id: str, *outcomes: Outcome) -> list[Result]:
    return [r for r in results if r.rule_id == rule_id and (not outcomes or r.outcome in outcomes)]


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, "utf-8")
    return path
