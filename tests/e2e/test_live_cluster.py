"""``upgrade-lint scan --cluster`` end to end: the real command line against the
test Kubernetes API server (tests/kubeapi), gateway pods whose IPs are
loopback addresses served by the DataPower double, and the Kong Admin API
double (tests/probes). Each part is tested alone elsewhere; here the whole
chain is: kubeconfig -> discovery -> paginated LISTs -> probes -> engine ->
every report, and the issue's acceptance holds on what comes out."""

from __future__ import annotations

import base64
import errno
import gzip
import json
import os
import random
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml

from tests.e2e.test_cli import COMMAND
from tests.kubeapi import CRD, Grant, KubeAPIServer
from tests.probes.doubles import (
    DoubleServer,
    data_plane,
    datapower_route,
    kong_root,
    kong_route,
    peering_entries,
)
from tests.support import REPO

CONTEXT = "prod"
TOKEN = "scanner-token-never-shown"
DP_USER = "admin"
DP_PASSWORD = "dp-Pa55w0rd-never-shown"
KONG_TOKEN = "kong-admin-token-never-shown"
DATAPOWER_PORT = 5554  # the pods' REST management port: the probe asks no other
APIC_CRDS = (
    CRD("management.apiconnect.ibm.com", "v1beta1", "ManagementCluster", "managementclusters"),
    CRD("management.apiconnect.ibm.com", "v1beta1", "ManagementBackup", "managementbackups"),
    CRD("gateway.apiconnect.ibm.com", "v1beta1", "GatewayCluster", "gatewayclusters"),
    CRD("postgresql.k8s.enterprisedb.io", "v1", "Backup", "backups"),
)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def management(spec: str = "10.0.8.0", reconciled: str = "10.0.8.0-1298") -> dict[str, Any]:
    return {"apiVersion": "management.apiconnect.ibm.com/v1beta1", "kind": "ManagementCluster",
            "metadata": {"name": "mgmt", "namespace": "apic"},
            "spec": {"version": spec, "databaseBackup": {"protocol": "objstore"},
                     "license": {"accept": True, "use": "production",
                                 "license": "L-DZZQ-MGVN8V"}},
            "status": {"phase": "Running", "versions": {"reconciled": reconciled}}}


def gateway_cluster(version: str = "10.0.8.0") -> dict[str, Any]:
    return {"apiVersion": "gateway.apiconnect.ibm.com/v1beta1", "kind": "GatewayCluster",
            "metadata": {"name": "gw", "namespace": "apic"},
            "spec": {"version": version, "replicaCount": 3,
                     "license": {"accept": True, "use": "production",
                                 "license": "L-DZZQ-MGVN8V"}},
            "status": {"phase": "Running", "versions": {"reconciled": version}}}


def gateway_pod(ordinal: int, ip: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"gw-{ordinal}", "namespace": "apic",
                         "labels": {"crd.apiconnect.ibm.com/kind": "datapower",
                                    "app.kubernetes.io/name": "datapower"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet",
                                              "name": "gw", "uid": "5c1e", "controller": True}]},
            "spec": {"containers": [{"name": "datapower",
                                     "image": "cp.icr.io/cp/apic/datapower-api-gateway:10.6.0.0"}]},
            "status": {"phase": "Running", "podIP": ip}}


def other_pod(n: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"worker-{n:03d}", "namespace": "apps"},
            "spec": {"containers": [{"name": "app", "image": "registry.example/app:1.0"}]},
            "status": {"phase": "Running", "podIP": f"10.2.{n // 250}.{n % 250}"}}


def backup(name: str, stopped: str) -> dict[str, Any]:
    return {"apiVersion": "postgresql.k8s.enterprisedb.io/v1", "kind": "Backup",
            "metadata": {"name": name, "namespace": "apic"},
            "spec": {"cluster": {"name": "mgmt-db"}},
            "status": {"phase": "completed", "stoppedAt": stopped}}


def admin_secret() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "gateway-admin", "namespace": "apic"},
            "data": {"username": _b64(DP_USER), "password": _b64(DP_PASSWORD)}}


