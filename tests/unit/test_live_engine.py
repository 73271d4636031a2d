"""The engine's side of ``--cluster``: the calls it makes to the cluster reader
and the probes (their contract's signatures), recording, configuration errors,
and what live objects say about running versions.

The cluster reader and the probes are stood in for by modules registered
under their names, so these tests pin the engine's call sites on their own;
tests/live exercises the real reader against the test API server.
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from checks.engine.catalog import Rule
from checks.engine.request import LiveOptions, build_request
from checks.engine.scan import ScanUsageError
from checks.model import Origin, Outcome, Resource
from checks.sources.live.model import PROBE_API_VERSION, LiveRead, Unavailable, WantedKind
from checks.sources.live.snapshot import read_snapshot
from tests.support import of_rule, scan

CALLS: list[tuple[str, Any]] = []


@dataclass(frozen=True)
class ClusterOptions:
    kubeconfig: str | None = None
    context: str | None = None
    namespaces: tuple[str, ...] = ()
    exclude_namespaces: tuple[str, ...] = ()
    connect_timeout: float = 10.0
    read_timeout: float = 60.0


@dataclass(frozen=True)
class ProbeOptions:
    datapower_secret: str | None = None
    kong_admin_urls: tuple[str, ...] = ()
    api7_dashboard_urls: tuple[str, ...] = ()
    ca_bundle: str | None = None
    datapower_tls_server_name: str | None = None


class ClusterConfigError(Exception):
    pass


class Secrets:
    def read(self, namespace: str, name: str) -> Mapping[str, bytes] | Unavailable:
        return {"username": b"admin", "password": b"never-printed"}


def _mgmt() -> Resource:
    body = {"apiVersion": "management.apiconnect.ibm.com/v1beta1", "kind": "ManagementCluster",
            "metadata": {"name": "mgmt", "namespace": "apic", "resourceVersion": "12"},
            "spec": {"version": "10.0.8.0"},
            "status": {"phase": "Running", "versions": {"reconciled": "10.0.5.3-99"}}}
    return Resource(body["apiVersion"], "ManagementCluster", "mgmt", body,  # type: ignore[arg-type]
                    Origin("cluster://prod/apic/ManagementCluster/mgmt?resourceVersion=12", 0),
                    "apic")


def read_cluster(options: ClusterOptions, wanted: Sequence[WantedKind]
                 ) -> tuple[LiveRead, Secrets]:
    CALLS.append(("read_cluster", (options, list(wanted))))
    if options.context == "broken":
        raise ClusterConfigError("context 'broken' is not in\nthe kubeconfig")
    return LiveRead("cluster://prod", [_mgmt()], requests=3), Secrets()


def wanted_kinds(rules: Sequence[Rule], named: Sequence[str] = ()) -> list[WantedKind]:
    CALLS.append(("wanted_kinds", len(rules)))
    return [WantedKind("management.apiconnect.ibm.com", "ManagementCluster")]


def run_probes(cluster: Sequence[Resource], options: ProbeOptions,
               secrets: Secrets | None) -> LiveRead:
    CALLS.append(("run_probes", ([r.name for r in cluster], options, secrets is not None)))
    return LiveRead("cluster://prod", [], unavailable=[Unavailable(
        "probes.upgrade-lint.io", "DataPowerPeeringStatus", "apic",
        "no gateway pod found")], requests=0, notes=["probes: nothing to probe"])


@pytest.fixture
def fake_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    kube = types.ModuleType("checks.sources.live.kube")
    for name in ("ClusterOptions", "ClusterConfigError", "read_cluster", "wanted_kinds"):
        setattr(kube, name, globals()[name])
    probes = types.ModuleType("checks.sources.live.probes")
    probes.ProbeOptions = ProbeOptions  # type: ignore[attr-defined]
    probes.run_probes = run_probes  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "checks.sources.live.kube", kube)
    monkeypatch.setitem(sys.modules, "checks.sources.live.probes", probes)
    CALLS.clear()


def _request(**live: Any) -> Any:
    return build_request([], max_file_bytes=1 << 20, targets=["apiconnect=10.0.8.0"],
                         live=LiveOptions(cluster=True, **live))


@pytest.mark.usefixtures("fake_reader")
def test_cluster_scan_calls_the_reader_then_the_probes_and_records(tmp_path: Path) -> None:
    record = tmp_path / "snap.json"
    request = _request(context="prod", namespaces=("apic",), connect_timeout="3",
                       datapower_secret="apic/gw-admin", record=str(record))
    assert request.cluster == ClusterOptions(context="prod", namespaces=("apic",),
                                             connect_timeout=3.0)
    from checks.engine.scan import run_scan
    result = run_scan(request)
    assert [name for name, _ in CALLS] == ["wanted_kinds", "read_cluster", "run_probes"]
    assert CALLS[2][1] == (["mgmt"], ProbeOptions(datapower_secret="apic/gw-admin"), True)
    [incomplete] = of_rule(result.results, "apic-management-upgrade-incomplete", Outcome.FAILED)
    assert (incomplete.path, incomplete.line) == (
        "cluster://prod/apic/ManagementCluster/mgmt?resourceVersion=12", None)
    [peering] = of_rule(result.results, "apic-peering-primary-not-gw0")
    assert (peering.outcome, peering.message) == (Outcome.NOT_EVALUATED,
                                                  "no gateway pod found (namespace apic)")
    assert result.live is not None and result.live.requests == 3
    replay = read_snapshot(str(record))
    assert (replay.notes[-1], replay.unavailable) == ("probes: nothing to probe",
                                                      result.live.unavailable)
    assert [r.origin.path for r in replay.resources] == [
        "snapshot://snap.json/apic/ManagementCluster/mgmt?resourceVersion=12"]
    assert "never-printed" not in record.read_text()


@pytest.mark.usefixtures("fake_reader")
def test_a_cluster_configuration_error_is_one_usage_line() -> None:
    from checks.engine.scan import run_scan
    with pytest.raises(ScanUsageError) as caught:
        run_scan(_request(context="broken"))
    assert str(caught.value) == "context 'broken' is not in the kubeconfig"


@pytest.mark.usefixtures("fake_reader")
@pytest.mark.parametrize(("live", "message"), [
    ({"connect_timeout": "soon"}, "--connect-timeout expects a number of seconds, got 'soon'"),
    ({"read_timeout": "0"}, "--read-timeout expects a positive number of seconds, got '0'"),
    ({"datapower_secret": "gw-admin"}, "--datapower-secret expects NAMESPACE/NAME, got "
                                       "'gw-admin'"),
    ({"ca_bundle": "/nonexistent/ca.pem"}, "--ca-bundle /nonexistent/ca.pem: no such file"),
    ({"snapshot": "x.json"}, "--cluster and --snapshot exclude each other: a scan reads the "
                             "cluster, or replays what was recorded from it"),
])
def test_live_option_problems(live: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        _request(**live)
    assert str(caught.value) == message


def test_without_the_cluster_reader_cluster_is_a_usage_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "checks.sources.live.kube", None)
    with pytest.raises(ValueError, match="this build of upgrade-lint has no cluster reader"):
        _request()


def _probe(kind: str, body: dict[str, Any], name: str = "kong-cp:8001") -> dict[str, Any]:
    return {"apiVersion": PROBE_API_VERSION, "kind": kind,
            "metadata": {"name": name, "namespace": "kong"}, **body}


def test_running_versions_of_kong_and_api7_come_from_their_apis(tmp_path: Path) -> None:
    snap = tmp_path / "s.json"
    snap.write_text(json.dumps({
        "format": "upgrade-lint-snapshot/1", "source": "cluster://prod",
        "recordedAt": "2026-11-30T06:00:00Z", "objects": [
            _probe("KongClusterStatus", {
                "node": {"version": "3.9.0.1"}, "probedAt": "2026-11-30T06:00:00Z",
                "dataPlanes": [{"hostname": "dp", "version": "3.8.1.0", "sync_status": "normal",
                                "last_seen": 1796018390}]}),
            _probe("API7DashboardStatus", {"version": "3.7.3", "gateways": []}, "dash:7443")]}))
    result = scan(snapshot=str(snap), targets={"kong": "3.10.0.0"})
    kong = result.context.of("ns:kong").path("kong")
    assert (str(kong.current), kong.current_source) == (
        "3.8.1.0", "snapshot://s.json/kong/KongClusterStatus/kong-cp:8001 "
                   "$.dataPlanes[0].version (live)")
    assert str(result.context.of("ns:kong").path("api7").current) == "3.7.3"
    # The cluster runs what it runs: without --target no target is declared.
    assert result.context.of("ns:kong").path("kong").target is not None
    assert scan(snapshot=str(snap)).context.of("ns:kong").path("kong").target is None
