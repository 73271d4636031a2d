"""Which Kong nodes hold configuration that a backup must cover.

A control plane or a traditional node keeps its configuration in the
database; a DB-less node in its declarative file. A hybrid data plane holds
nothing of its own: it receives the control plane's configuration, so one
backup of the control plane covers it and it never needs one itself. A DB-less
node whose declarative configuration is written in the values
(``dblessConfig.config``) is backed up by the values file.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.engine.registry import Params, object_check
from checks.engine.upgrade_path import UpgradeContext
from checks.model import Resource, Verdict
from checks.objects import is_empty, is_missing, lookup, split_path
from checks.products.backups import judge_evidence
from checks.products.kong.settings import kong_setting
from checks.sources.backups import FORMATS


@object_check("kong-config-backup", {
    "required": ["formats"],
    "additionalProperties": False,
    "properties": {
        "formats": {"type": "array", "minItems": 1, "items": {"enum": list(FORMATS)}},
        "inline_config": {"type": "array", "items": {"type": "string"},
                          "description": "values fields whose non-empty content is the "
                                         "declarative configuration itself"},
        "receives_config": {"type": "array", "items": {"type": "string"},
                            "description": "roles that get their configuration from "
                                           "another node and have nothing to back up"},
    },
}, uses_context=True)
def config_backup(resource: Resource, params: Params, ctx: UpgradeContext) -> Iterator[Verdict]:
    """A Kong node that holds configuration has a valid, fresh backup of it."""
    role = kong_setting(resource, "role")
    if role is not None and role.value in params.get("receives_config", ()):
        return
    for dotted in params.get("inline_config", ()):
        value = lookup(resource.body, split_path(dotted))
        if resource.chart == "kong" and not is_missing(value) and not is_empty(value):
            return
    yield from judge_evidence("kong", params["formats"], ctx)
