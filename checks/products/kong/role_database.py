"""Kong refuses to start with a role/database combination it does not allow.

``role: data_plane`` needs ``database: off``; ``role: control_plane`` needs a
database (Kong's conf_loader). The allowed combinations are rule params.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.engine.registry import Params, object_check
from checks.engine.upgrade_path import UpgradeContext
from checks.model import NotEvaluated, Resource, Verdict, Violation
from checks.products.kong.settings import Setting, kong_setting


def _text(setting: Setting | None, default: str) -> str:
    return default if setting is None else str(setting.value)


def _needs_a_database(role: str, params: Params) -> bool:
    return any(r["role"] == role and "database_is_not" in r for r in params["requirements"])


@object_check("kong-role-database", {
    "required": ["requirements", "defaults"],
    "additionalProperties": False,
    "properties": {
        "defaults": {
            "type": "object", "required": ["role", "database"], "additionalProperties": False,
            "properties": {"role": {"type": "string"}, "database": {"type": "string"}},
            "description": "Kong's own defaults when neither values nor env set them",
        },
        "requirements": {
            "type": "array", "minItems": 1,
            "items": {
                "type": "object", "required": ["role"], "additionalProperties": False,
                "properties": {
                    "role": {"type": "string"},
                    "database_is": {"type": "string"},
                    "database_is_not": {"type": "string"},
                },
            },
        },
    },
})
def kong_role_database(resource: Resource, params: Params,
                       ctx: UpgradeContext) -> Iterator[Verdict]:
    """The Kong role and database settings must be a combination Kong accepts."""
    role_setting = kong_setting(resource, "role")
    db_setting = kong_setting(resource, "database")
    for setting, name in ((role_setting, "role"), (db_setting, "database")):
        if setting is not None and setting.from_reference:
            yield NotEvaluated(f"{name} is read from a Secret or ConfigMap reference", setting.path)
            return
    role = _text(role_setting, params["defaults"]["role"])
    if db_setting is not None and isinstance(db_setting.value, bool):
        # An unquoted off: wrong for any role, but whether the role also needs
        # another database is this rule's question; the quoting is another rule's.
        if not _needs_a_database(role, params):
            yield NotEvaluated("database is the YAML boolean "
                               f"{str(db_setting.value).lower()} (an unquoted off); see rule "
                               "kong-database-off-unquoted", db_setting.path)
            return
        database = "off" if db_setting.value is False else "on"
    else:
        database = _text(db_setting, params["defaults"]["database"])
    for requirement in params["requirements"]:
        if requirement["role"] != role:
            continue
        must = requirement.get("database_is")
        must_not = requirement.get("database_is_not")
        if (must is not None and database != must) or (must_not is not None
                                                        and database == must_not):
            wanted = f"database {must!r}" if must is not None else f"a database other than {must_not!r}"
            explicit = db_setting is not None and not db_setting.defaulted
            source = "set" if explicit else "defaulted"
            if db_setting is not None and isinstance(db_setting.value, bool):
                source = "an unquoted off, the YAML boolean false"
            evidence = db_setting if explicit else role_setting
            path = evidence.path if evidence is not None else ()
            yield Violation(f"role {role!r} needs {wanted} but database is {database!r} "
                            f"({source}); Kong will refuse to start", path,
                            observed={"role": role, "database": database},
                            expected=wanted)
