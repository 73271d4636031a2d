"""Lint and types are part of the suite: mypy strict on checks/, ruff on everything."""

from __future__ import annotations

import subprocess
import sys

from tests.support import REPO


def test_ruff() -> None:
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict() -> None:
    proc = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_product_checks_never_import_reporters_and_sources_know_no_rules() -> None:
    """Imports follow the data flow: sources -> engine -> reports."""
    offenders = []
    for layer, forbidden in (("products", ("checks.reports", "checks.plugin", "checks.cli")),
                             ("sources", ("checks.engine", "checks.products", "checks.reports")),
                             ("engine", ("checks.reports", "checks.plugin", "checks.cli"))):
        for path in (REPO / "checks" / layer).rglob("*.py"):
            text = path.read_text()
            offenders += [f"{path.relative_to(REPO)} imports {name}" for name in forbidden
                          if f"from {name}" in text or f"import {name}" in text]
    assert offenders == []
