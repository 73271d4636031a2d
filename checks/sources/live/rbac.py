"""The least-privilege role of a live scan (``upgrade-lint rbac``).

``get`` and ``list`` on exactly the (group, resource) pairs the selected
rules read (``wanted_kinds``), never ``*`` and never a write verb; a
ServiceAccount to run the scan as and the binding. Cluster-wide by default;
with namespaces, a Role and RoleBinding per namespace for namespaced kinds
(plus a ClusterRole for the cluster-scoped kinds, which no Role can grant).
Discovery (``/api``, ``/apis``) needs no grant: Kubernetes' default
``system:discovery`` role allows it to every authenticated user.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from checks.sources.live.kinds import RuleLike, known, plural_of, wanted_kinds
from checks.sources.live.model import WantedKind

#: The only verbs the role grants: a scan reads, nothing else.
READ_VERBS = ("get", "list")


@dataclass(frozen=True, order=True)
class Grant:
    """Read access to one resource of one API group."""

    group: str
    resource: str
    namespaced: bool


def grants(wanted: Iterable[WantedKind]) -> list[Grant]:
    """(group, resource, scope) of each wanted kind, from the built-in table
    (an unknown kind: the API server's plural guess, namespaced)."""
    out = set()
    for kind in wanted:
        entry = known(kind.group, kind.kind)
        out.add(Grant(kind.group, plural_of(kind), entry.namespaced if entry else True))
    return sorted(out)


def policy_rules(items: Iterable[Grant]) -> list[dict[str, Any]]:
    """RBAC PolicyRules: one per API group, resources sorted."""
    by_group: dict[str, set[str]] = {}
    for grant in items:
        by_group.setdefault(grant.group, set()).add(grant.resource)
    return [{"apiGroups": [group], "resources": sorted(resources), "verbs": list(READ_VERBS)}
            for group, resources in sorted(by_group.items())]


def _meta(name: str, namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = {"app.kubernetes.io/name": "upgrade-lint"}
    return meta


def _binding(kind: str, name: str, namespace: str | None, role_kind: str,
             subject: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
            "metadata": _meta(name, namespace),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind,
                        "name": name},
            "subjects": [subject]}


def role_documents(wanted: Sequence[WantedKind], name: str = "upgrade-lint",
                   namespaces: Sequence[str] = (),
                   sa_namespace: str | None = None) -> list[dict[str, Any]]:
    """ServiceAccount, role(s) and binding(s) for reading ``wanted``."""
    account_ns = sa_namespace or (namespaces[0] if namespaces else "default")
    subject = {"kind": "ServiceAccount", "name": name, "namespace": account_ns}
    docs: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "ServiceAccount",
                                   "metadata": _meta(name, account_ns)}]
    all_grants = grants(wanted)
    cluster_wide = all_grants if not namespaces else [g for g in all_grants if not g.namespaced]
    if cluster_wide:
        docs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                     "metadata": _meta(name), "rules": policy_rules(cluster_wide)})
        docs.append(_binding("ClusterRoleBinding", name, None, "ClusterRole", subject))
    namespaced = [g for g in all_grants if g.namespaced] if namespaces else []
    for namespace in dict.fromkeys(namespaces):
        if not namespaced:
            break
        docs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                     "metadata": _meta(name, namespace), "rules": policy_rules(namespaced)})
        docs.append(_binding("RoleBinding", name, namespace, "Role", subject))
    return docs


def role_yaml(rules: Sequence[RuleLike], name: str = "upgrade-lint",
              namespaces: Sequence[str] = (), sa_namespace: str | None = None,
              named: Sequence[str] = ()) -> str:
    """The YAML ``upgrade-lint rbac`` prints; ``named``: the rule ids given
    with ``--rules`` (see ``wanted_kinds``)."""
    docs = role_documents(wanted_kinds(rules, named), name, namespaces, sa_namespace)
    ids = ", ".join(r.id for r in rules if r.mode != "static") or "none"
    lines = ["Least-privilege access for `upgrade-lint scan --cluster`: get/list on what",
             *textwrap.wrap(f"these rules read: {ids}.", 76, break_on_hyphens=False),
             "Discovery needs no grant (the default system:discovery role)."]
    header = "".join(f"# {line}\n" for line in lines)
    body = "---\n".join(yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)
                        for doc in docs)
    return header + "---\n" + body
