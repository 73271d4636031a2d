"""Kong hybrid-mode and release settings beyond role/database.

Each template reads settings through ``kong_setting`` so Helm values and
rendered workloads give the same verdict.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping

from checks.engine.registry import Params, object_check
from checks.engine.upgrade_path import UpgradeContext
from checks.model import NotEvaluated, Resource, Verdict, Violation
from checks.objects import lookup
from checks.products.kong.settings import Setting, kong_container, kong_setting


def _text(setting: Setting | None, default: str) -> str:
    return default if setting is None or setting.value is None else str(setting.value)


_NAMES = {"type": "array", "items": {"type": "string"}}


@object_check("kong-env-boolean", {
    "additionalProperties": False,
    "properties": {
        "string_settings": {**_NAMES, "description": "settings Kong reads as strings, where "
                                                    "on/off is a word (names or globs such "
                                                    "as *_log); other settings are left "
                                                    "alone: Kong, and Kong Enterprise, parse "
                                                    "many more as booleans"},
        "flag_settings": {**_NAMES, "description": "settings Kong parses as nginx on/off "
                                                  "flags: 'false' reads as off, but 'true' "
                                                  "too (only 'on' is on)"},
        "database_roles": {**_NAMES, "description": "roles that need a database: their "
                                                   "unquoted off is a wrong value, not a "
                                                   "quoting slip"},
    },
})
def env_boolean(resource: Resource, params: Params, ctx: UpgradeContext) -> Iterator[Verdict]:
    """``env.*`` of Kong values is a YAML boolean where Kong expects a string."""
    env = resource.body.get("env")
    if resource.chart != "kong" or not isinstance(env, Mapping):
        return
    strings = params.get("string_settings", ())
    flags = set(params.get("flag_settings", ()))
    for key, value in env.items():
        path = ("env", key)
        if not isinstance(value, bool) or resource.is_defaulted(path):
            continue
        if key in flags:
            if value is False:
                continue  # an nginx flag's "false" is off, as meant
        elif not any(fnmatch.fnmatchcase(str(key), pattern) for pattern in strings):
            continue  # a boolean setting (or one not known to be a string): read right
        word, rendered = ("off", "false") if value is False else ("on", "true")
        found = (f"env.{key} is the YAML boolean {rendered} (an unquoted {word}?); Helm "
                 f"renders KONG_{str(key).upper()}={rendered}")
        role = kong_setting(resource, "role")
        if key == "database" and role is not None and role.value in params.get(
                "database_roles", ()):
            yield Violation(f"{found}, and a {role.value} needs a database: set "
                            "env.database to postgres (quoting 'off' would not start it "
                            "either)", path, observed=value, expected="postgres")
        elif key in flags:
            yield Violation(f"{found}, which Kong reads as off: quote it", path,
                            observed=value, expected=f'"{word}"')
        else:
            yield Violation(f"{found}, which Kong does not read as {word!r}: quote it", path,
                            observed=value, expected=f'"{word}"')


def _trusts_system_store(resource: Resource) -> bool:
    """``lua_ssl_trusted_certificate`` lists ``system``: no cluster CA needed."""
    trusted = kong_setting(resource, "lua_ssl_trusted_certificate")
    if trusted is None or not isinstance(trusted.value, str):
        return False
    return "system" in (part.strip() for part in trusted.value.split(","))


@object_check("kong-dp-cluster-settings", {
    "required": ["required"],
    "additionalProperties": False,
    "properties": {
        "required": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "pki_requires": {"type": "array", "items": {"type": "string"}},
    },
})
def dp_cluster_settings(resource: Resource, params: Params,
                        ctx: UpgradeContext) -> Iterator[Verdict]:
    """A data plane has its control-plane address and cluster certificates."""
    role = kong_setting(resource, "role")
    if role is None or role.value != "data_plane":
        return
    needed = list(params["required"])
    mtls = kong_setting(resource, "cluster_mtls")
    if mtls is not None and mtls.value == "pki" and not _trusts_system_store(resource):
        needed += params.get("pki_requires", [])
    missing = [name for name in needed
               if (s := kong_setting(resource, name)) is None
               or (not s.from_reference and s.value in (None, ""))]
    if missing:
        yield Violation(f"data plane lacks {', '.join(missing)}: it cannot connect to its "
                        "control plane", role.path, observed=missing)


def _kong_default_database(resource: Resource) -> Setting | None:
    """A workload without ``KONG_DATABASE`` runs Kong's default, postgres.

    (The chart always renders ``KONG_DATABASE``; its values default to "off".)
    """
    if resource.chart == "kong":
        return None
    container = kong_container(resource)
    if container is None:
        return None
    return Setting("postgres", container.path)


@object_check("kong-rolling-upgrade", {
    "additionalProperties": False,
    "properties": {},
})
def rolling_upgrade(resource: Resource, params: Params, ctx: UpgradeContext) -> Iterator[Verdict]:
    """A traditional node with a database would be upgraded by a rolling update."""
    role = _text(kong_setting(resource, "role"), "traditional")
    database = kong_setting(resource, "database")
    implicit = database is None
    if implicit:
        database = _kong_default_database(resource)
    if role != "traditional" or database is None or database.value in ("off", None, False):
        return
    shown = repr(database.value) + (" (Kong's default: no KONG_DATABASE)" if implicit else "")
    if resource.chart == "kong":
        strategy_path: tuple[str, ...] = ("updateStrategy", "type")
    else:
        strategy_path = ("spec", "strategy", "type")
    strategy = lookup(resource.body, strategy_path)
    if strategy in (None, "RollingUpdate") or not isinstance(strategy, str):
        how = "the default RollingUpdate strategy" if strategy is None or not isinstance(
            strategy, str) else "updateStrategy RollingUpdate"
        yield Violation(f"traditional node with database {shown} is upgraded with "
                        f"{how}; Kong's rolling upgrade applies to DB-less nodes and hybrid data "
                        "planes only: use a dual-cluster (blue/green) or in-place upgrade",
                        database.path, observed={"role": role, "database": database.value})


@object_check("kong-migrations", {
    "additionalProperties": False,
    "properties": {},
})
def migrations(resource: Resource, params: Params, ctx: UpgradeContext) -> Iterator[Verdict]:
    """A database-backed release keeps the chart's migration hooks on."""
    if resource.chart != "kong":
        return
    database = kong_setting(resource, "database")
    if database is None or database.value in ("off", False, None):
        return
    if isinstance(database.value, bool):
        yield NotEvaluated("env.database is a YAML boolean", database.path)
        return
    for hook in ("preUpgrade", "postUpgrade"):
        if lookup(resource.body, ("migrations", hook)) is False:
            yield Violation(f"migrations.{hook} is false on a release with database "
                            f"{database.value!r}: `kong migrations "
                            f"{'up' if hook == 'preUpgrade' else 'finish'}` will not run",
                            ("migrations", hook), observed=False, expected=True)