def cluster_objects(ips: Sequence[str], *, spec: str = "10.0.8.0",
                    reconciled: str = "10.0.5.3-1234", backup_stopped: str = "2020-01-01T00:00:00Z",
                    extra_pods: int = 0) -> list[dict[str, Any]]:
    """A management half-way to ``spec``, a gateway StatefulSet of len(ips)
    Running pods, the DataPower admin Secret, an EDB backup."""
    statefulset = {"apiVersion": "apps/v1", "kind": "StatefulSet",
                   "metadata": {"name": "gw", "namespace": "apic"},
                   "spec": {"replicas": len(ips), "serviceName": "gw"}}
    return [management(spec, reconciled), gateway_cluster("10.0.5.3"), statefulset,
            *[gateway_pod(n, ip) for n, ip in enumerate(ips)], admin_secret(),
            backup("mgmt-db-nightly", backup_stopped),
            *[other_pod(n) for n in range(extra_pods)]]


@dataclass
class Gateways:
    """The DataPower doubles: one per pod IP, all on the REST port."""

    ips: list[str]
    servers: list[DoubleServer]


@dataclass
class Env:
    tmp: Path
    ca_bundle: Path
    cert_for: Callable[..., trustme.LeafCert]
    stack: ExitStack

    def gateways(self, count: int, primary_ordinal: int,
                 cert: trustme.LeafCert | None = None) -> Gateways:
        """``count`` DataPower doubles on free loopback addresses 127.0.0.x
        (port 5554 each, as real pods), the primary at ``primary_ordinal``."""
        for _attempt in range(30):
            first = random.randrange(10, 250 - count)
            ips = [f"127.0.0.{first + n}" for n in range(count)]
            status = peering_entries(ips, ips[primary_ordinal])
            leaf = cert or self.cert_for(*ips)
            attempt = ExitStack()
            try:
                servers = [attempt.enter_context(DoubleServer(
                    datapower_route(status, username=DP_USER, password=DP_PASSWORD),
                    cert=leaf, host=ip, port=DATAPOWER_PORT)) for ip in ips]
            except OSError as exc:
                attempt.close()
                if exc.errno != errno.EADDRINUSE:
                    raise
                continue
            self.stack.enter_context(attempt)
            return Gateways(ips, servers)
        raise RuntimeError("no loopback address free on port 5554")

    def kong(self) -> DoubleServer:
        now = int(time.time())
        planes = [data_plane(1, last_seen=now), data_plane(2, last_seen=now)]
        return self.stack.enter_context(DoubleServer(
            kong_route(kong_root(), planes, token=KONG_TOKEN), cert=self.cert_for("127.0.0.1")))

    def kube(self, objects: Sequence[dict[str, Any]], grant: Grant | None = None,
             crds: Sequence[CRD] = APIC_CRDS) -> tuple[KubeAPIServer, Path]:
        server = self.stack.enter_context(
            KubeAPIServer(objects, {TOKEN: grant or Grant.admin()}, crds=crds))
        kubeconfig = server.write_kubeconfig(self.tmp / "kubeconfig", token=TOKEN,
                                             context=CONTEXT)
        return server, Path(kubeconfig)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def env(tmp_path: Path, ca: trustme.CA) -> Iterator[Env]:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with ExitStack() as stack:
        yield Env(tmp_path, bundle, ca.issue_cert, stack)


