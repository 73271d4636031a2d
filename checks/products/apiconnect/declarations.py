"""API Connect CRs declare their planned version in ``spec.version``, and the
operator reports the running one in ``status.versions.reconciled``.

10.0.0.x-era CRs used ``spec.appVersion`` (still in the 10.0.8 schema), so it
is the fallback. The highest declared version is the upgrade target; the
lowest reconciled version (exported CRs carry their status) is what runs now.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from checks.engine.upgrade_path import Declaration, declares_current, declares_target
from checks.model import Resource
from checks.objects import first_present, is_missing

APIC_KINDS = frozenset({"GatewayCluster", "ManagementCluster", "APIConnectCluster",
                        "PortalCluster", "AnalyticsCluster"})
VERSION_FIELDS = (("spec", "version"), ("spec", "appVersion"))
RECONCILED = ("status", "versions", "reconciled")


def _apic_crs(resources: Sequence[Resource]) -> Iterator[Resource]:
    for resource in resources:
        if resource.kind in APIC_KINDS and resource.group.endswith("apiconnect.ibm.com"):
            yield resource


@declares_target("apiconnect")
def apic_versions(resources: Sequence[Resource]) -> Iterator[Declaration]:
    for resource in _apic_crs(resources):
        value, path = first_present(resource.body, VERSION_FIELDS)
        if not is_missing(value):
            yield value, resource, path


@declares_current("apiconnect")
def apic_reconciled(resources: Sequence[Resource]) -> Iterator[Declaration]:
    for resource in _apic_crs(resources):
        value, path = first_present(resource.body, (RECONCILED,))
        if not is_missing(value) and value not in (None, ""):
            yield value, resource, path
