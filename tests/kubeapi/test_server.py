"""The test API server with the real `kubernetes` Python client: paging, selectors, auth, faults."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import urllib3
from kubernetes import client

from tests.kubeapi import CRD, Grant, KubeAPIServer

GATEWAY = CRD("gateway.apiconnect.ibm.com", "v1beta1", "GatewayCluster", "gatewayclusters")
BACKUP = CRD("management.apiconnect.ibm.com", "v1beta1", "ManagementBackup", "managementbackups")


def pod(name: str, namespace: str, phase: str = "Running", **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "i"}]},
        "status": {"phase": phase},
    }


PODS = [pod(f"gw-{i}", "apic", "Running" if i != 2 else "Pending", app="gw") for i in range(5)] + [
    pod("other", "kong", app="kong")
]


def core(server: KubeAPIServer, token: str = "admin") -> client.CoreV1Api:
    return client.CoreV1Api(client.ApiClient(server.client_configuration(token)))


@pytest.fixture
def server(kube_api: Callable[..., KubeAPIServer]) -> KubeAPIServer:
    return kube_api(
        PODS, {"admin": Grant.admin(), "pods": Grant.read([("", "pods")], "apic")}, crds=[GATEWAY, BACKUP]
    )


def test_paginated_list_returns_each_object_once_with_real_list_metadata(server: KubeAPIServer) -> None:
    api, names, token, pages = core(server), [], None, []
    while True:
        page = api.list_namespaced_pod("apic", limit=2, _continue=token)
        pages.append((len(page.items), page.metadata.remaining_item_count))
        names += [p.metadata.name for p in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert names == ["gw-0", "gw-1", "gw-2", "gw-3", "gw-4"]
    assert pages == [(2, 3), (2, 1), (1, None)]
    assert len(server.lists("pods")) == 3


def test_selectors_filter_like_the_apiserver(server: KubeAPIServer) -> None:
    api = core(server)
    running = api.list_pod_for_all_namespaces(field_selector="status.phase=Running", label_selector="app=gw")
    assert [p.metadata.name for p in running.items] == ["gw-0", "gw-1", "gw-3", "gw-4"]
    by_name = api.list_pod_for_all_namespaces(field_selector="metadata.name=other")
    assert [(p.metadata.namespace, p.metadata.name) for p in by_name.items] == [("kong", "other")]
    sets = api.list_pod_for_all_namespaces(label_selector="app in (kong, nothing),!missing")
    assert [p.metadata.name for p in sets.items] == ["other"]
    with pytest.raises(client.ApiException) as refused:
        api.list_pod_for_all_namespaces(field_selector="spec.unknown=x")
    assert (refused.value.status, json.loads(refused.value.body)["message"]) == (
        400,
        "field label not supported: spec.unknown",
    )


def test_crd_with_no_objects_is_served_and_listed_empty(server: KubeAPIServer) -> None:
    api = client.CustomObjectsApi(client.ApiClient(server.client_configuration("admin")))
    listed = api.list_namespaced_custom_object(
        "management.apiconnect.ibm.com", "v1beta1", "apic", "managementbackups"
    )
    assert (listed["kind"], listed["items"], listed["metadata"]["continue"]) == (
        "ManagementBackupList",
        [],
        "",
    )
    groups = client.ApisApi(client.ApiClient(server.client_configuration("admin"))).get_api_versions()
    assert {"gateway.apiconnect.ibm.com", "management.apiconnect.ibm.com", "apps"} <= {
        g.name for g in groups.groups
    }


def test_unknown_or_missing_token_is_401_and_a_refused_read_is_403(server: KubeAPIServer) -> None:
    for token in ("wrong", None):
        with pytest.raises(client.ApiException) as unauthorized:
            core(server, token).list_namespaced_pod("apic")  # type: ignore[arg-type]
        assert unauthorized.value.status == 401
    with pytest.raises(client.ApiException) as forbidden:
        core(server, "pods").list_namespaced_pod("kong")
    assert json.loads(forbidden.value.body)["message"] == (
        'pods is forbidden: User "system:serviceaccount:upgrade-lint:scanner" cannot list resource "pods" '
        'in API group "" in the namespace "kong"'
    )
    assert [r.status for r in server.requests] == [401, 401, 403]


def test_expired_continue_token_is_410_with_a_fresh_token(server: KubeAPIServer) -> None:
    api = core(server)
    first = api.list_namespaced_pod("apic", limit=2)
    server.expire_continue_tokens()
    with pytest.raises(client.ApiException) as gone:
        api.list_namespaced_pod("apic", limit=2, _continue=first.metadata._continue)
    status = json.loads(gone.value.body)
    assert (gone.value.status, status["reason"]) == (410, "Expired")
    rest = api.list_namespaced_pod("apic", limit=10, _continue=status["metadata"]["continue"])
    assert [p.metadata.name for p in rest.items] == ["gw-2", "gw-3", "gw-4"]
    with pytest.raises(client.ApiException) as malformed:
        api.list_namespaced_pod("apic", limit=2, _continue="not-a-valid-token")
    assert malformed.value.status == 400


def no_retry_client(server: KubeAPIServer) -> client.CoreV1Api:
    """urllib3 on its own retries reads and 429/503 with Retry-After; these tests look at one answer."""
    config = server.client_configuration("admin")
    config.retries = False
    return client.CoreV1Api(client.ApiClient(config))


def test_injected_faults_answer_then_stop(server: KubeAPIServer) -> None:
    fault = server.inject(r"/namespaces/apic/pods", status=429, times=2, retry_after=1)
    api = no_retry_client(server)
    for _ in range(2):
        with pytest.raises(client.ApiException) as throttled:
            api.list_namespaced_pod("apic")
        assert (throttled.value.status, throttled.value.headers["Retry-After"]) == (429, "1")
        assert json.loads(throttled.value.body)["details"] == {"retryAfterSeconds": 1}
    assert len(api.list_namespaced_pod("apic").items) == 5
    assert fault.hits == 2
    assert [r.status for r in server.lists("pods")] == [429, 429, 200]


@pytest.mark.parametrize(("status", "reason"), [(500, "InternalError"), (503, "ServiceUnavailable")])
def test_injected_server_errors_are_status_json(server: KubeAPIServer, status: int, reason: str) -> None:
    server.inject(r"continue=|limit=", status=status)
    with pytest.raises(client.ApiException) as failed:
        no_retry_client(server).list_namespaced_pod("apic", limit=2)
    assert (failed.value.status, json.loads(failed.value.body)["reason"]) == (status, reason)
    assert no_retry_client(server).list_namespaced_pod("apic", limit=2).items


def test_urllib3_retries_429_with_retry_after_on_its_own(server: KubeAPIServer) -> None:
    """What a scanner built on the kubernetes client gets by default (the cluster reader must count it)."""
    server.inject(r"/pods", status=429, times=2, retry_after=0)
    assert len(core(server).list_namespaced_pod("apic").items) == 5
    assert [r.status for r in server.lists("pods")] == [429, 429, 200]


def test_slow_answer_trips_the_client_read_timeout(server: KubeAPIServer) -> None:
    server.inject(r"/pods", delay=5.0, times=1)  # the stop interrupts the wait
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        no_retry_client(server).list_namespaced_pod("apic", _request_timeout=(2, 0.2))
    assert [(r.path, r.status) for r in server.requests] == [("/api/v1/namespaces/apic/pods", 0)]
    assert len(core(server).list_namespaced_pod("apic").items) == 5


def test_writes_are_refused_and_recorded(server: KubeAPIServer) -> None:
    api = core(server)
    with pytest.raises(client.ApiException) as refused:
        api.delete_namespaced_pod("gw-0", "apic")
    assert refused.value.status == 405
    with pytest.raises(client.ApiException) as forbidden:
        core(server, "pods").create_namespaced_config_map("apic", {"metadata": {"name": "x"}})
    assert forbidden.value.status == 403
    assert [(w.method, w.path, w.status) for w in server.writes] == [
        ("DELETE", "/api/v1/namespaces/apic/pods/gw-0", 405),
        ("POST", "/api/v1/namespaces/apic/configmaps", 403),
    ]
    with pytest.raises(AssertionError):
        server.assert_read_only()


def test_a_dropped_connection_gets_no_answer(server: KubeAPIServer) -> None:
    fault = server.inject(r"/pods", drop=True, times=1)
    with pytest.raises(urllib3.exceptions.ProtocolError):
        no_retry_client(server).list_namespaced_pod("apic")
    assert fault.hits == 1
    assert [(r.path, r.status) for r in server.requests] == [("/api/v1/namespaces/apic/pods", 0)]
    assert len(core(server).list_namespaced_pod("apic").items) == 5