def scan_cli(*args: str, env_vars: dict[str, str] | None = None,
             cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST")}
    environment.update(env_vars or {})
    return subprocess.run([*COMMAND, "scan", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=180, env=environment)


def live_args(kubeconfig: Path, env: Env, *more: str) -> list[str]:
    return ["--cluster", "--kubeconfig", str(kubeconfig), "--datapower-secret",
            "apic/gateway-admin", "--ca-bundle", str(env.ca_bundle), *more]


def failed(report: dict[str, Any], rule_id: str) -> list[dict[str, Any]]:
    return [r for r in report["results"] if r["rule_id"] == rule_id and r["outcome"] == "failed"]


def of_rule(report: dict[str, Any], rule_id: str) -> list[dict[str, Any]]:
    return [r for r in report["results"] if r["rule_id"] == rule_id]


def test_the_issue_acceptance_on_a_live_cluster(env: Env) -> None:
    gateways = env.gateways(3, primary_ordinal=1)
    kong = env.kong()
    server, kubeconfig = env.kube(cluster_objects(gateways.ips))
    reports = [env.tmp / name for name in ("r.json", "r.xml", "r.html")]
    proc = scan_cli(*live_args(kubeconfig, env, "--kong-admin-url", kong.url,
                               "--json", str(reports[0]), "--junit", str(reports[1]),
                               "--html", str(reports[2])),
                    env_vars={"KONG_ADMIN_TOKEN": KONG_TOKEN})
    assert proc.returncode == 1, proc.stderr
    report = json.loads(reports[0].read_text())
    base = f"cluster://{CONTEXT}/apic"

    primary = failed(report, "apic-peering-primary-not-gw0")
    assert {(r["severity"], r["path"], r["line"]) for r in primary} == {
        ("blocker", f"{base}/DataPowerPeeringStatus/gw", None)}
    assert sorted(r["message"].split("'")[1] for r in primary) == [
        "api-probe", "gwd", "rate-limit", "subs"]
    gwd = next(r for r in primary if "'gwd'" in r["message"])
    assert gwd["message"].startswith(
        f"peering object 'gwd': the primary is gw-1 ({gateways.ips[1]}, as gw-1 reports), "
        "not gw-0")
    assert f"{base}/DataPowerPeeringStatus/gw: apic-peering-primary-not-gw0 (blocker) " \
           f"{gwd['message']} [ns:apic]" in proc.stdout.splitlines()

    [incomplete] = failed(report, "apic-management-upgrade-incomplete")
    mgmt_path = f"{base}/ManagementCluster/mgmt?resourceVersion="
    assert (incomplete["severity"], incomplete["path"].startswith(mgmt_path),
            incomplete["json_path"], incomplete["observed"]) == (
        "blocker", True, "$.status.versions.reconciled", "10.0.5.3-1234")
    assert incomplete["path"][len(mgmt_path):].isdigit()

    [stale] = failed(report, "apic-backup-stale")
    assert stale["severity"] == "warning" and stale["path"] == incomplete["path"]
    assert "Backup apic/mgmt-db-nightly" in stale["message"]

    # Kong's control plane answered through the Admin API double.
    [sync] = [r for r in of_rule(report, "kong-data-plane-sync") if r["outcome"] == "passed"]
    assert sync["path"].startswith(kong.url)
    assert [s.route for s in kong.seen] == ["/", "/clustering/data-planes"]
    assert all(s.headers.get("Kong-Admin-Token") == KONG_TOKEN for s in kong.seen)
    for double in gateways.servers:
        assert [s.route for s in double.seen] == ["/mgmt/status/apiconnect/GatewayPeeringStatus"]

    # Deployments are served (none exist); DeploymentConfig is OpenShift's:
    # nothing was left unread, so the rule is not "not evaluated".
    assert "not-evaluated" not in {r["outcome"] for r in of_rule(report,
                                                                 "plaintext-credential-env")}
    server.assert_read_only()
    assert {r.method for r in server.requests} == {"GET"}
    junit, html = reports[1].read_text(), reports[2].read_text()
    for text in (proc.stdout, proc.stderr, reports[0].read_text(), junit, html):
        for secret in (TOKEN, DP_PASSWORD, _b64(DP_PASSWORD), KONG_TOKEN):
            assert secret not in text


def _request_count(env: Env, extra_pods: int) -> tuple[int, int]:
    gateways = env.gateways(3, primary_ordinal=0)
    server, kubeconfig = env.kube(cluster_objects(gateways.ips, extra_pods=extra_pods))
    proc = scan_cli(*live_args(kubeconfig, env, "--json", str(env.tmp / "r.json")))
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads((env.tmp / "r.json").read_text())
    probed = sum(len(double.seen) for double in gateways.servers)
    assert (probed, report["live"]["requests"]) == (3, len(server.requests) + probed)
    return len(server.requests), len(server.lists())


def test_requests_grow_with_kinds_and_pages_not_objects(env: Env) -> None:
    few = _request_count(env, extra_pods=10)
    env.stack.close()
    many = _request_count(env, extra_pods=300)
    assert few == many
    requests, lists = few
    assert lists < requests  # discovery and the one Secret GET of the DataPower credentials
    env.stack.close()
    # 503 pods are two pages of 500: one more LIST, nothing else.
    assert _request_count(env, extra_pods=500) == (requests + 1, lists + 1)


def test_record_then_replay_gives_identical_results(env: Env) -> None:
    gateways = env.gateways(3, primary_ordinal=1)
    kong = env.kong()
    _, kubeconfig = env.kube(cluster_objects(gateways.ips))
    snap = env.tmp / "snap.json.gz"
    live = scan_cli(*live_args(kubeconfig, env, "--kong-admin-url", kong.url, "--record",
                               str(snap), "--json", str(env.tmp / "live.json")),
                    env_vars={"KONG_ADMIN_TOKEN": KONG_TOKEN})
    replay = scan_cli("--snapshot", str(snap), "--json", str(env.tmp / "replay.json"))
    assert (live.returncode, replay.returncode) == (1, 1), live.stderr + replay.stderr
    recorded = gzip.decompress(snap.read_bytes()).decode()
    assert DP_PASSWORD not in recorded and _b64(DP_PASSWORD) not in recorded

    def results(name: str, prefix: str) -> list[dict[str, Any]]:
        out = []
        for result in json.loads((env.tmp / name).read_text())["results"]:
            for key in ("path", "installation"):  # cluster://prod or snapshot://snap.json.gz
                value = result[key] or ""
                if value.startswith(prefix):
                    result[key] = "<live>" + value[len(prefix):]
            out.append(result)
        return out

    live_results = results("live.json", f"cluster://{CONTEXT}")
    for result in live_results:  # a product API's object is re-rooted like the cluster's
        if result["path"] == kong.url:
            result["path"] = f"<live>/KongClusterStatus/{kong.url.split('://')[1]}"
    replay_results = results("replay.json", "snapshot://snap.json.gz")
    assert live_results == replay_results
    assert any(r["rule_id"] == "apic-peering-primary-not-gw0" and r["outcome"] == "failed"
               and r["path"] == "<live>/apic/DataPowerPeeringStatus/gw" for r in replay_results)
    # The Kong control plane stays an installation of its own, named by its URL.
    assert {r["installation"] for r in replay_results
            if r["rule_id"] == "kong-data-plane-sync"} == {kong.url}
    assert KONG_TOKEN not in recorded


def test_a_gateway_manifest_against_the_clusters_management(env: Env) -> None:
    gateways = env.gateways(3, primary_ordinal=0)
    objects = cluster_objects(gateways.ips, spec="10.0.5.3", reconciled="10.0.5.3")
    _, kubeconfig = env.kube(objects)
    manifest = env.tmp / "gateway.yaml"
    manifest.write_text("apiVersion: gateway.apiconnect.ibm.com/v1beta1\nkind: GatewayCluster\n"
                        "metadata:\n  name: gw\n  namespace: apic\nspec:\n"
                        "  version: 10.0.8.0\n")
    proc = scan_cli(str(manifest), *live_args(kubeconfig, env, "--json",
                                              str(env.tmp / "r.json")))
    assert proc.returncode == 1, proc.stderr
    report = json.loads((env.tmp / "r.json").read_text())
    [ahead] = failed(report, "apic-gateway-ahead-of-management")
    assert (ahead["severity"], ahead["path"], ahead["line"]) == ("blocker", str(manifest), 7)
    assert report["installations"]["ns:apic"]["apiconnect"]["from"] == "10.0.5.3"


def test_a_refused_read_is_not_evaluated_and_fails_require_evaluated(env: Env) -> None:
    gateways = env.gateways(3, primary_ordinal=0)
    objects = cluster_objects(gateways.ips, spec="10.0.8.0", reconciled="10.0.8.0-1")
    selected = ("-k", "apic-management-upgrade-incomplete", "--require-evaluated")
    _, kubeconfig = env.kube(objects)
    allowed = scan_cli(*live_args(kubeconfig, env, *selected))
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr

    everything_but_management = Grant.of(
        ("get", "*", "*", None), ("list", "", "*", None), ("list", "apps", "*", None),
        ("list", "batch", "*", None), ("list", "postgresql.k8s.enterprisedb.io", "*", None),
        ("list", "gateway.apiconnect.ibm.com", "*", None), ("list", "policy", "*", None),
        ("list", "networking.k8s.io", "*", None), ("list", "apiextensions.k8s.io", "*", None),
        ("list", "management.apiconnect.ibm.com", "managementbackups", None))
    env.stack.close()
    gateways = env.gateways(3, primary_ordinal=0)
    _, kubeconfig = env.kube(cluster_objects(gateways.ips, spec="10.0.8.0",
                                             reconciled="10.0.8.0-1"),
                             grant=everything_but_management)
    refused = scan_cli(*live_args(kubeconfig, env, *selected, "--json",
                                  str(env.tmp / "r.json")))
    assert refused.returncode == 1, refused.stderr
    report = json.loads((env.tmp / "r.json").read_text())
    [result] = of_rule(report, "apic-management-upgrade-incomplete")
    assert (result["outcome"], result["message"]) == (
        "not-evaluated",
        "forbidden: list managementclusters.management.apiconnect.ibm.com in all namespaces "
        "(403)")
    without_gate = scan_cli(*live_args(kubeconfig, env, "-k",
                                       "apic-management-upgrade-incomplete"))
    assert without_gate.returncode == 0, without_gate.stdout


def test_a_missing_crd_makes_its_rules_not_evaluated(env: Env) -> None:
    gateways = env.gateways(3, primary_ordinal=0)
    objects = [o for o in cluster_objects(gateways.ips) if o["kind"] != "GatewayCluster"]
    crds = [c for c in APIC_CRDS if c.kind != "GatewayCluster"]
    _, kubeconfig = env.kube(objects, crds=crds)
    proc = scan_cli(*live_args(kubeconfig, env, "--json", str(env.tmp / "r.json")))
    assert proc.returncode == 1, proc.stderr
    report = json.loads((env.tmp / "r.json").read_text())
    # Neither kind the rule reads is served: each missing CRD is a reason.
    assert [(r["outcome"], r["message"]) for r in of_rule(report, "apic-gateway-replicas-below-ha")] \
        == [("not-evaluated", "CRD apiconnectclusters.apiconnect.ibm.com is not installed"),
            ("not-evaluated", "CRD gatewayclusters.gateway.apiconnect.ibm.com is not installed")]
    # A rule that reads a served kind too is evaluated: the ManagementCluster was read.
    assert [r["outcome"] for r in of_rule(report, "apic-management-upgrade-incomplete")] == [
        "failed"]


@pytest.mark.parametrize("case", ["not YAML", "unknown context", "no such file"])
def test_a_bad_kubeconfig_is_one_line_and_exit_2(env: Env, case: str) -> None:
    _, kubeconfig = env.kube([])
    extra: list[str] = []
    if case == "not YAML":
        kubeconfig.write_text(f"apiVersion: v1\nusers: [{{token: {TOKEN}\n")
    elif case == "unknown context":
        extra = ["--context", "staging"]
    else:
        kubeconfig = env.tmp / "missing"
    proc = scan_cli("--cluster", "--kubeconfig", str(kubeconfig), *extra)
    assert (proc.returncode, proc.stdout) == (2, ""), proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith(f"ERROR: kubeconfig {kubeconfig}")
    assert TOKEN not in proc.stderr
    if case == "unknown context":
        assert line == f"ERROR: kubeconfig {kubeconfig}: no context named 'staging'"


def test_pytest_and_the_command_line_give_the_same_results(env: Env) -> None:
    gateways = env.gateways(3, primary_ordinal=1)
    _, kubeconfig = env.kube(cluster_objects(gateways.ips))
    cli = scan_cli(*live_args(kubeconfig, env, "--json", str(env.tmp / "cli.json")))
    assert cli.returncode == 1, cli.stderr
    plugin = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "--upgrade-cluster", f"--upgrade-kubeconfig={kubeconfig}",
         "--upgrade-datapower-secret=apic/gateway-admin", f"--upgrade-ca-bundle={env.ca_bundle}",
         f"--upgrade-json={env.tmp / 'plugin.json'}"],
        cwd=env.tmp, capture_output=True, text=True, timeout=180,
        env={k: v for k, v in os.environ.items() if k != "KUBECONFIG"})
    assert plugin.returncode == 1, plugin.stdout[-2000:] + plugin.stderr[-2000:]
    for secret in (TOKEN, DP_PASSWORD):
        assert secret not in plugin.stdout + plugin.stderr

    def results(name: str) -> list[dict[str, Any]]:
        report = json.loads((env.tmp / name).read_text())
        return sorted(report["results"], key=lambda r: json.dumps(r, sort_keys=True))

    assert results("cli.json") == results("plugin.json")


