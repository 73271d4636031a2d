"""Kubernetes itself: removed API versions, unrendered placeholders."""

from checks.products.kubernetes import api_removals, placeholders

__all__ = ["api_removals", "placeholders"]
