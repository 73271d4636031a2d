"""API7 Enterprise: control plane (chart api7ee3) and gateways (chart gateway)."""

from checks.products.api7 import declarations, etcd_tls, live

__all__ = ["declarations", "etcd_tls", "live"]
