"""Kong Gateway: hybrid-mode settings read from Helm values or rendered pods."""

from checks.products.kong import declarations, hybrid, role_database

__all__ = ["declarations", "hybrid", "role_database"]
