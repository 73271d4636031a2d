"""The cluster reader against the test API server (real HTTPS, the real
``kubernetes`` client): discovery first, pagination, retries, refusals,
namespaces, Secrets, request counts. Every test's server must see no write
(checked by the ``kube`` fixture)."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest

from checks.sources.live import transport
from checks.sources.live.kube import ClusterOptions, read_cluster
from checks.sources.live.model import LiveRead, Unavailable, WantedKind
from tests.live.conftest import gateway, pod, secret

GW = WantedKind("gateway.apiconnect.ibm.com", "GatewayCluster")
MGMT = WantedKind("management.apiconnect.ibm.com", "ManagementCluster")
POD = WantedKind("", "Pod")
SECRET = WantedKind("", "Secret")
GW_LIST = "gatewayclusters.gateway.apiconnect.ibm.com in all namespaces"


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport, "BACKOFF_BASE", 0.01)


def options(tmp_path: Path, **kwargs: Any) -> ClusterOptions:
    return ClusterOptions(kubeconfig=str(tmp_path / "kubeconfig"), **kwargs)


def settled(server: Any, expected: int) -> int:
    """The server's request log once it caught up: every request arrived and
    answered (a pending answer shows status 0)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (len(server.requests) < expected
                                           or any(r.status == 0 for r in server.requests)):
        time.sleep(0.01)
    return len(server.requests)


def synced(server: Any, read: LiveRead) -> Any:
    """The server, once its log holds every request the read made."""
    settled(server, read.requests)
    return server


def names(read: LiveRead, kind: str | None = None) -> list[str]:
    return sorted(f"{r.namespace}/{r.name}" if r.namespace else r.name
                  for r in read.resources if kind is None or r.kind == kind)


def test_discovery_first_lists_only_served_kinds(kube: Any, tmp_path: Path) -> None:
    server = kube([gateway("apic", "gw"), pod("apic", "gw-0")])
    read, _ = read_cluster(options(tmp_path), [GW, MGMT, POD])
    assert read.unavailable == [Unavailable(
        MGMT.group, "ManagementCluster", None,
        "CRD managementclusters.management.apiconnect.ibm.com is not installed")]
    assert names(read) == ["apic/gw", "apic/gw-0"]
    paths = [r.path for r in synced(server, read).requests]
    assert paths == ["/version", "/api/v1", "/apis", "/apis/gateway.apiconnect.ibm.com/v1beta1",
                     "/api/v1/pods", "/apis/gateway.apiconnect.ibm.com/v1beta1/gatewayclusters"]
    assert read.requests == len(paths)
    assert read.server_version == "v1.36.2" and read.source == "cluster://kubeapi-test"


def test_objects_keep_the_servers_json_and_point_to_the_cluster(kube: Any,
                                                                tmp_path: Path) -> None:
    kube([gateway("apic", "gw", "10.0.5.3"), pod("apic", "gw-0")])
    read, _ = read_cluster(options(tmp_path), [GW, POD])
    by_kind = {r.kind: r for r in read.resources}
    gw, gw0 = by_kind["GatewayCluster"], by_kind["Pod"]
    rv = gw.body["metadata"]["resourceVersion"]
    assert gw.origin.path == f"cluster://kubeapi-test/apic/GatewayCluster/gw?resourceVersion={rv}"
    assert gw.origin.line == 0 and gw.namespace == "apic"
    assert gw.api_version == "gateway.apiconnect.ibm.com/v1beta1"
    assert gw.body["spec"] == {"version": "10.0.5.3"}
    # Built-in list items come without apiVersion/kind: the reader fills them in.
    assert (gw0.body["apiVersion"], gw0.body["kind"]) == ("v1", "Pod")


def test_missing_core_kind_is_not_served(kube: Any, tmp_path: Path) -> None:
    kube([])
    read, _ = read_cluster(options(tmp_path), [WantedKind("", "NoSuchKind")])
    assert [u.reason for u in read.unavailable] == ["NoSuchKind is not served by this cluster"]


def test_pagination_reads_every_object_one_request_per_page(kube: Any, tmp_path: Path) -> None:
    server = kube([gateway("apic", f"gw-{i}") for i in range(5)])
    read, _ = read_cluster(options(tmp_path, page_size=2), [GW])
    assert names(read) == [f"apic/gw-{i}" for i in range(5)]
    pages = synced(server, read).lists("gatewayclusters")
    assert len(pages) == 3
    assert [p.query.get("limit") for p in pages] == ["2", "2", "2"]
    assert "continue" not in pages[0].query and all(p.query["continue"] for p in pages[1:])
    assert not read.unavailable and not read.notes


