"""k8s-removed-api on live objects: judged by the apiVersion the object was
last applied in (kubectl.kubernetes.io/last-applied-configuration), as pluto
does for clusters; the rule lists no kinds of its own unless named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from checks.engine.catalog import load_catalog
from checks.model import Outcome
from checks.sources.live.kinds import wanted_kinds
from checks.sources.live.model import WantedKind
from tests.support import of_rule, scan, write

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _deployment(name: str, applied_in: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": "apps", "resourceVersion": "5"}
    if applied_in is not None:
        applied = {"apiVersion": applied_in, "kind": "Deployment",
                   "metadata": {"name": name, "namespace": "apps"},
                   "spec": {"template": {"spec": {"containers": [
                       {"name": "app", "env": [{"name": "DB_PASSWORD",
                                                "value": "never-quoted"}]}]}}}}
        metadata["annotations"] = {LAST_APPLIED: json.dumps(applied)}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
            "spec": {"replicas": 1}}


def _snapshot(tmp_path: Path, *objects: dict[str, Any]) -> Path:
    return write(tmp_path / "s.json", json.dumps({
        "format": "upgrade-lint-snapshot/1", "source": "cluster://prod",
        "recordedAt": "2026-11-30T06:00:00Z", "objects": list(objects), "unavailable": [],
        "notes": []}))


def test_live_objects_are_judged_by_their_last_applied_api_version(tmp_path: Path) -> None:
    snap = _snapshot(tmp_path, _deployment("old", "extensions/v1beta1"),
                     _deployment("current", "apps/v1"), _deployment("untracked", None))
    results = of_rule(scan(snapshot=str(snap), targets={"kubernetes": "1.29"}).results,
                      "k8s-removed-api")
    by_name = {r.obj.name if r.obj else "": r for r in results}
    old = by_name["old"]
    assert (old.outcome, old.severity.label, old.path, old.json_path, old.observed) == (
        Outcome.FAILED, "blocker", "snapshot://s.json/apps/Deployment/old?resourceVersion=5",
        f"$.metadata.annotations['{LAST_APPLIED}']", "extensions/v1beta1")
    assert old.message == (f"extensions/v1beta1 Deployment (last applied in that version, "
                           f"{LAST_APPLIED}) is no longer served in Kubernetes 1.16 (target "
                           "1.29); use apps/v1")
    assert "never-quoted" not in old.message
    assert (by_name["current"].outcome, by_name["untracked"].outcome) == (
        Outcome.PASSED, Outcome.PASSED)


def test_the_version_a_live_object_is_read_in_says_nothing(tmp_path: Path) -> None:
    """Read as batch/v1beta1 (the client may ask any version), applied as batch/v1."""
    cron = {"apiVersion": "batch/v1beta1", "kind": "CronJob",
            "metadata": {"name": "c", "namespace": "apps", "annotations": {
                LAST_APPLIED: json.dumps({"apiVersion": "batch/v1", "kind": "CronJob"})}}}
    [result] = of_rule(scan(snapshot=str(_snapshot(tmp_path, cron)),
                            targets={"kubernetes": "1.29"}).results, "k8s-removed-api")
    assert result.outcome is Outcome.PASSED


def test_the_rule_lists_no_kinds_of_its_own_unless_named() -> None:
    rules = load_catalog(None).rules
    only = [r for r in rules if r.id == "k8s-removed-api"]
    assert wanted_kinds(only) == []
    assert WantedKind("storage.k8s.io", "StorageClass") not in wanted_kinds(rules)
    named = wanted_kinds(only, ["k8s-removed-api"])
    assert {WantedKind("storage.k8s.io", "StorageClass"),
            WantedKind("apps", "Deployment")} <= set(named)
