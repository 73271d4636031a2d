"""API Connect CRs declare their planned version in ``spec.version``.

10.0.0.x-era CRs used ``spec.appVersion`` (still in the 10.0.8 schema), so it
is the fallback. The highest declared version is the upgrade target.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from checks.engine.upgrade_path import Declaration, declares_target
from checks.model import Resource
from checks.objects import first_present, is_missing

APIC_KINDS = frozenset({"GatewayCluster", "ManagementCluster", "APIConnectCluster",
                        "PortalCluster", "AnalyticsCluster"})
VERSION_FIELDS = (("spec", "version"), ("spec", "appVersion"))


@declares_target("apiconnect")
def apic_versions(resources: Sequence[Resource]) -> Iterator[Declaration]:
    for resource in resources:
        if resource.kind in APIC_KINDS and resource.group.endswith("apiconnect.ibm.com"):
            value, path = first_present(resource.body, VERSION_FIELDS)
            if not is_missing(value):
                yield value, resource, path