def test_expired_continue_token_restarts_the_list_once(kube: Any, tmp_path: Path) -> None:
    server = kube([gateway("apic", f"gw-{i}") for i in range(5)])
    server.inject(r"gatewayclusters\?.*continue=", 410, times=1)
    read, _ = read_cluster(options(tmp_path, page_size=2), [GW])
    assert names(read) == [f"apic/gw-{i}" for i in range(5)]  # every object once
    assert len(synced(server, read).lists("gatewayclusters")) == 2 + 3
    assert read.notes == [f"list of {GW_LIST} restarted after 410 Gone (expired continue token)"]
    assert not read.unavailable


def test_a_second_410_makes_the_list_unavailable(kube: Any, tmp_path: Path) -> None:
    server = kube([gateway("apic", f"gw-{i}") for i in range(5)])
    server.inject(r"gatewayclusters\?.*continue=", 410, times=2)
    read, _ = read_cluster(options(tmp_path, page_size=2), [GW])
    assert read.resources == []  # no partial list
    assert read.unavailable == [Unavailable(GW.group, GW.kind, None,
                                "continue token expired again after a restart (410 Gone): "
                                f"list {GW_LIST}")]


def test_real_expiry_between_pages(kube: Any, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's own 410 (every issued token expired, as after compaction)."""
    server = kube([gateway("apic", f"gw-{i}") for i in range(5)])
    real_get = transport.KubeHttp.get
    expired = []

    def get(self: transport.KubeHttp, path: str, query: Any = None) -> Any:
        if query and any(k == "continue" for k, _ in query) and not expired:
            server.expire_continue_tokens()
            expired.append(path)
        return real_get(self, path, query)

    monkeypatch.setattr(transport.KubeHttp, "get", get)
    read, _ = read_cluster(options(tmp_path, page_size=2), [GW])
    assert names(read) == [f"apic/gw-{i}" for i in range(5)]
    assert len(read.notes) == 1 and "410 Gone" in read.notes[0]


def test_malformed_continue_token_400_is_unavailable(kube: Any, tmp_path: Path) -> None:
    server = kube([gateway("apic", f"gw-{i}") for i in range(5)] + [pod("apic", "p")])
    server.inject(r"gatewayclusters\?.*continue=", 400, times=1)
    read, _ = read_cluster(options(tmp_path, page_size=2), [GW, POD])
    assert names(read) == ["apic/p"]
    [refused] = read.unavailable
    assert refused.kind == "GatewayCluster" and refused.namespace is None
    assert refused.reason.startswith(f"API error 400: list {GW_LIST} (")


def test_429_with_retry_after_then_success(kube: Any, tmp_path: Path) -> None:
    server = kube([pod("apic", "p")])
    server.inject(r"^/api/v1/pods", 429, retry_after=1, times=1)
    started = time.monotonic()
    read, _ = read_cluster(options(tmp_path), [POD])
    assert time.monotonic() - started >= 1.0  # Retry-After honoured
    assert names(read) == ["apic/p"] and not read.unavailable
    assert [r.status for r in synced(server, read).lists("pods")] == [429, 200]


def test_500_every_time_is_unavailable_after_bounded_retries(kube: Any, tmp_path: Path) -> None:
    server = kube([pod("apic", "p"), gateway("apic", "gw")])
    server.inject(r"^/api/v1/pods", 500, times=None)
    read, _ = read_cluster(options(tmp_path, retries=3), [POD, GW])
    assert read.unavailable == [Unavailable("", "Pod", None,
                                            "API error 500 after 3 retries: list pods in all "
                                            "namespaces")]
    assert len(synced(server, read).lists("pods")) == 4
    assert names(read) == ["apic/gw"]  # the other kinds are still read


def test_retry_waits_are_capped(kube: Any, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A Retry-After beyond the total budget ends the retries instead of waiting."""
    monkeypatch.setattr(transport, "MAX_TOTAL_WAIT", 2.0)
    server = kube([pod("apic", "p")])
    server.inject(r"^/api/v1/pods", 503, retry_after=60, times=None)
    started = time.monotonic()
    read, _ = read_cluster(options(tmp_path), [POD])
    assert time.monotonic() - started < 10
    assert len(synced(server, read).lists("pods")) == 1
    assert read.unavailable[0].reason == "API error 503: list pods in all namespaces"


def test_slow_answer_is_a_read_timeout_not_retried(kube: Any, tmp_path: Path) -> None:
    server = kube([pod("apic", "p"), gateway("apic", "gw")])
    server.inject(r"^/api/v1/pods", None, delay=3, times=1)
    read, _ = read_cluster(options(tmp_path, read_timeout=0.5), [POD, GW])
    assert read.unavailable == [Unavailable(
        "", "Pod", None,
        "no answer within the read timeout of 0.5 s: list pods in all namespaces")]
    # The server logs an answer after sending it: this one was never sent.
    assert read.requests == 6  # version, 3 discovery, pods once (not retried), gatewayclusters
    assert names(read) == ["apic/gw"]


def test_unreachable_cluster(kube: Any, tmp_path: Path) -> None:
    server = kube([])
    server.stop()
    read, _ = read_cluster(options(tmp_path, retries=1, connect_timeout=1), [POD, GW])
    assert [u.kind for u in read.unavailable] == ["Pod", "GatewayCluster"]
    assert all(u.reason.startswith("cluster unreachable: connection refused")
               for u in read.unavailable)
    assert read.requests == 2


def test_401_makes_everything_unavailable_with_one_reason(kube: Any, tmp_path: Path) -> None:
    from tests.kubeapi.auth import Grant
    server = kube([pod("apic", "p")], tokens={"good": Grant.admin()}, token="bad")
    read, _ = read_cluster(options(tmp_path), [POD, GW, MGMT])
    assert read.resources == []
    assert {(u.kind, u.namespace, u.reason) for u in read.unavailable} == {
        (k, None, "unauthorized (401): the credentials were refused")
        for k in ("Pod", "GatewayCluster", "ManagementCluster")}
    assert len(synced(server, read).requests) == 1 and read.requests == 1


def test_403_names_verb_resource_and_namespace(kube: Any, tmp_path: Path) -> None:
    from tests.kubeapi.auth import Grant
    grant = Grant.read([("", "pods")]) | Grant.read([("", "secrets")], "a")
    kube([pod("a", "p"), secret("a", "s", {"k": "dg=="}), secret("b", "t", {"k": "dg=="})],
         tokens={"scanner": grant}, token="scanner")
    read, _ = read_cluster(options(tmp_path, namespaces=("a", "b")), [POD, SECRET])
    assert names(read) == ["a/p", "a/s"]
    assert read.unavailable == [Unavailable("", "Secret", "b",
                                            "forbidden: list secrets in namespace b (403)")]
    read, _ = read_cluster(options(tmp_path), [SECRET])
    assert read.unavailable == [Unavailable("", "Secret", None,
                                            "forbidden: list secrets in all namespaces (403)")]


def test_namespace_selection_and_exclusion(kube: Any, tmp_path: Path) -> None:
    server = kube([gateway(ns, "gw") for ns in ("a", "b", "c")])
    read, _ = read_cluster(options(tmp_path, namespaces=("a", "b"), exclude_namespaces=("b",)),
                           [GW, WantedKind("", "Namespace")])
    assert names(read, "GatewayCluster") == ["a/gw"]
    assert [r.path for r in synced(server, read).lists("gatewayclusters")] == [
        "/apis/gateway.apiconnect.ibm.com/v1beta1/namespaces/a/gatewayclusters"]
    assert len(synced(server, read).lists("namespaces")) == 1  # cluster-scoped: listed once
    server.reset_log()
    read, _ = read_cluster(options(tmp_path, exclude_namespaces=("c",)), [GW])
    assert names(read) == ["a/gw", "b/gw"]
    assert len(synced(server, read).lists("gatewayclusters")) == 1


def test_secrets_keep_key_names_only(kube: Any, tmp_path: Path) -> None:
    value = b"pa55-w0rd-xyz"
    encoded = base64.b64encode(value).decode()
    applied = json.dumps({"apiVersion": "v1", "kind": "Secret", "data": {"password": encoded}})
    doc = secret("apic", "db", {"password": encoded, "username": base64.b64encode(b"adm1n").decode()})
    doc["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": applied}
    kube([doc])
    read, secrets = read_cluster(options(tmp_path), [SECRET])
    [found] = read.resources
    assert found.body["data"] == {"password": "", "username": ""}
    everything = repr(read) + json.dumps([r.body for r in read.resources])
    for text in (encoded, value.decode(), "adm1n", base64.b64encode(b"adm1n").decode()):
        assert text not in everything
    values = secrets.read("apic", "db")
    assert not isinstance(values, Unavailable)
    assert dict(values) == {"password": value, "username": b"adm1n"}
    assert value.decode() not in repr(values)


def test_secret_reader_refusals(kube: Any, tmp_path: Path) -> None:
    from tests.kubeapi.auth import Grant
    kube([secret("apic", "db", {"k": "dg=="})],
         tokens={"scanner": Grant.read([("", "pods")])}, token="scanner")
    _, secrets = read_cluster(options(tmp_path), [POD])
    assert secrets.read("apic", "db") == Unavailable(
        "", "Secret", "apic", "forbidden: get secrets/db in namespace apic (403)")


def test_secret_reader_missing_secret(kube: Any, tmp_path: Path) -> None:
    kube([])
    _, secrets = read_cluster(options(tmp_path), [])
    assert secrets.read("apic", "nope") == Unavailable(
        "", "Secret", "apic", "Secret apic/nope not found (404)")


@pytest.mark.parametrize("count", [10, 200])
def test_request_count_does_not_grow_with_objects(kube: Any, tmp_path: Path, count: int) -> None:
    server = kube([pod(f"ns-{i % 5}", f"p-{i}") for i in range(count)]
                  + [gateway("apic", f"gw-{i}") for i in range(count)])
    read, _ = read_cluster(options(tmp_path), [POD, GW])
    assert len(read.resources) == 2 * count
    assert read.requests == len(synced(server, read).requests) == 6  # version, discovery, 2 LISTs


def test_kubeconfig_env_and_context_selection(kube: Any, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.kubeapi.auth import Grant
    server = kube([pod("apic", "p")], tokens={"good": Grant.admin()})
    good = server.kubeconfig_dict("good", context="good")
    bad = server.kubeconfig_dict("bad", context="bad")  # current context: bad
    (tmp_path / "good.json").write_text(json.dumps(good))
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'bad.json'}:{tmp_path / 'good.json'}")
    read, _ = read_cluster(ClusterOptions(), [POD])
    assert read.source == "cluster://bad" and read.unavailable[0].reason.startswith("unauthorized")
    read, _ = read_cluster(ClusterOptions(context="good"), [POD])
    assert read.source == "cluster://good" and names(read) == ["apic/p"]
    assert read.resources[0].origin.path.startswith("cluster://good/apic/Pod/p")


def test_an_answer_that_is_not_json_is_unavailable(kube: Any, tmp_path: Path) -> None:
    """A proxy's HTML page with status 200 instead of the list."""
    server = kube([pod("apic", "p"), gateway("apic", "gw")])
    server.inject(r"^/api/v1/pods", 200, body="<html>login</html>", content_type="text/html")
    read, _ = read_cluster(options(tmp_path), [POD, GW])
    assert read.unavailable == [Unavailable(
        "", "Pod", None, "unusable answer (the answer is not JSON): list pods in all namespaces")]
    assert names(read) == ["apic/gw"]


def test_in_a_pod_the_service_account_is_used(kube: Any, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """No kubeconfig anywhere, KUBERNETES_SERVICE_HOST set: the pod's token and CA."""
    from kubernetes.config import incluster_config

    from tests.kubeapi.auth import Grant
    server = kube([pod("apic", "p")], tokens={"sa-token": Grant.read([("", "pods")])})
    (tmp_path / "token").write_text("sa-token")
    (tmp_path / "ca.crt").write_bytes(server.ca_pem)
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(tmp_path / "token"))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(tmp_path / "ca.crt"))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(server.port))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    read, _ = read_cluster(ClusterOptions(), [POD])
    assert read.source == "cluster://in-cluster" and names(read) == ["apic/p"]
    assert read.resources[0].origin.path.startswith("cluster://in-cluster/apic/Pod/p?")


