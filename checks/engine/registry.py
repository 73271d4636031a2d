"""Check templates, registered by key.

A template is a plain function plus the JSON Schema of the ``params`` a rule
gives it. Rules (YAML) choose a template and its params; templates hold the
logic and no product constants. Two scopes:

- ``object``: sees one Resource at a time (most checks);
- ``set``: sees every Resource the rule applies to in the whole scan
  (version skew between components, pairing, backups). Its violations name
  the Resource they belong to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from checks.engine.upgrade_path import UpgradeContext
from checks.model import Resource, Verdict

Params = Mapping[str, Any]
ObjectCheck = Callable[[Resource, Params, UpgradeContext], Iterable[Verdict]]
SetCheck = Callable[[Sequence[Resource], Params, UpgradeContext], Iterable[Verdict]]
Scope = Literal["object", "set"]
AssumedTarget = Callable[[Params], "tuple[str, str] | None"]


@dataclass(frozen=True)
class CheckTemplate:
    key: str
    scope: Scope
    func: Callable[..., Iterable[Verdict]]
    params_schema: Mapping[str, Any] = field(default_factory=dict)
    #: Reads the UpgradeContext (versions, backups). Templates that do not can
    #: be evaluated before the whole scan's context is known (``--jobs``).
    uses_context: bool = False
    #: The (product, version) the template judges against when no target of
    #: that product is given (the Kubernetes API removals: the newest release
    #: in the rule's table), so that every report can say so.
    assumes_target: AssumedTarget | None = None

    @property
    def summary(self) -> str:
        doc = (self.func.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""


_TEMPLATES: dict[str, CheckTemplate] = {}


def _register(key: str, scope: Scope, schema: Mapping[str, Any],
              func: Callable[..., Iterable[Verdict]], uses_context: bool = False,
              assumes_target: AssumedTarget | None = None) -> None:
    known = _TEMPLATES.get(key)
    # A module imported again (pytester restores sys.modules between runs)
    # re-registers the same function; two different functions under one key
    # is a programming error.
    if known is not None and (known.func.__module__, known.func.__qualname__) != (
            func.__module__, func.__qualname__):
        raise RuntimeError(f"check template {key!r} registered twice")
    _TEMPLATES[key] = CheckTemplate(key, scope, func, {"type": "object", **schema}, uses_context,
                                    assumes_target)


def object_check(key: str, params_schema: Mapping[str, Any], *, uses_context: bool = False,
                 assumes_target: AssumedTarget | None = None
                 ) -> Callable[[ObjectCheck], ObjectCheck]:
    def decorate(func: ObjectCheck) -> ObjectCheck:
        _register(key, "object", params_schema, func, uses_context, assumes_target)
        return func
    return decorate


def set_check(key: str, params_schema: Mapping[str, Any], *, uses_context: bool = False
              ) -> Callable[[SetCheck], SetCheck]:
    def decorate(func: SetCheck) -> SetCheck:
        _register(key, "set", params_schema, func, uses_context)
        return func
    return decorate


def get_template(key: str) -> CheckTemplate | None:
    _load_builtin_templates()
    return _TEMPLATES.get(key)


def templates() -> Mapping[str, CheckTemplate]:
    _load_builtin_templates()
    return dict(_TEMPLATES)


def _load_builtin_templates() -> None:
    """Import the product packages once so their decorators register."""
    import checks.products  # noqa: F401  (import for its registrations)