def _grant_of(role: dict[str, Any]) -> Grant:
    return Grant.of(*[(verb, group, resource, None) for rule in role["rules"]
                      for group in rule["apiGroups"] for resource in rule["resources"]
                      for verb in rule["verbs"]])


def test_the_printed_role_is_enough_and_less_is_reported(env: Env) -> None:
    printed = subprocess.run([*COMMAND, "rbac"], capture_output=True, text=True, check=True,
                             cwd=REPO).stdout
    [role] = [d for d in yaml.safe_load_all(printed) if d and d["kind"] == "ClusterRole"]
    gateways = env.gateways(3, primary_ordinal=1)
    _, kubeconfig = env.kube(cluster_objects(gateways.ips), grant=_grant_of(role))
    proc = scan_cli(*live_args(kubeconfig, env, "--json", str(env.tmp / "r.json")))
    assert proc.returncode == 1, proc.stderr
    report = json.loads((env.tmp / "r.json").read_text())
    assert [u for u in report["live"]["unavailable"] if "forbidden" in u["reason"]] == []
    assert failed(report, "apic-peering-primary-not-gw0")  # the Secret GET was allowed too

    less = dict(role, rules=[dict(r, resources=[x for x in r["resources"]
                                                if x != "managementclusters"])
                             for r in role["rules"]])
    env.stack.close()
    gateways = env.gateways(3, primary_ordinal=1)
    _, kubeconfig = env.kube(cluster_objects(gateways.ips), grant=_grant_of(less))
    proc = scan_cli(*live_args(kubeconfig, env, "--json", str(env.tmp / "r.json")))
    report = json.loads((env.tmp / "r.json").read_text())
    assert [u for u in report["live"]["unavailable"] if "forbidden" in u["reason"]] == [
        {"group": "management.apiconnect.ibm.com", "kind": "ManagementCluster",
         "namespace": None,
         "reason": "forbidden: list managementclusters.management.apiconnect.ibm.com in all "
                   "namespaces (403)"}]



