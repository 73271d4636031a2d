"""API7 Enterprise as it runs: the version its dashboard reports.

The probes record ``GET /api/version`` of each dashboard (``{"value":
"3.7.3"}``) in an ``API7DashboardStatus`` object; that is the control plane's
running version (the current version of its installation). ``dev`` builds
report ``dev``, which is no version and is left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from checks.engine.upgrade_path import Declaration, declares_current
from checks.model import Resource
from checks.sources.live.model import PROBE_GROUP


@declares_current("api7")
def dashboard_versions(resources: Sequence[Resource]) -> Iterator[Declaration]:
    for resource in resources:
        if resource.kind == "API7DashboardStatus" and resource.group == PROBE_GROUP:
            version = resource.body.get("version")
            if isinstance(version, str) and version and version != "dev":
                yield version, resource, ("version",)
