"""Red Hat 3scale API Management 2.x (OpenShift Templates)."""

from checks.products.threescale import database, declarations, images

__all__ = ["database", "declarations", "images"]