def test_datapower_certificates_are_verified_against_the_tls_server_name(env: Env) -> None:
    """Gateway pods are dialled by IP; their certificate names a service."""
    gateways = env.gateways(3, primary_ordinal=1, cert=env.cert_for("gw.example"))
    _, kubeconfig = env.kube(cluster_objects(gateways.ips))
    by_ip = scan_cli(*live_args(kubeconfig, env, "-k", "apic-peering-primary-not-gw0",
                                "--json", str(env.tmp / "ip.json")))
    [peering] = of_rule(json.loads((env.tmp / "ip.json").read_text()),
                        "apic-peering-primary-not-gw0")
    assert peering["outcome"] == "not-evaluated", by_ip.stderr
    assert f"): the server's certificate does not name {gateways.ips[0]}" in peering["message"]

    named = scan_cli(*live_args(kubeconfig, env, "-k", "apic-peering-primary-not-gw0",
                                "--datapower-tls-server-name", "gw.example",
                                "--json", str(env.tmp / "named.json")))
    assert named.returncode == 1, named.stderr
    assert len(failed(json.loads((env.tmp / "named.json").read_text()),
                      "apic-peering-primary-not-gw0")) == 4

    bad = scan_cli(*live_args(kubeconfig, env, "--datapower-tls-server-name", "gw example"))
    assert (bad.returncode, bad.stderr.strip().splitlines()) == (
        2, ["ERROR: --datapower-tls-server-name expects a DNS name, got 'gw example'"])
    without_cluster = scan_cli("fixtures/demo", "--datapower-tls-server-name", "gw.example")
    assert without_cluster.stderr.strip().splitlines() == [
        "ERROR: --datapower-tls-server-name needs --cluster"]


