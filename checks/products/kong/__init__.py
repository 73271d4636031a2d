"""Kong Gateway: hybrid-mode settings read from Helm values or rendered pods."""

from checks.products.kong import backup, declarations, hybrid, live, role_database

__all__ = ["backup", "declarations", "hybrid", "live", "role_database"]
