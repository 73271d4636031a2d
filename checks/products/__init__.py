"""Check templates, generic and per product. Importing registers them all."""

from checks.products import (
    api7,
    apiconnect,
    backups,
    config,
    env_source,
    fields,
    helm_values,
    kong,
    kubernetes,
    plugins,
    threescale,
    version_checks,
    version_order,
)

__all__ = ["api7", "apiconnect", "backups", "config", "env_source", "fields", "helm_values",
           "kong", "kubernetes", "plugins", "threescale", "version_checks", "version_order"]
