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

KONG_IMAGES = ("kong", "kong/kong-gateway", "kong-gateway")


@dataclass(frozen=True)
class Setting:
    value: Any  # None when set from a Secret/ConfigMap reference
    path: JsonPath
    from_reference: bool = False
    defaulted: bool = False  # came from the chart's defaults, not the user's file


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
