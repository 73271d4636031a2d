"""Declarative gateway configuration files (no apiVersion/kind).

API7's ADC files (``adc sync -f``) and Kong's decK / ``kong config db_export``
files sit in the same repositories as manifests. They are recognised by their
top-level keys and scanned as pseudo-objects of ``upgrade-lint.io/v1`` so
rules can look inside them (a ``traffic-split`` plugin on an API7 route).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ADC_KIND = "ADCConfig"
DECK_KIND = "KongDeclarativeConfig"
_ADC_KEYS = frozenset({"services", "ssls", "consumers", "consumer_groups", "global_rules",
                       "plugin_metadata", "routes", "upstreams", "stream_routes", "plugins"})
_ENTITY_KEYS = frozenset({"services", "global_rules", "consumers", "routes"})


def detect_kind(document: Mapping[str, Any]) -> str | None:
    """``KongDeclarativeConfig`` (has ``_format_version``), ``ADCConfig`` or None."""
    if "_format_version" in document:
        return DECK_KIND
    keys = set(document)
    if keys & _ENTITY_KEYS and keys <= _ADC_KEYS:
        return ADC_KIND
    return None
