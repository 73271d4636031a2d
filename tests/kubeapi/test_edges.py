"""Edges of the test API server a cluster reader meets: kubeconfig loading, TLS, discovery, 404s."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config, dynamic

from tests.kubeapi import CRD, Grant, KubeAPIServer, guess_plural

Start = Callable[..., KubeAPIServer]
POLICY = {
    "apiVersion": "policy.example.io/v1",
    "kind": "GatewayPolicy",
    "metadata": {"name": "p1", "namespace": "kong"},
    "spec": {"x": 1},
}
CLUSTER_WIDE = {
    "apiVersion": "velero.io/v1",
    "kind": "BackupStorageLocation",
    "metadata": {"name": "default"},
}
POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "gw-0", "namespace": "apic"},
    "status": {"phase": "Running"},
}


def raw(
    server: KubeAPIServer,
    path: str,
    token: str | None = "admin",
    accept: str = "application/json",
    method: str = "GET",
) -> tuple[int, str, str]:
    request = urllib.request.Request(server.url + path, method=method, headers={"Accept": accept})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    context = ssl.create_default_context(cafile=server.ca_file)
    try:
        with urllib.request.urlopen(request, context=context, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


@pytest.fixture
def server(kube_api: Start) -> KubeAPIServer:
    return kube_api(
        [POD, POLICY, CLUSTER_WIDE],
        {"admin": Grant.admin()},
        crds=[CRD("velero.io", "v1", "Backup", "backups")],
    )


@pytest.mark.parametrize(
    ("kind", "plural"),
    [
        ("Pod", "pods"),
        ("Ingress", "ingresses"),
        ("GatewayPolicy", "gatewaypolicies"),
        ("Endpoints", "endpointses"),
    ],
)
def test_plural_is_guessed_like_the_apiserver(kind: str, plural: str) -> None:
    assert guess_plural(kind) == plural


def test_objects_of_undeclared_groups_imply_their_crds(server: KubeAPIServer) -> None:
    resources = json.loads(raw(server, "/apis/policy.example.io/v1")[2])["resources"]
    assert [(r["name"], r["namespaced"]) for r in resources] == [
        ("gatewaypolicies", True),
        ("gatewaypolicies/status", True),
    ]
    velero = {
        r["name"]: r["namespaced"] for r in json.loads(raw(server, "/apis/velero.io/v1")[2])["resources"]
    }
    assert velero == {
        "backups": True,
        "backups/status": True,
        "backupstoragelocations": False,
        "backupstoragelocations/status": False,
    }
    crds = json.loads(raw(server, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions")[2])
    assert sorted(c["metadata"]["name"] for c in crds["items"]) == [
        "backups.velero.io",
        "backupstoragelocations.velero.io",
        "gatewaypolicies.policy.example.io",
    ]
    listed = json.loads(raw(server, "/apis/velero.io/v1/backupstoragelocations")[2])
    assert [o["metadata"]["name"] for o in listed["items"]] == ["default"]
    assert "namespace" not in listed["items"][0]["metadata"]


@pytest.mark.parametrize(
    ("credentials", "user"),
    [
        ({"token": "admin"}, "kubernetes-admin"),
        ({"token": "admin", "embed_ca": False}, "kubernetes-admin"),
        ({"token": "admin", "exec_token": True}, "kubernetes-admin"),
        ({"client_cert": "cert-admin"}, "cert-admin"),
    ],
)
def test_kubeconfig_loads_with_the_kubernetes_client(
    kube_api: Start, tmp_path: Path, credentials: dict[str, Any], user: str
) -> None:
    server = kube_api([POD], {"admin": Grant.admin()}, client_certs={"cert-admin": Grant.admin()})
    path = server.write_kubeconfig(tmp_path / "kubeconfig", context="lab", namespace="apic", **credentials)
    api = client.CoreV1Api(config.new_client_from_config(config_file=str(path), context="lab"))
    assert [p.metadata.name for p in api.list_namespaced_pod("apic").items] == ["gw-0"]
    assert config.list_kube_config_contexts(str(path))[1]["context"]["namespace"] == "apic"
    assert [r.user for r in server.requests] == [user]


def test_a_client_certificate_without_a_grant_is_a_user_without_permissions(
    kube_api: Start, tmp_path: Path
) -> None:
    server = kube_api([POD], {"admin": Grant.admin()})
    path = server.write_kubeconfig(tmp_path / "kubeconfig", client_cert="stranger")
    api = client.CoreV1Api(config.new_client_from_config(config_file=str(path)))
    with pytest.raises(client.ApiException) as refused:
        api.list_namespaced_pod("apic")
    assert json.loads(refused.value.body)["message"].startswith(
        'pods is forbidden: User "stranger" cannot list'
    )


def test_json_only_server_says_so_to_a_protobuf_only_client(server: KubeAPIServer) -> None:
    status, _, body = raw(server, "/api/v1/pods", accept="application/vnd.kubernetes.protobuf")
    assert (status, json.loads(body)["reason"]) == (406, "NotAcceptable")
    assert (
        raw(server, "/api/v1/pods", accept="application/vnd.kubernetes.protobuf,application/json")[0] == 200
    )
    assert raw(server, "/api/v1/pods", accept="*/*")[0] == 200


@pytest.mark.parametrize(
    ("include", "object_kind"), [("Object", "Pod"), ("None", None), ("Metadata", "PartialObjectMetadata")]
)
def test_table_include_object(server: KubeAPIServer, include: str, object_kind: str | None) -> None:
    status, _, body = raw(
        server,
        f"/api/v1/namespaces/apic/pods?includeObject={include}",
        accept="application/json;as=Table;v=v1;g=meta.k8s.io",
    )
    row = json.loads(body)["rows"][0]
    assert (status, row.get("object", {}).get("kind")) == (200, object_kind)


def test_dynamic_client_discovers_and_lists(server: KubeAPIServer) -> None:
    dyn = dynamic.DynamicClient(client.ApiClient(server.client_configuration("admin")))
    policies = dyn.resources.get(api_version="policy.example.io/v1", kind="GatewayPolicy")
    assert [o.metadata.name for o in policies.get(namespace="kong").items] == ["p1"]
    pods = dyn.resources.get(api_version="v1", kind="Pod")
    assert pods.namespaced and [o.metadata.name for o in pods.get().items] == ["gw-0"]


def test_tls_is_real_a_client_without_the_ca_is_refused(server: KubeAPIServer) -> None:
    configuration = server.client_configuration("admin")
    configuration.ssl_ca_cert = None
    configuration.retries = False
    with pytest.raises(client.ApiException) as refused:
        client.CoreV1Api(client.ApiClient(configuration)).list_namespaced_pod("apic")
    assert refused.value.status == 0  # no HTTP answer: the TLS handshake failed
    assert server.requests == []
    assert [
        p.metadata.name
        for p in client.CoreV1Api(client.ApiClient(server.client_configuration("admin")))
        .list_namespaced_pod("apic")
        .items
    ] == ["gw-0"]


@pytest.mark.parametrize(
    ("path", "status", "content_type", "message"),
    [
        (
            "/apis/management.apiconnect.ibm.com/v1beta1/namespaces/apic/managementclusters",
            404,
            "text/plain; charset=utf-8",
            None,
        ),
        ("/apis/management.apiconnect.ibm.com", 404, "text/plain; charset=utf-8", None),
        ("/apis/velero.io/v2/backups", 404, "text/plain; charset=utf-8", None),
        ("/apis/velero.io/v1/restores", 404, "text/plain; charset=utf-8", None),
        (
            "/apis/apps/v1/namespaces/apic/widgets",
            404,
            "application/json",
            "the server could not find the requested resource",
        ),
        ("/api/v1/namespaces/apic/pods/gw-9", 404, "application/json", 'pods "gw-9" not found'),
        (
            "/apis/velero.io/v1/namespaces/apic/backups/daily",
            404,
            "application/json",
            'backups.velero.io "daily" not found',
        ),
        ("/api/v1/namespaces/apic/pods?labelSelector=a%20in%20(b", 400, "application/json", None),
        ("/api/v1/namespaces/apic/pods?watch=1", 405, "application/json", None),
    ],
)
def test_errors_have_the_apiservers_form(
    server: KubeAPIServer, path: str, status: int, content_type: str, message: str | None
) -> None:
    got_status, got_type, body = raw(server, path)
    assert (got_status, got_type) == (status, content_type)
    if content_type == "application/json":
        document = json.loads(body)
        assert (document["kind"], document["code"]) == ("Status", status)
        if message:
            assert document["message"] == message
    else:
        assert body == "404 page not found\n"


def test_anonymous_requests(kube_api: Start) -> None:
    strict = kube_api([POD], {"admin": Grant.admin()})
    assert raw(strict, "/api/v1/pods", token=None)[0] == 401
    assert raw(strict, "/version", token=None)[0] == 401
    open_server = kube_api([POD], {"admin": Grant.admin()}, allow_anonymous=True)
    status, _, body = raw(open_server, "/api/v1/namespaces/apic/pods", token=None)
    assert (status, json.loads(body)["message"]) == (
        403,
        'pods is forbidden: User "system:anonymous" cannot list '
        'resource "pods" in API group "" in the namespace "apic"',
    )
    assert raw(open_server, "/version", token=None)[0] == 200
    assert raw(open_server, "/apis", token=None)[0] == 403


def test_pod_table_has_kubectls_columns(server: KubeAPIServer) -> None:
    status, _, body = raw(
        server, "/api/v1/namespaces/apic/pods/gw-0", accept="application/json;as=Table;v=v1;g=meta.k8s.io"
    )
    document = json.loads(body)
    assert status == 200
    assert [c["name"] for c in document["columnDefinitions"]] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
        "IP",
        "Node",
    ]
    assert document["rows"][0]["cells"][:4] == ["gw-0", "0/0", "Running", 0]
    assert document["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_selector_makes_remaining_count_unknown(kube_api: Start) -> None:
    pods: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"p{i}", "namespace": "n", "labels": {"k": "v"}},
        }
        for i in range(4)
    ]
    server = kube_api(pods, {"admin": Grant.admin()})
    plain = json.loads(raw(server, "/api/v1/pods?limit=3")[2])["metadata"]
    selected = json.loads(raw(server, "/api/v1/pods?limit=3&labelSelector=k%3Dv")[2])["metadata"]
    assert (plain.get("remainingItemCount"), "remainingItemCount" in selected) == (1, False)
    assert selected["continue"]


def test_five_thousand_objects_page_in_ten_lists(kube_api: Start) -> None:
    objects = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"cm-{i:04d}", "namespace": f"ns-{i % 50:02d}"},
            "data": {"k": "v"},
        }
        for i in range(5000)
    ]
    server = kube_api(objects, {"admin": Grant.admin()})
    api = client.CoreV1Api(client.ApiClient(server.client_configuration("admin")))
    seen, token = 0, None
    while True:
        page = api.list_config_map_for_all_namespaces(limit=500, _continue=token)
        seen += len(page.items)
        token = page.metadata._continue
        if not token:
            break
    assert (seen, len(server.lists("configmaps"))) == (5000, 10)


def test_an_injected_html_page_is_answered_as_given(server: KubeAPIServer) -> None:
    """What a proxy in front of the apiserver sends when the apiserver is down."""
    server.inject(
        r"^/api/v1/pods", status=502, body="<html><h1>502 Bad Gateway</h1></html>", content_type="text/html"
    )
    assert raw(server, "/api/v1/pods") == (502, "text/html", "<html><h1>502 Bad Gateway</h1></html>")
    assert raw(server, "/api/v1/pods")[0] == 200
