"""Gateway CR settings that matter during a rolling upgrade: replicas, preStop, certs."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from typing import Any

from checks.engine.registry import Params, object_check, set_check
from checks.engine.upgrade_path import UpgradeContext
from checks.model import (
    JsonPath,
    NotEvaluated,
    Resource,
    Severity,
    Verdict,
    Violation,
    format_json_path,
)
from checks.objects import describe, expand, is_missing, is_unresolved, lookup

_PROFILE_REPLICAS = re.compile(r"^n(\d+)x")
_GATEWAY_KINDS = frozenset({"GatewayCluster", "APIConnectCluster"})


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
    use_path = ("spec", "license", "use")
    use = lookup(resource.body, use_path)
    if is_unresolved(resource, use_path, use):
        yield NotEvaluated(f"spec.license.use holds an unrendered placeholder {use!r}: whether "
                           "the gateway is licensed for production is unknown", use_path)
        return
    if use != "production":
        return
    base, spec = _gateway_spec(resource)
    spec = spec if isinstance(spec, dict) else {}
    replicas, path, source = spec.get("replicaCount"), (*base, "replicaCount"), "replicaCount"
    if replicas is not None and is_unresolved(resource, path, replicas):
        yield NotEvaluated(f"{format_json_path(path)} holds an unrendered placeholder "
                           f"{replicas!r}", path)
        return
    if replicas is None:
        profile_path = ("spec", "profile")
        profile = lookup(resource.body, profile_path)
        if is_unresolved(resource, profile_path, profile):
            yield NotEvaluated(f"spec.profile holds an unrendered placeholder {profile!r} and "
                               "no replicaCount is set", profile_path)
            return
        match = _PROFILE_REPLICAS.match(profile) if isinstance(profile, str) else None
        if match is None:
            yield NotEvaluated("neither replicaCount nor an nN profile gives the replica count",
                               ("spec",))
            return
        replicas, path, source = int(match.group(1)), profile_path, f"profile {profile}"
    if isinstance(replicas, bool) or not isinstance(replicas, int):
        yield NotEvaluated(f"{format_json_path(path)} is {describe(replicas)}, not a number of "
                           "replicas", path)
        return
    if replicas < params["minimum"]:
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
    hook_path = (*base, "lifecycle", "preStop")
    pre_stop = lookup(spec, ("lifecycle", "preStop"))
    if is_missing(pre_stop) or not pre_stop:
        yield Violation("no spec.lifecycle.preStop hook: in-flight API calls fail when a gateway "
                        "pod is replaced", base)
        return
    if is_unresolved(resource, hook_path, pre_stop):
        yield NotEvaluated(f"{format_json_path(hook_path)} holds an unrendered placeholder "
                           f"{pre_stop!r}", hook_path)
        return
    seconds = _sleep_seconds(pre_stop)
    command = lookup(pre_stop, ("exec", "command"))
    if seconds is None and isinstance(command, list) and any(
            is_unresolved(resource, (*hook_path, "exec", "command", i), part)
            for i, part in enumerate(command)):
        yield NotEvaluated(f"the preStop command holds an unrendered placeholder "
                           f"({' '.join(map(str, command))}): how long it sleeps is unknown",
                           (*hook_path, "exec", "command"))
        return
    grace_path = (*base, "terminationGracePeriodSeconds")
    grace = spec.get("terminationGracePeriodSeconds", params["default_grace_seconds"])
    if seconds is not None and is_unresolved(resource, grace_path, grace):
        yield NotEvaluated(f"{format_json_path(grace_path)} holds an unrendered placeholder "
                           f"{grace!r}: whether the {seconds}s preStop sleep fits in it is "
                           "unknown", grace_path)
        return
    if seconds is not None and isinstance(grace, int) and seconds >= grace:
        yield Violation(f"the preStop hook sleeps {seconds}s, not less than "
                        f"terminationGracePeriodSeconds {grace}s: the pod is killed before it "
                        "can drain", (*base, "lifecycle", "preStop"), observed=seconds,
                        expected=f"< {grace}", severity=Severity.WARNING)


def _same_place(a: Resource, b: Resource) -> bool:
    """Would these two objects land in the same namespace?

    Both name one: the namespaces agree. Either has none (``kubectl apply -n``
    decides it): they sit in the same directory, as one installation's
    manifests do."""
    if a.namespace and b.namespace:
        return a.namespace == b.namespace
    return os.path.dirname(a.origin.path) == os.path.dirname(b.origin.path)


@set_check("apic-legacy-certificates", {
    "required": ["legacy_group", "names", "annotation_prefix", "annotation_paths"],
    "additionalProperties": False,
    "properties": {
        "legacy_group": {"type": "string"},
        "names": {"type": "array", "items": {"type": "string"}},
        "annotation_prefix": {"type": "string"},
        "annotation_paths": {"type": "array", "items": {"type": "string"},
                             "description": "wildcard paths of annotation maps on the CRs"},
    },
}, uses_context=True)
def legacy_certificates(resources: Sequence[Resource], params: Params,
                        ctx: UpgradeContext) -> Iterator[Verdict]:
    """Legacy cert-manager Certificates in the gateway's namespace (blocker), or
    legacy annotations on the gateway CRs (warning)."""
    # Gateways of other installations count too: a Certificate beside none of
    # them is not in a gateway's namespace (the engine groups by installation).
    everywhere = [*resources, *(r for group in ctx.elsewhere.values() for r in group)]
    gateways = [r for r in everywhere if r.kind in _GATEWAY_KINDS]
    for resource in resources:
        if resource.group == params["legacy_group"]:
            if resource.kind == "Certificate" and resource.name in params["names"]:
                yield from _legacy_certificate(resource, gateways)
        elif resource.kind in _GATEWAY_KINDS:
            yield from _legacy_annotations(resource, params)


def _legacy_certificate(cert: Resource, gateways: Sequence[Resource]) -> Iterator[Verdict]:
    where = (f"in the gateway's namespace {cert.namespace}" if cert.namespace else
             "next to the gateway CR (same directory, no namespace given)")
    if not gateways:
        yield NotEvaluated(f"legacy Certificate {cert.name!r}: no GatewayCluster or "
                           "APIConnectCluster in the scan, so whether it is in the gateway's "
                           "namespace is unknown", ("metadata",), cert)
    elif any(_same_place(cert, gateway) for gateway in gateways):
        yield Violation(f"legacy {cert.api_version} Certificate {cert.name!r} still exists "
                        f"{where}; delete it before changing the gateway version",
                        ("apiVersion",), observed=cert.api_version, resource=cert)


def _legacy_annotations(resource: Resource, params: Params) -> Iterator[Verdict]:
    for path, found in (hit for pattern in params["annotation_paths"]
                        for hit in expand(resource.body, pattern)):
        if not isinstance(found, dict):
            continue
        for key in found:
            if str(key).startswith(params["annotation_prefix"]):
                yield Violation(f"annotation {key} uses the legacy cert-manager group; use "
                                f"{str(key).replace(params['annotation_prefix'], 'cert-manager.io/')}",
                                (*path, key), observed=key, severity=Severity.WARNING,
                                resource=resource)
