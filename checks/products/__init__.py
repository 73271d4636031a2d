"""Check templates, generic and per product. Importing registers them all."""

from checks.products import api7, apiconnect, env_source, fields, kong, threescale, version_order

__all__ = ["api7", "apiconnect", "env_source", "fields", "kong", "threescale", "version_order"]
