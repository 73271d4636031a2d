"""Kong hybrid mode as the control plane sees it: its data planes' sync state.

The probes record ``GET /clustering/data-planes`` of each control plane's
Admin API in a ``KongClusterStatus`` object, with ``probedAt``, the probe's
clock. ``sync_status`` is written by a data plane when it reports in and is
not re-evaluated when it goes silent, so a stale ``last_seen`` (epoch
seconds) is judged against ``probedAt``, never the scanner's own clock.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from checks.engine.registry import Params, object_check
from checks.engine.upgrade_path import Declaration, UpgradeContext, declares_current
from checks.model import NotEvaluated, Resource, Severity, Verdict, Violation
from checks.objects import lookup
from checks.products.timestamps import describe_age, epoch_seconds
from checks.sources.live.model import PROBE_GROUP


def _who(plane: Mapping[str, object], index: int) -> str:
    name = plane.get("hostname") or plane.get("id") or f"dataPlanes[{index}]"
    version = f" (version {plane['version']})" if plane.get("version") else ""
    return f"{name}{version}"


@object_check("kong-data-plane-sync", {
    "required": ["blocking_suffix", "stale_after_seconds"],
    "additionalProperties": False,
    "properties": {
        "blocking_suffix": {"type": "string", "minLength": 1,
                            "description": "sync_status values ending in this block"},
        "unknown": {"type": "array", "items": {"type": "string"}, "default": ["unknown"]},
        "stale_after_seconds": {"type": "number", "exclusiveMinimum": 0},
    },
})
def data_plane_sync(resource: Resource, params: Params, ctx: UpgradeContext
                    ) -> Iterator[Verdict]:
    """Every data plane is in sync with the control plane, and was seen recently."""
    planes = resource.body.get("dataPlanes")
    if not isinstance(planes, list):
        yield NotEvaluated("the control plane's data-plane list was not recorded", ())
        return
    probed = epoch_seconds(resource.body.get("probedAt"))
    stale = float(params["stale_after_seconds"])
    unknown = set(params.get("unknown", ["unknown"]))
    for i, plane in enumerate(planes):
        if not isinstance(plane, Mapping):
            continue
        status = plane.get("sync_status")
        who = _who(plane, i)
        if isinstance(status, str) and status.endswith(params["blocking_suffix"]):
            yield Violation(f"data plane {who} is {status}: the control plane cannot send it "
                            "configuration", ("dataPlanes", i, "sync_status"), observed=status,
                            expected="normal")
            continue
        if status in unknown:
            yield Violation(f"data plane {who} has sync_status {status}: the control plane "
                            "has not confirmed it is compatible",
                            ("dataPlanes", i, "sync_status"), observed=status,
                            expected="normal", severity=Severity.WARNING)
            continue
        seen = epoch_seconds(plane.get("last_seen"))
        if probed is None or seen is None:
            continue
        if probed - seen > stale:
            yield Violation(f"data plane {who} was last seen {describe_age(probed - seen)} "
                            f"before the probe (more than {stale:g} s): it is not connected, "
                            "and its sync_status is stale",
                            ("dataPlanes", i, "last_seen"), observed=plane.get("last_seen"),
                            expected=f"within {stale:g} s of probedAt",
                            severity=Severity.WARNING)


@declares_current("kong")
def control_plane_versions(resources: Sequence[Resource]) -> Iterator[Declaration]:
    """What a probed control plane runs (``node.version`` of ``GET /``), and its
    data planes (``dataPlanes[].version``): the running Kong versions."""
    for resource in resources:
        if resource.kind != "KongClusterStatus" or resource.group != PROBE_GROUP:
            continue
        version = lookup(resource.body, ("node", "version"))
        if isinstance(version, str) and version:
            yield version, resource, ("node", "version")
        planes = resource.body.get("dataPlanes")
        for i, plane in enumerate(planes if isinstance(planes, list) else []):
            if isinstance(plane, Mapping) and isinstance(plane.get("version"), str):
                yield plane["version"], resource, ("dataPlanes", i, "version")
