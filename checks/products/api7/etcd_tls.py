"""Gateway-to-control-plane TLS settings of the API7 gateway chart.

The upgrade guide's helm command (API7 Enterprise 3.7.x, "Upgrade Data
Plane") enables ``etcd.auth.tls`` with a Secret and file
names and points ``etcd.host`` at the dp-manager over https; an upgrade that
re-renders the chart with half of these set leaves gateways unable to reach
the control plane.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checks.engine.redact import without_userinfo
from checks.engine.registry import Params, object_check
from checks.engine.upgrade_path import UpgradeContext
from checks.model import Resource, Severity, Verdict, Violation
from checks.objects import is_missing, lookup
from checks.products.helm_values import go_truthy

_TLS = ("etcd", "auth", "tls")


def _shown(value: Any) -> str:
    return "true" if value is True else repr(value)


@object_check("api7-etcd-tls", {
    "required": ["required_fields"],
    "additionalProperties": False,
    "properties": {"required_fields": {"type": "array", "items": {"type": "string"}}},
})
def etcd_tls(resource: Resource, params: Params, ctx: UpgradeContext) -> Iterator[Verdict]:
    """With etcd TLS enabled: Secret and file names set, https hosts, verify on."""
    enabled = lookup(resource.body, (*_TLS, "enabled"))
    if is_missing(enabled) or not go_truthy(enabled):
        return  # the chart's `{{ if .Values.etcd.auth.tls.enabled }}` renders no TLS
    for name in params["required_fields"]:
        value = lookup(resource.body, (*_TLS, name))
        if not isinstance(value, str) or not value.strip():
            yield Violation(f"etcd.auth.tls.enabled is {_shown(enabled)} but "
                            f"etcd.auth.tls.{name} is empty",
                            (*_TLS, name), expected="a non-empty value")
    hosts = lookup(resource.body, ("etcd", "host"))
    for index, host in enumerate(hosts if isinstance(hosts, list) else []):
        if not (isinstance(host, str) and host.startswith("https://")):
            shown = without_userinfo(host) if isinstance(host, str) else host
            yield Violation(f"etcd.host[{index}] {shown!r} is not https:// although TLS is "
                            "enabled", ("etcd", "host", index), observed=shown,
                            expected="https://...")
    verify = lookup(resource.body, (*_TLS, "verify"))
    # The chart prints the value into the gateway's config.yaml (`verify: {{ ... }}`),
    # so the string "false" turns verification off just like the boolean.
    if verify is False or (isinstance(verify, str) and verify.strip().lower() == "false"):
        yield Violation("etcd.auth.tls.verify is false: the gateway does not verify the "
                        "control plane's certificate", (*_TLS, "verify"), observed=verify,
                        expected=True, severity=Severity.WARNING)
