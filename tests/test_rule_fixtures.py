"""Every rule over its fire / dont-fire fixtures, with exact lines and messages.

``fixtures/<product>/<rule-id>/`` holds ``fire*`` and ``dont-fire*`` inputs
(a file, or a folder scanned as one unit) and ``expected.yaml``, which lists
for an input every result of the rule that is not ``passed``: outcome, line,
JSON path, and optionally the file, severity and the exact message (or
``message_prefix``, where the rest quotes another library's wording). Anything
the rule reports beyond that list fails the test, and so does a missing one.
``options`` in expected.yaml gives scan options for ``all`` inputs, updated by
those of one input, such as ``currents`` and ``targets`` for the upgrade path.

Live rules' fixtures are snapshots (``fire.snapshot.json``), replayed with the
``snapshot`` option; a folder holding manifests and one ``*.snapshot.json``
scans the manifests (planned state) against that snapshot (current state).
Results about live objects have no line (``line: null``) and must name their
``path``, the ``snapshot://<file>/<namespace>/<Kind>/<name>`` URI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from checks.model import Outcome, Result
from tests.support import FIXTURES, PRODUCTS, SNAPSHOT_SUFFIX, of_rule, scan


def _cases() -> list[Any]:
    cases = []
    for product in PRODUCTS:
        for rule_dir in sorted((FIXTURES / product).glob("*")):
            expected_file = rule_dir / "expected.yaml"
            expected = (yaml.safe_load(expected_file.read_text()) if expected_file.exists()
                        else None) or {}
            options = expected.get("options", {})
            for entry in sorted(rule_dir.iterdir()):
                if entry.name.startswith(("fire", "dont-fire")):
                    cases.append(pytest.param(
                        rule_dir.name, entry, expected.get(entry.name, []),
                        {**options.get("all", {}), **options.get(entry.name, {})},
                        id=f"{rule_dir.name}/{entry.name}"))
    return cases


REQUIRED = {"rule", "outcome", "line", "json_path"}


def _as_dict(result: Result) -> dict[str, Any]:
    return {"rule": result.rule_id, "outcome": result.outcome.value, "line": result.line,
            "json_path": result.json_path, "file": Path(result.path or "").name,
            "path": result.path,
            "message": result.message, "severity": result.severity.label}


def _with_backups(options: dict[str, Any], rule_dir: Path,
                  expected: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Backup paths are relative to the rule's folder, named ``{dir}`` in messages.

    Committed backup files get the age of the checkout, so the age limit is
    lifted here; tests/test_backups.py checks ages with controlled mtimes.
    """
    if "backups" not in options:
        return options, expected
    resolved = {p: str(rule_dir / path) for p, path in options["backups"].items()}
    options = {"max_backup_age_seconds": 1e12, **options, "backups": resolved}
    expected = [{k: v.replace("{dir}", str(rule_dir)) if k.startswith("message") else v
                 for k, v in want.items()} for want in expected]
    return options, expected


def _scan_fixture(entry: Path, options: dict[str, Any]) -> list[Result]:
    """A manifest fixture, a snapshot, or manifests against a snapshot."""
    if entry.name.endswith(SNAPSHOT_SUFFIX):
        return scan(snapshot=str(entry), **options).results
    snapshots = sorted(entry.glob(f"*{SNAPSHOT_SUFFIX}")) if entry.is_dir() else []
    if snapshots:
        assert len(snapshots) == 1, f"{entry.name}: one snapshot per fixture folder"
        return scan(entry, snapshot=str(snapshots[0]), exclude=[f"*{SNAPSHOT_SUFFIX}"],
                    **options).results
    return scan(entry, **options).results


def _agrees(got: dict[str, Any], key: str, value: Any) -> bool:
    if key == "message_prefix":
        return bool(got["message"].startswith(value))
    return bool(got[key] == value)


@pytest.mark.parametrize(("rule_id", "entry", "expected", "options"), _cases())
def test_rule_fixture(rule_id: str, entry: Path, expected: list[dict[str, Any]],
                      options: dict[str, Any]) -> None:
    options, expected = _with_backups(options, entry.parent, expected)
    results = _scan_fixture(entry, options)
    assert not [r for r in results if r.outcome is Outcome.INVALID_INPUT], "fixture must parse"
    reported = [r for r in of_rule(results, rule_id) if r.outcome is not Outcome.PASSED]
    failed = [r for r in reported if r.outcome is Outcome.FAILED]
    if entry.name.startswith("fire"):
        assert failed, f"{rule_id} did not fire on {entry.name}"
    else:
        assert not failed, f"{rule_id} fired on {entry.name}: {[r.message for r in failed]}"
        assert of_rule(results, rule_id, Outcome.PASSED, Outcome.NOT_EVALUATED), \
            f"{rule_id} never evaluated {entry.name} (not applicable?)"
    unmatched = [_as_dict(r) for r in reported]
    for want in expected:
        assert set(want) >= REQUIRED, f"expected.yaml entry lacks {REQUIRED - set(want)}"
        match = next((got for got in unmatched if all(_agrees(got, key, value)
                                                      for key, value in want.items())), None)
        assert match is not None, f"not reported: {want}\nreported: {unmatched}"
        if (match["path"] or "").startswith("snapshot://"):
            assert "path" in want and want["line"] is None, \
                f"a result about a live object has no line and names its URI: {want}"
        unmatched.remove(match)
    assert unmatched == [], "reported but not in expected.yaml"