def test_exec_credential_plugin_user(kube: Any, tmp_path: Path) -> None:
    """A kubeconfig user whose token comes from an exec plugin (as for EKS, GKE, OIDC
    helpers): the client runs it and the reader sends its token."""
    import sys

    from tests.kubeapi.auth import Grant
    server = kube([pod("apic", "p")], tokens={"from-exec": Grant.read([("", "pods")])})
    config = server.kubeconfig_dict(None)
    credential = json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind":
                             "ExecCredential", "status": {"token": "from-exec"}})
    config["users"][0]["user"] = {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable,
        "args": ["-c", f"print({credential!r})"], "interactiveMode": "Never"}}
    (tmp_path / "kubeconfig").write_text(json.dumps(config))
    read, _ = read_cluster(options(tmp_path), [POD])
    assert names(read) == ["apic/p"] and not read.unavailable


def test_an_openshift_context_name_stays_one_uri_segment(kube: Any, tmp_path: Path) -> None:
    """`oc login` names contexts project/server:port/user: the slashes are escaped so the
    namespace and kind segments of an origin stay where the contract puts them."""
    server = kube([pod("apic", "p")])
    context = "apic/api-ocp-example-com:6443/kube:admin"
    server.write_kubeconfig(tmp_path / "kubeconfig", "admin-token", context=context)
    read, _ = read_cluster(options(tmp_path), [POD])
    assert read.source == "cluster://apic%2Fapi-ocp-example-com:6443%2Fkube:admin"
    assert read.resources[0].origin.path.startswith(f"{read.source}/apic/Pod/p?resourceVersion=")