def test_removed_apis_are_judged_on_what_other_rules_list(env: Env) -> None:
    """k8s-removed-api lists nothing of its own on a live scan; it judges the
    apiVersion live objects were last applied in. Named with -k, it lists its
    kinds too."""
    gateways = env.gateways(3, primary_ordinal=0)
    applied = {"apiVersion": "apps/v1beta2", "kind": "StatefulSet",
               "metadata": {"name": "gw", "namespace": "apic"}}
    objects = cluster_objects(gateways.ips)
    statefulset = next(o for o in objects if o["kind"] == "StatefulSet")
    statefulset["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied)}
    _, kubeconfig = env.kube(objects)
    proc = scan_cli(*live_args(kubeconfig, env, "--target", "kubernetes=1.29",
                               "--json", str(env.tmp / "r.json")))
    report = json.loads((env.tmp / "r.json").read_text())
    [removed] = failed(report, "k8s-removed-api")
    assert (removed["path"].split("?")[0], removed["observed"]) == (
        f"cluster://{CONTEXT}/apic/StatefulSet/gw", "apps/v1beta2"), proc.stderr
    assert not [u for u in report["live"]["unavailable"] if u["group"] == "storage.k8s.io"]

    scan_cli(*live_args(kubeconfig, env, "-k", "k8s-removed-api", "--json",
                        str(env.tmp / "k.json")))
    named = json.loads((env.tmp / "k.json").read_text())
    assert {"group": "storage.k8s.io", "kind": "StorageClass", "namespace": None,
            "reason": "storageclasses.storage.k8s.io is not served by this cluster"} in \
        named["live"]["unavailable"]


def _readme_nightly_command() -> list[str]:
    """The README's nightly-scan command, as a new user copies it."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Nightly readiness scan"):]
    block = section[section.index("```sh\n") + 6:section.index("\n```", section.index("```sh"))]
    lines = [line for line in block.replace("\\\n", " ").splitlines()
             if line.startswith("upgrade-lint ")]
    [command] = lines
    return shlex.split(command)


def test_the_readme_nightly_command_works_on_a_ready_cluster(env: Env) -> None:
    """Host names adapted to the test doubles; the test CA given as the
    private CA the README tells about. A cluster ready for the upgrade
    passes, every gating rule evaluated; a stale backup fails it."""
    argv = _readme_nightly_command()
    gateways = env.gateways(3, primary_ordinal=0)
    kong = env.kong()
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    objects = cluster_objects(gateways.ips, spec="10.0.8.8", reconciled="10.0.8.8-12",
                              backup_stopped=now)
    for item in objects:
        if item["kind"] in ("ManagementCluster", "GatewayCluster"):
            item["spec"]["license"]["license"] = "L-PXLC-N7T9RW"  # the 12.1.1 License ID
        if item["kind"] == "GatewayCluster":
            item["spec"]["version"] = "10.0.8.8"
            item["status"]["versions"]["reconciled"] = "10.0.8.8"
    objects.append({"apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": "kong-cp", "namespace": "kong"},
                    "spec": {"template": {"spec": {"containers": [{
                        "name": "proxy", "image": "kong/kong-gateway:3.9.0.1",
                        "env": [{"name": "KONG_ROLE", "value": "control_plane"},
                                {"name": "KONG_DATABASE", "value": "postgres"}]}]}}}})
    _, kubeconfig = env.kube(objects)
    (env.tmp / "kong-dump.yaml").write_text(
        '_format_version: "3.0"\nservices:\n- name: echo\n  url: http://echo.default.svc:80\n')
    argv = [arg.replace("https://kong-cp.kong.svc:8001", kong.url) for arg in argv]
    assert argv[:2] == ["upgrade-lint", "scan"]
    variables = {"KUBECONFIG": str(kubeconfig), "KONG_ADMIN_TOKEN": KONG_TOKEN}
    ready = scan_cli(*argv[2:], "--ca-bundle", str(env.ca_bundle), env_vars=variables,
                     cwd=env.tmp)
    assert ready.returncode == 0, ready.stdout[-3000:] + ready.stderr
    report = json.loads((env.tmp / "nightly-report.json").read_text())
    assert report["unevaluated_gating_rules"] == 0 and report["verdict"] == "pass"
    assert (env.tmp / "nightly.json.gz").is_file()

    stale = next(o for o in objects if o["kind"] == "Backup")
    stale["status"]["stoppedAt"] = "2020-01-01T00:00:00Z"
    env.kube(objects)
    not_ready = scan_cli(*argv[2:], "--ca-bundle", str(env.ca_bundle), env_vars=variables,
                         cwd=env.tmp)
    assert not_ready.returncode == 1
    assert failed(json.loads((env.tmp / "nightly-report.json").read_text()),
                  "apic-backup-stale")
