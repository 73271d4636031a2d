"""IBM API Connect (DataPower gateway) on Kubernetes/OpenShift."""

from checks.products.apiconnect import declarations, gateway, licensing, live, live_peering

__all__ = ["declarations", "gateway", "licensing", "live", "live_peering"]
