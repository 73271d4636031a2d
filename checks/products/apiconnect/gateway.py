"""Gateway CR settings that matter during a rolling upgrade: replicas, preStop, certs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from checks.engine.registry import Params, object_check
from checks.engine.upgrade_path import UpgradeContext
from checks.model import JsonPath, NotEvaluated, Resource, Severity, Verdict, Violation
from checks.objects import expand, is_missing, lookup

_PROFILE_REPLICAS = re.compile(r"^n(\d+)x")


def _gateway_spec(resource: Resource) -> tuple[JsonPath, Any]:
    """The gateway's spec: the CR's own, or ``spec.gateway`` of an APIConnectCluster."""
    if resource.kind == "APIConnectCluster":
        return ("spec", "gateway"), lookup(resource.body, ("spec", "gateway"))
    return ("spec",), lookup(resource.body, ("spec",))


@object_check("apic-gateway-replicas", {
    "required": ["minimum"],
    "additionalProperties": False,
    "properties": {"minimum": {"type": "integer", "minimum": 1}},
})
def gateway_replicas(resource: Resource, params: Params, ctx: UpgradeContext) -> Iterator[Verdict]:
    """A production gateway runs at least ``minimum`` replicas (replicaCount, else profile nN)."""
    use = lookup(resource.body, ("spec", "license", "use"))
    if use != "production":
        return
    base, spec = _gateway_spec(resource)
    spec = spec if isinstance(spec, dict) else {}
    replicas, path, source = spec.get("replicaCount"), (*base, "replicaCount"), "replicaCount"
    if replicas is None:
        profile = lookup(resource.body, ("spec", "profile"))
        match = _PROFILE_REPLICAS.match(profile) if isinstance(profile, str) else None
        if match is None:
            yield NotEvaluated("neither replicaCount nor an nN profile gives the replica count",
                               ("spec",))
            return
        replicas, path, source = int(match.group(1)), ("spec", "profile"), f"profile {profile}"
    if isinstance(replicas, int) and replicas < params["minimum"]:
        yield Violation(f"production gateway runs {replicas} replica(s) ({source}); at least "
                        f"{params['minimum']} are needed to keep serving while one pod at a time "
                        "is upgraded", path, observed=replicas, expected=f">= {params['minimum']}")


def _sleep_seconds(pre_stop: Any) -> int | None:
    """Seconds a preStop hook sleeps: ``sleep.seconds`` or an exec ``sleep N``."""
    seconds = lookup(pre_stop, ("sleep", "seconds"))
    if isinstance(seconds, int):
        return seconds
    command = lookup(pre_stop, ("exec", "command"))
    if isinstance(command, list):
        match = re.search(r"\bsleep\s+(\d+)", " ".join(str(c) for c in command))
        if match:
            return int(match.group(1))
    return None


@object_check("prestop-hook", {
    "required": ["default_grace_seconds"],
    "additionalProperties": False,
    "properties": {"default_grace_seconds": {"type": "integer", "minimum": 0}},
})
def prestop_hook(resource: Resource, params: Params, ctx: UpgradeContext) -> Iterator[Verdict]:
    """A preStop hook exists and sleeps less than the termination grace period."""
    base, spec = _gateway_spec(resource)
    if not isinstance(spec, dict):
        return
    pre_stop = lookup(spec, ("lifecycle", "preStop"))
    if is_missing(pre_stop) or not pre_stop:
        yield Violation("no spec.lifecycle.preStop hook: in-flight API calls fail when a gateway "
                        "pod is replaced", base)
        return
    seconds = _sleep_seconds(pre_stop)
    grace = spec.get("terminationGracePeriodSeconds", params["default_grace_seconds"])
    if seconds is not None and isinstance(grace, int) and seconds >= grace:
        yield Violation(f"the preStop hook sleeps {seconds}s, not less than "
                        f"terminationGracePeriodSeconds {grace}s: the pod is killed before it "
                        "can drain", (*base, "lifecycle", "preStop"), observed=seconds,
                        expected=f"< {grace}", severity=Severity.WARNING)


@object_check("apic-legacy-certificates", {
    "required": ["legacy_group", "names", "annotation_prefix", "annotation_paths"],
    "additionalProperties": False,
    "properties": {
        "legacy_group": {"type": "string"},
        "names": {"type": "array", "items": {"type": "string"}},
        "annotation_prefix": {"type": "string"},
        "annotation_paths": {"type": "array", "items": {"type": "string"},
                             "description": "wildcard paths of annotation maps on the CRs"},
    },
})
def legacy_certificates(resource: Resource, params: Params,
                        ctx: UpgradeContext) -> Iterator[Verdict]:
    """Legacy cert-manager Certificates (blocker) or annotations (warning) remain."""
    if resource.group == params["legacy_group"]:
        if resource.kind == "Certificate" and resource.name in params["names"]:
            yield Violation(f"legacy {resource.api_version} Certificate {resource.name!r} still "
                            "exists; delete it before changing the gateway version",
                            ("apiVersion",), observed=resource.api_version)
        return
    for path, found in (hit for pattern in params["annotation_paths"]
                        for hit in expand(resource.body, pattern)):
        if not isinstance(found, dict):
            continue
        for key in found:
            if str(key).startswith(params["annotation_prefix"]):
                yield Violation(f"annotation {key} uses the legacy cert-manager group; use "
                                f"{str(key).replace(params['annotation_prefix'], 'cert-manager.io/')}",
                                (*path, key), observed=key, severity=Severity.WARNING)
