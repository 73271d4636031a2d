"""A test API server per test and the ClusterOptions that reach it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

ADMIN_TOKEN = "admin-token"


def gateway(namespace: str, name: str, version: str = "10.0.8.0") -> dict[str, Any]:
    return {"apiVersion": "gateway.apiconnect.ibm.com/v1beta1", "kind": "GatewayCluster",
            "metadata": {"name": name, "namespace": namespace}, "spec": {"version": version}}


def pod(namespace: str, name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            "status": {"phase": "Running"}}


def secret(namespace: str, name: str, data: Mapping[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": namespace}, "data": dict(data)}


@pytest.fixture
def kube(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """``kube(objects, tokens=None)`` starts a test API server (admin token
    ADMIN_TOKEN unless tokens are given) and writes ``tmp_path/kubeconfig``.
    Every server is checked for writes when the test ends: there must be none."""
    from tests.kubeapi.auth import Grant
    from tests.kubeapi.server import KubeAPIServer

    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    servers: list[Any] = []

    def start(objects: Iterable[Mapping[str, Any]] = (), tokens: Mapping[str, Any] | None = None,
              token: str = ADMIN_TOKEN, **kwargs: Any) -> Any:
        server = KubeAPIServer(objects, dict(tokens) if tokens is not None
                               else {ADMIN_TOKEN: Grant.admin()}, **kwargs).start()
        servers.append(server)
        server.write_kubeconfig(tmp_path / "kubeconfig", token)
        return server

    yield start
    for server in servers:
        try:
            server.assert_read_only()
        finally:
            server.stop()
