"""Helm values documents: which chart they belong to, merged over its defaults.

A values file has no ``apiVersion``/``kind``. We recognise the three charts
the rules know by their content (or the user names the chart with
``--values CHART=FILE``), then merge the file over the chart defaults that
rules depend on, with Helm's coalescing rules: maps merge key by key, user
values win, lists and scalars replace, and a user ``null`` deletes the key.
That way a Kong values file that omits ``env.database`` is checked with the
chart's ``"off"``, exactly what ``helm install`` would render.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import yaml

from checks.model import JsonPath

HELM_API_VERSION = "upgrade-lint.io/v1"
HELM_KIND = "HelmValues"

#: Names users may give on the command line -> canonical chart id.
CHART_ALIASES = {
    "kong": "kong",
    "api7ee3": "api7ee3",
    "api7": "api7ee3",
    "api7-gateway": "api7-gateway",
    "gateway": "api7-gateway",
}
CHARTS = ("kong", "api7ee3", "api7-gateway")

_KONG_ENV_KEYS = frozenset({"database", "role", "cluster_control_plane", "cluster_cert",
                            "cluster_cert_key", "pg_host", "prefix", "proxy_listen"})
_KONG_TOP_KEYS = frozenset({"proxy", "admin", "ingressController", "migrations", "dblessConfig",
                            "enterprise", "cluster", "clustertelemetry", "manager", "portal"})


def canonical_chart(name: str) -> str | None:
    return CHART_ALIASES.get(name.strip().lower())


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def detect_chart(values: Mapping[str, Any]) -> str | None:
    """Recognise a values document by the keys only that chart has."""
    if any(isinstance(values.get(k), Mapping) for k in ("dashboard", "dp_manager",
                                                         "developer_portal")):
        return "api7ee3"
    if isinstance(values.get("apisix"), Mapping):
        return "api7-gateway"
    image = _mapping(values.get("image"))
    repository = image.get("repository")
    if isinstance(repository, str) and repository.rpartition("/")[2] in ("kong", "kong-gateway"):
        return "kong"
    if _KONG_ENV_KEYS & set(_mapping(values.get("env"))):
        return "kong"
    if len(_KONG_TOP_KEYS & set(values)) >= 2:
        return "kong"
    return None


@cache
def chart_defaults() -> Mapping[str, Mapping[str, Any]]:
    text = resources.files("checks.sources").joinpath("chart_defaults.yaml").read_text("utf-8")
    loaded = yaml.safe_load(text)
    return loaded if isinstance(loaded, dict) else {}


def coalesce(user: Mapping[str, Any], defaults: Mapping[str, Any],
             taken: set[JsonPath] | None = None, path: JsonPath = ()) -> dict[str, Any]:
    """Helm's merge of user values over chart defaults.

    ``taken`` collects the paths whose value came from the defaults, so a
    finding can say "(chart default)" and point at the user's nearest key.
    """
    merged: dict[str, Any] = {}
    for key, default in defaults.items():
        if key not in user:
            merged[key] = default
            if taken is not None:
                taken.add((*path, key))
    for key, value in user.items():
        if value is None:
            continue  # null removes a default in Helm
        default = defaults.get(key)
        if isinstance(value, Mapping) and isinstance(default, Mapping):
            merged[key] = coalesce(value, default, taken, (*path, key))
        else:
            merged[key] = value
    return merged


def with_defaults(chart: str, values: Mapping[str, Any]
                  ) -> tuple[dict[str, Any], frozenset[JsonPath]]:
    """The values Helm would render with, and which paths came from defaults."""
    taken: set[JsonPath] = set()
    merged = coalesce(values, chart_defaults().get(chart, {}), taken)
    return merged, frozenset(taken)
