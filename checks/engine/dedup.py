"""One finding per offending field.

Two ways one field used to get several findings:

- a generic rule and a specific one both report it (``plaintext-credential-env``
  and ``3scale-mysql-plaintext-credentials`` on ``MYSQL_PASSWORD``). A rule
  lists the specific rules in ``defer_to``; its violations on a field one of
  them reports on the same object (the same JSON path, or one enclosing the
  other) are left to that rule;
- a YAML anchor expanded in many places (``env: *common`` in eleven
  containers) is one field in the file, at the anchor. The loader builds one
  Python object for an anchored node and its aliases, so a violation whose
  field lives in a container object that an earlier violation of the same rule
  already reported (same file, same document) is a repeat, reported once, at
  the anchor's lines.

Both are decided per object rule and per object, from what that rule and the
rules it defers to say about the objects at hand: the answer does not depend
on how ``--jobs`` shares the files out (a document is never split).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from checks.engine.catalog import Catalog, Rule
from checks.engine.registry import get_template
from checks.engine.upgrade_path import ScanContext
from checks.model import JsonPath, Resource, Violation
from checks.objects import lookup

#: (file, document, id of the object holding the field, the field's key)
FieldKey = tuple[str, int, int, str | int]


def _encloses(a: JsonPath, b: JsonPath) -> bool:
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    return longer[:len(shorter)] == shorter


#: Does a rule apply to the installation of an object (its path, its kind)?
AppliesTo = Callable[[Rule, Resource], bool]


def _reports(other: Rule, resource: Resource, ctx: ScanContext,
             applies_to: AppliesTo) -> list[JsonPath]:
    """The paths ``other`` reports on ``resource`` (none when it would not run)."""
    if other.mode == "live" or not other.applies(resource) or not applies_to(other, resource):
        return []
    template = get_template(other.check)
    if template is None or template.scope != "object":  # the catalog rules both out
        return []
    return [v.path for v in template.func(resource, other.params, ctx.for_resource(resource))
            if isinstance(v, Violation)]


def left_to_specific_rules(rule: Rule, resource: Resource, violations: Sequence[Violation],
                           catalog: Catalog, ctx: ScanContext,
                           applies_to: AppliesTo) -> list[Violation]:
    """``violations`` without those on a field a rule of ``rule.defer_to`` reports."""
    taken = [path for other_id in rule.defer_to
             if (other := catalog.get(other_id)) is not None
             for path in _reports(other, resource, ctx, applies_to)]
    if not taken:
        return list(violations)
    return [v for v in violations if not any(_encloses(v.path, path) for path in taken)]


def _holder(body: Any, path: JsonPath) -> object | None:
    """The container object that holds the field at ``path`` (None if absent)."""
    node = lookup(body, path[:-1])
    return node if isinstance(node, (Mapping, list)) else None


class OnePerField:
    """One rule's evaluation: keeps, of each object's violations, those that are
    neither left to a more specific rule nor repeats (through a YAML alias) of a
    field this rule already reported."""

    def __init__(self, rule: Rule, catalog: Catalog, ctx: ScanContext,
                 applies_to: AppliesTo) -> None:
        self.rule, self.catalog, self.ctx, self.applies_to = rule, catalog, ctx, applies_to
        #: each field reported, and the (object, path) it was first reported at
        self.seen: dict[FieldKey, tuple[int, JsonPath]] = {}

    def keep(self, resource: Resource, violations: list[Violation]) -> list[Violation]:
        if not violations:
            return violations
        if self.rule.defer_to:
            violations = left_to_specific_rules(self.rule, resource, violations, self.catalog,
                                                self.ctx, self.applies_to)
        return [v for v in violations if not self._repeat(resource, v)]

    def _repeat(self, resource: Resource, violation: Violation) -> bool:
        if not violation.path:
            return False
        holder = _holder(resource.body, violation.path)
        if holder is None:
            return False
        key = (resource.origin.path, resource.origin.doc_index, id(holder), violation.path[-1])
        first = self.seen.setdefault(key, (id(resource), violation.path))
        # The same object and path again is the rule's own second finding on that
        # field (one per flag of an embedded file, say), not an alias.
        return first != (id(resource), violation.path)
