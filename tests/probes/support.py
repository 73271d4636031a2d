"""Cluster objects and a Secret reader for the probes' tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.model import Origin, Resource
from checks.sources.live.model import Unavailable

CONTEXT = "admin/api-ocp-example:6443/kube:admin"  # OpenShift contexts hold slashes
USERNAME = "admin"
PASSWORD = "dp-Pa55w0rd-never-shown"
SECRET = ("apic", "gateway-admin-secret")


def pod(name: str, ip: str | None, *, namespace: str = "apic", phase: str = "Running",
        owner: str | None = "gwv6", datapower: bool = True, installation: str | None = None) -> Resource:
    labels: dict[str, str] = {"app.kubernetes.io/name": "datapower"}
    if datapower:
        labels["crd.apiconnect.ibm.com/kind"] = "datapower"
    if installation:
        labels["upgrade-lint.io/installation"] = installation
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": labels,
                                "resourceVersion": "42"}
    if owner:
        metadata["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": owner,
                                        "uid": "0b1e", "controller": True}]
    status: dict[str, Any] = {"phase": phase}
    if ip:
        status["podIP"] = ip
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "status": status}
    origin = Origin(path=f"cluster://{CONTEXT}/{namespace}/Pod/{name}?resourceVersion=42", line=0)
    return Resource("v1", "Pod", name, body, origin, namespace)


class FakeSecrets:
    """A ``SecretReader``: the Secrets it holds, and the reads it was asked for."""

    def __init__(self, secrets: Mapping[tuple[str, str], Mapping[str, bytes]]) -> None:
        self.secrets = secrets
        self.reads: list[tuple[str, str]] = []

    def read(self, namespace: str, name: str) -> Mapping[str, bytes] | Unavailable:
        self.reads.append((namespace, name))
        if (namespace, name) not in self.secrets:
            return Unavailable("", "Secret", namespace, f'secrets "{name}" not found (404)')
        return self.secrets[(namespace, name)]


def admin_secret() -> FakeSecrets:
    return FakeSecrets({SECRET: {"username": USERNAME.encode(), "password": PASSWORD.encode()}})
