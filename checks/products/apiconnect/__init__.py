"""IBM API Connect (DataPower gateway) on Kubernetes/OpenShift."""

from checks.products.apiconnect import declarations

__all__ = ["declarations"]
