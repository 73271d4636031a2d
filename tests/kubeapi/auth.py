"""Bearer-token authentication and RBAC-like authorization for the test API server.

A token maps to a Grant: the user name the apiserver would report and a set of rules
(verb, API group, resource, namespace-or-None). A rule with namespace None applies in every
namespace and at the cluster scope (a ClusterRoleBinding); a rule with a namespace applies only
there (a RoleBinding). "*" matches any verb, group or resource, as in RBAC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

READ_VERBS = ("get", "list", "watch")


@dataclass(frozen=True)
class Rule:
    verb: str
    group: str
    resource: str
    namespace: str | None = None

    def allows(self, verb: str, group: str, resource: str, namespace: str | None) -> bool:
        return (
            self.verb in ("*", verb)
            and self.group in ("*", group)
            and self.resource in ("*", resource)
            and (self.namespace is None or self.namespace == namespace)
        )


@dataclass(frozen=True)
class Grant:
    """What one token may do. Build with the helpers: Grant.read(...), Grant.admin()."""

    rules: frozenset[Rule] = frozenset()
    user: str = "system:serviceaccount:upgrade-lint:scanner"
    groups: tuple[str, ...] = field(default=("system:serviceaccounts", "system:authenticated"))

    def allows(self, verb: str, group: str, resource: str, namespace: str | None) -> bool:
        return any(rule.allows(verb, group, resource, namespace) for rule in self.rules)

    @classmethod
    def of(
        cls,
        *rules: tuple[str, str, str, str | None] | Rule,
        user: str = "system:serviceaccount:upgrade-lint:scanner",
    ) -> Grant:
        """Grant.of(("list", "", "pods", "apic"), ...): rules as (verb, group, resource, namespace)."""
        return cls(frozenset(r if isinstance(r, Rule) else Rule(*r) for r in rules), user)

    @classmethod
    def read(
        cls,
        resources: Iterable[tuple[str, str]],
        namespace: str | None = None,
        *,
        verbs: Iterable[str] = READ_VERBS,
        user: str = "system:serviceaccount:upgrade-lint:scanner",
    ) -> Grant:
        """get/list/watch on (group, resource) pairs, in one namespace or everywhere."""
        verb_list = tuple(verbs)
        return cls(frozenset(Rule(v, g, r, namespace) for g, r in resources for v in verb_list), user)

    @classmethod
    def admin(cls, user: str = "kubernetes-admin") -> Grant:
        return cls(frozenset({Rule("*", "*", "*", None)}), user, ("system:masters", "system:authenticated"))

    def __or__(self, other: Grant) -> Grant:
        return Grant(self.rules | other.rules, self.user, self.groups)


ANONYMOUS = Grant(frozenset(), "system:anonymous", ("system:unauthenticated",))


def forbidden_message(
    user: str, verb: str, group: str, resource: str, namespace: str | None, name: str | None
) -> str:
    """The RBAC authorizer's wording, e.g. recording 31-forbidden-list-secrets-readonly-sa.http."""
    qualified = f"{resource}.{group}" if group else resource
    subject = f'{qualified} "{name}"' if name else qualified
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    return (
        f'{subject} is forbidden: User "{user}" cannot {verb} resource "{resource}" '
        f'in API group "{group}" {scope}'
    )
