"""One way to read a Kong setting, wherever it is configured.

The Kong chart turns ``env.<key>`` values into ``KONG_<KEY>`` env vars of the
container named ``proxy``. Reading both through one accessor is what makes a
values file and its ``helm template`` output give the same verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from checks.model import JsonPath, Resource
from checks.objects import Container, containers, env_vars, image_matches
from checks.products.helm_values import go_truthy

KONG_IMAGES = ("kong", "kong/kong-gateway", "kong-gateway")

#: What the chart's cert-manager integration sets on the ``proxy`` container
#: (Kong/charts ``_helpers.tpl``, ``kong.env``) when ``certificates.enabled``,
#: ``certificates.cluster.enabled`` (default true) and ``cluster.enabled`` hold.
#: The user's own ``env.*`` still wins over these.
CERT_MANAGER_CLUSTER_ENV = {
    "cluster_mtls": "pki",
    "cluster_ca_cert": "/etc/cert-manager/cluster/ca.crt",
    "cluster_cert": "/etc/cert-manager/cluster/tls.crt",
    "cluster_cert_key": "/etc/cert-manager/cluster/tls.key",
}


@dataclass(frozen=True)
class Setting:
    value: Any  # None when set from a Secret/ConfigMap reference
    path: JsonPath
    from_reference: bool = False
    defaulted: bool = False  # came from the chart's defaults, not the user's file
    generated: bool = False  # set by the chart's templates from other values


def chart_generates_cluster_certificate(resource: Resource) -> bool:
    """The chart's cert-manager integration issues and mounts the cluster certificate."""
    certificates = resource.body.get("certificates")
    cluster = resource.body.get("cluster")
    if not isinstance(certificates, Mapping) or not isinstance(cluster, Mapping):
        return False
    own = certificates.get("cluster")
    own_enabled = own.get("enabled", True) if isinstance(own, Mapping) else True
    return (go_truthy(certificates.get("enabled")) and go_truthy(own_enabled)
            and go_truthy(cluster.get("enabled")))


def kong_container(resource: Resource, container_name: str = "proxy",
                   images: Sequence[str] = KONG_IMAGES) -> Container | None:
    """The Kong container: named ``proxy`` (chart), else the one running Kong."""
    candidates = list(containers(resource))
    for container in candidates:
        if container.name == container_name:
            return container
    for container in candidates:
        image = container.spec.get("image")
        if isinstance(image, str) and image_matches(image, images):
            return container
    return None


def kong_setting(resource: Resource, name: str, container_name: str = "proxy") -> Setting | None:
    """``env.<name>`` of Kong values, or ``KONG_<NAME>`` of the Kong container."""
    if resource.chart == "kong":
        env = resource.body.get("env")
        if isinstance(env, Mapping) and name in env:
            path = ("env", name)
            return Setting(env[name], path, defaulted=resource.is_defaulted(path))
        if name in CERT_MANAGER_CLUSTER_ENV and chart_generates_cluster_certificate(resource):
            return Setting(CERT_MANAGER_CLUSTER_ENV[name], ("certificates",), generated=True)
        return None
    container = kong_container(resource, container_name)
    if container is None:
        return None
    env_name = "KONG_" + name.upper()
    for var in env_vars(container):
        if var.name == env_name:
            if var.has_literal:
                return Setting(var.literal, (*var.path, "value"))
            return Setting(None, var.path, from_reference=True)
    return None
