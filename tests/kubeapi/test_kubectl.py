"""The real kubectl works against the test API server: discovery, chunked lists, Tables, can-i."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.kubeapi import CRD, Grant, KubeAPIServer

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
pytestmark = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed on this machine")

GATEWAY = CRD(
    "gateway.apiconnect.ibm.com", "v1beta1", "GatewayCluster", "gatewayclusters", short_names=("gwc",)
)
GATEWAYS = [
    {
        "apiVersion": "gateway.apiconnect.ibm.com/v1beta1",
        "kind": "GatewayCluster",
        "metadata": {"name": f"gw{i}", "namespace": ns},
        "spec": {"version": "10.0.8.0"},
    }
    for ns in ("apic", "apic-dr")
    for i in range(3)
]
PODS = [
    {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"gw-{i}", "namespace": "x"},
        "spec": {"containers": [{"name": "datapower", "image": "datapower:10.6"}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [{"name": "datapower", "ready": True, "restartCount": i}],
        },
    }
    for i in range(2)
]
READER = Grant.read([("gateway.apiconnect.ibm.com", "gatewayclusters"), ("", "pods")]) | Grant.of(
    ("list", "", "secrets", "x")
)


def kubectl(
    server: KubeAPIServer, tmp_path: Path, token: str | None, *args: str, **kubeconfig: Any
) -> subprocess.CompletedProcess[str]:
    config = server.write_kubeconfig(tmp_path / "kubeconfig", token=token, **kubeconfig)
    env = {**os.environ, "KUBECONFIG": str(config), "HOME": str(tmp_path)}
    return subprocess.run(
        [KUBECTL, "--cache-dir", str(tmp_path / "cache"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.fixture
def server(kube_api: Callable[..., KubeAPIServer]) -> KubeAPIServer:
    return kube_api(
        GATEWAYS + PODS,
        {"reader": READER, "pods-only": Grant.read([("", "pods")], "x")},
        crds=[GATEWAY],
        client_certs={"ops-admin": READER},
    )


def test_chunked_list_across_namespaces_returns_every_object(server: KubeAPIServer, tmp_path: Path) -> None:
    done = kubectl(server, tmp_path, "reader", "get", "gatewayclusters", "-A", "--chunk-size=2", "-o", "json")
    assert done.returncode == 0, done.stderr
    names = [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in json.loads(done.stdout)["items"]]
    # etcd key order: "apic-dr/..." sorts before "apic/..." ("-" < "/").
    assert names == sorted(
        ((o["metadata"]["namespace"], o["metadata"]["name"]) for o in GATEWAYS),
        key=lambda pair: f"{pair[0]}/{pair[1]}",
    )
    assert names[0] == ("apic-dr", "gw0")
    pages = server.lists("gatewayclusters")
    assert [(p.path, p.query.get("limit"), bool(p.query.get("continue"))) for p in pages] == [
        ("/apis/gateway.apiconnect.ibm.com/v1beta1/gatewayclusters", "2", False),
        ("/apis/gateway.apiconnect.ibm.com/v1beta1/gatewayclusters", "2", True),
        ("/apis/gateway.apiconnect.ibm.com/v1beta1/gatewayclusters", "2", True),
    ]
    server.assert_read_only()


def test_get_pods_prints_the_table(server: KubeAPIServer, tmp_path: Path) -> None:
    done = kubectl(server, tmp_path, "reader", "get", "pods", "-n", "x")
    assert done.returncode == 0, done.stderr
    lines = [line.split()[:4] for line in done.stdout.splitlines()]
    assert lines == [
        ["NAME", "READY", "STATUS", "RESTARTS"],
        ["gw-0", "1/1", "Running", "0"],
        ["gw-1", "1/1", "Running", "1"],
    ]
    assert "as=Table" in server.lists("pods")[0].accept


@pytest.mark.parametrize(
    ("token", "verb", "resource", "namespace", "answer"),
    [
        ("reader", "list", "secrets", "x", "yes"),
        ("reader", "list", "secrets", "y", "no"),
        ("reader", "delete", "gatewayclusters", "y", "no"),
        ("pods-only", "list", "secrets", "x", "no"),
    ],
)
def test_auth_can_i_agrees_with_the_grant(
    server: KubeAPIServer, tmp_path: Path, token: str, verb: str, resource: str, namespace: str, answer: str
) -> None:
    done = kubectl(server, tmp_path, token, "auth", "can-i", verb, resource, "-n", namespace)
    assert (done.stdout.strip(), done.returncode) == (answer, 0 if answer == "yes" else 1), done.stderr
    server.assert_read_only()


def test_a_refused_list_is_kubectls_forbidden_error(server: KubeAPIServer, tmp_path: Path) -> None:
    done = kubectl(server, tmp_path, "pods-only", "get", "secrets", "-n", "x")
    assert done.returncode == 1
    assert (
        'secrets is forbidden: User "system:serviceaccount:upgrade-lint:scanner" cannot list resource '
        '"secrets" in API group "" in the namespace "x"'
    ) in done.stderr


@pytest.mark.parametrize(
    ("token", "kubeconfig", "user"),
    [
        ("reader", {"exec_token": True}, "system:serviceaccount:upgrade-lint:scanner"),
        (None, {"client_cert": "ops-admin"}, "ops-admin"),
    ],
)
def test_exec_plugin_and_client_certificate_users(
    server: KubeAPIServer, tmp_path: Path, token: str | None, kubeconfig: dict[str, Any], user: str
) -> None:
    done = kubectl(server, tmp_path, token, "get", "pods", "-n", "x", "-o", "name", **kubeconfig)
    assert (done.returncode, done.stdout.split()) == (0, ["pod/gw-0", "pod/gw-1"]), done.stderr
    assert {r.user for r in server.requests} == {user}


def test_auth_can_i_list_shows_the_grants_rules(server: KubeAPIServer, tmp_path: Path) -> None:
    done = kubectl(server, tmp_path, "reader", "auth", "can-i", "--list", "-n", "x")
    assert done.returncode == 0, done.stderr
    # Columns: Resources, Non-Resource URLs, Resource Names, Verbs ("[get list watch]").
    rows = {
        line.split()[0]: line[line.rindex("[") :]
        for line in done.stdout.splitlines()[1:]
        if line.strip() and not line.startswith(" ")
    }
    assert rows["secrets"] == "[list]"
    assert rows["pods"] == "[get list watch]"
    assert rows["gatewayclusters.gateway.apiconnect.ibm.com"] == "[get list watch]"
    other = kubectl(server, tmp_path, "reader", "auth", "can-i", "--list", "-n", "y")
    assert "secrets" not in other.stdout
    server.assert_read_only()
