"""3scale declares its release in ConfigMap ``system-environment`` (AMP_RELEASE)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from checks.engine.upgrade_path import Declaration, declares_target
from checks.model import Resource
from checks.objects import lookup


@declares_target("3scale")
def threescale_versions(resources: Sequence[Resource]) -> Iterator[Declaration]:
    for resource in resources:
        if resource.kind == "ConfigMap" and resource.name == "system-environment":
            release = lookup(resource.body, ("data", "AMP_RELEASE"))
            if isinstance(release, str) and release and "${" not in release:
                yield release, resource, ("data", "AMP_RELEASE")
