"""IBM API Connect (DataPower gateway) on Kubernetes/OpenShift."""

from checks.products.apiconnect import declarations, gateway, licensing

__all__ = ["declarations", "gateway", "licensing"]
