"""The resource types the test API server serves, and the discovery documents built from them.

A real cluster serves a fixed set of built-in kinds plus whatever CustomResourceDefinitions are
installed. The test server does the same: BUILTIN_TYPES below (the kinds a read-only scanner of
gateway installations lists) plus the CRDs a test declares or that its objects imply. Discovery
answers (legacy and aggregated) are derived from that one table, so what `/apis` says is served
is exactly what a LIST can read.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
# Custom resources list their verbs in this order (recording 07-apis-gateway-v1beta1.http).
CRD_VERBS = ("delete", "deletecollection", "get", "list", "patch", "create", "update", "watch")
STATUS_VERBS = ("get", "patch", "update")


def guess_plural(kind: str) -> str:
    """The resource name the apiserver derives for a kind (meta.UnsafeGuessKindToResource).

    Lowercase; a trailing "s" takes "es", a trailing "y" becomes "ies", anything else takes "s".
    CRDs declare their plural; tests should pass it explicitly when English disagrees.
    """
    singular = kind.lower()
    if singular.endswith("s"):
        return singular + "es"
    if singular.endswith("y"):
        return singular[:-1] + "ies"
    return singular + "s"


@dataclass(frozen=True)
class PrinterColumn:
    """A CRD additionalPrinterColumn: shown by `kubectl get` through the Table format."""

    name: str
    json_path: str
    type: str = "string"
    priority: int = 0


@dataclass(frozen=True)
class ResourceType:
    """One served resource: group/version/kind/plural and scope.

    `custom` marks a CustomResourceDefinition (served by the apiextensions handler, which
    behaves differently from built-in types: list items carry apiVersion/kind, the last page has
    `continue: ""`, an unknown resource in the group is a text/plain 404).
    """

    group: str
    version: str
    kind: str
    plural: str = ""
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    custom: bool = True
    verbs: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ("status",)
    categories: tuple[str, ...] = ()
    printer_columns: tuple[PrinterColumn, ...] = ()
    field_labels: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.plural:
            object.__setattr__(self, "plural", guess_plural(self.kind))
        if not self.verbs:
            object.__setattr__(self, "verbs", CRD_VERBS if self.custom else ALL_VERBS)

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def qualified(self) -> str:
        """`plural.group` as error messages and CRD names spell it (`plural` for the core group)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"


def CRD(
    group: str,
    version: str,
    kind: str,
    plural: str = "",
    *,
    namespaced: bool = True,
    short_names: tuple[str, ...] = (),
    printer_columns: tuple[PrinterColumn, ...] = (),
) -> ResourceType:
    """Declare a CustomResourceDefinition (served even with zero objects)."""
    return ResourceType(
        group,
        version,
        kind,
        plural,
        namespaced=namespaced,
        short_names=short_names,
        printer_columns=printer_columns,
        custom=True,
    )


def _builtin(
    group: str,
    version: str,
    kind: str,
    plural: str,
    *,
    namespaced: bool = True,
    short: tuple[str, ...] = (),
    subresources: tuple[str, ...] = ("status",),
    categories: tuple[str, ...] = (),
    verbs: tuple[str, ...] = ALL_VERBS,
    field_labels: tuple[str, ...] = (),
) -> ResourceType:
    return ResourceType(
        group,
        version,
        kind,
        plural,
        namespaced=namespaced,
        short_names=short,
        custom=False,
        verbs=verbs,
        subresources=subresources,
        categories=categories,
        field_labels=field_labels,
    )


_NS_VERBS = ("create", "delete", "get", "list", "patch", "update", "watch")
_POD_FIELDS = (
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
)

BUILTIN_TYPES: tuple[ResourceType, ...] = (
    _builtin("", "v1", "ConfigMap", "configmaps", short=("cm",), subresources=()),
    _builtin("", "v1", "Endpoints", "endpoints", short=("ep",), subresources=()),
    _builtin(
        "",
        "v1",
        "Event",
        "events",
        short=("ev",),
        subresources=(),
        field_labels=(
            "involvedObject.kind",
            "involvedObject.name",
            "involvedObject.namespace",
            "reason",
            "type",
            "source",
        ),
    ),
    _builtin(
        "",
        "v1",
        "Namespace",
        "namespaces",
        namespaced=False,
        short=("ns",),
        subresources=("finalize", "status"),
        verbs=_NS_VERBS,
        field_labels=("status.phase",),
    ),
    _builtin(
        "",
        "v1",
        "Node",
        "nodes",
        namespaced=False,
        short=("no",),
        subresources=("proxy", "status"),
        field_labels=("spec.unschedulable",),
    ),
    _builtin("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", short=("pvc",)),
    _builtin(
        "",
        "v1",
        "Pod",
        "pods",
        short=("po",),
        categories=("all",),
        subresources=("exec", "log", "status"),
        field_labels=_POD_FIELDS,
    ),
    _builtin("", "v1", "Secret", "secrets", subresources=(), field_labels=("type",)),
    _builtin("", "v1", "ServiceAccount", "serviceaccounts", short=("sa",), subresources=("token",)),
    _builtin(
        "", "v1", "Service", "services", short=("svc",), categories=("all",), subresources=("proxy", "status")
    ),
    _builtin("apps", "v1", "DaemonSet", "daemonsets", short=("ds",), categories=("all",)),
    _builtin(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        short=("deploy",),
        categories=("all",),
        subresources=("scale", "status"),
    ),
    _builtin(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        short=("rs",),
        categories=("all",),
        subresources=("scale", "status"),
    ),
    _builtin(
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        short=("sts",),
        categories=("all",),
        subresources=("scale", "status"),
    ),
    _builtin(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        namespaced=False,
        subresources=(),
        verbs=("create",),
    ),
    _builtin(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        namespaced=False,
        subresources=(),
        verbs=("create",),
    ),
    _builtin("batch", "v1", "CronJob", "cronjobs", short=("cj",), categories=("all",)),
    _builtin("batch", "v1", "Job", "jobs", categories=("all",), field_labels=("status.successful",)),
    _builtin("networking.k8s.io", "v1", "Ingress", "ingresses", short=("ing",)),
    _builtin(
        "networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", short=("netpol",), subresources=()
    ),
    _builtin("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", short=("pdb",)),
    _builtin(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        namespaced=False,
        short=("crd", "crds"),
        categories=("api-extensions",),
    ),
)

# The order real `/apis` lists built-in groups in (recording 03-apis.http), then CRD groups.
BUILTIN_GROUP_ORDER = (
    "apps",
    "authorization.k8s.io",
    "batch",
    "networking.k8s.io",
    "policy",
    "apiextensions.k8s.io",
)


def storage_version_hash(rtype: ResourceType) -> str:
    digest = hashlib.sha256(f"{rtype.group}/{rtype.version}/{rtype.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


class Catalog:
    """The served resource types, indexed for routing and discovery."""

    def __init__(self, types: Iterable[ResourceType]) -> None:
        self.types: list[ResourceType] = []
        self._by_path: dict[tuple[str, str, str], ResourceType] = {}
        self._by_kind: dict[tuple[str, str], ResourceType] = {}
        for rtype in types:
            self.add(rtype)

    def add(self, rtype: ResourceType) -> None:
        key = (rtype.group, rtype.version, rtype.plural)
        if key in self._by_path:
            return
        self.types.append(rtype)
        self._by_path[key] = rtype
        self._by_kind.setdefault((rtype.group, rtype.kind), rtype)

    def by_path(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_path.get((group, version, plural))

    def by_kind(self, group: str, kind: str) -> ResourceType | None:
        return self._by_kind.get((group, kind))

    def versions(self, group: str) -> list[str]:
        """Served versions of a group, preferred first (declaration order)."""
        seen: list[str] = []
        for rtype in self.types:
            if rtype.group == group and rtype.version not in seen:
                seen.append(rtype.version)
        return seen

    def groups(self) -> list[str]:
        """Named groups in the order `/apis` lists them: built-ins, then CRD groups sorted."""
        names = {t.group for t in self.types if t.group}
        builtin = [g for g in BUILTIN_GROUP_ORDER if g in names]
        return builtin + sorted(names - set(builtin))

    def is_custom_group(self, group: str) -> bool:
        return any(t.custom for t in self.types if t.group == group) and group not in BUILTIN_GROUP_ORDER

    def in_version(self, group: str, version: str) -> list[ResourceType]:
        return sorted(
            (t for t in self.types if t.group == group and t.version == version), key=lambda t: t.plural
        )


# ---------------------------------------------------------------- discovery documents


def _group_version_entry(group: str, version: str) -> dict[str, str]:
    return {"groupVersion": f"{group}/{version}", "version": version}


def api_group(catalog: Catalog, group: str) -> dict[str, Any]:
    versions = catalog.versions(group)
    return {
        "name": group,
        "versions": [_group_version_entry(group, v) for v in versions],
        "preferredVersion": _group_version_entry(group, versions[0]),
    }


def api_group_list(catalog: Catalog) -> dict[str, Any]:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [api_group(catalog, g) for g in catalog.groups()],
    }


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _subresource_kind(rtype: ResourceType, sub: str) -> str:
    return {
        "exec": "PodExecOptions",
        "proxy": f"{rtype.kind}ProxyOptions",
        "scale": "Scale",
        "token": "TokenRequest",
    }.get(sub, rtype.kind)


# Subresources whose response kind lives in another group (discovery names it).
_SUBRESOURCE_GROUP = {"scale": ("autoscaling", "v1"), "token": ("authentication.k8s.io", "v1")}


def _subresource_verbs(sub: str) -> tuple[str, ...]:
    verbs = {
        "exec": ("create", "get"),
        "log": ("get",),
        "finalize": ("update",),
        "proxy": ("create", "delete", "get", "patch", "update"),
        "token": ("create",),
    }
    return verbs.get(sub, STATUS_VERBS)


def api_resource_list(catalog: Catalog, group: str, version: str) -> dict[str, Any]:
    """APIResourceList of `/api/v1` or `/apis/<group>/<version>` (legacy discovery)."""
    resources: list[dict[str, Any]] = []
    for rtype in catalog.in_version(group, version):
        entry: dict[str, Any] = {
            "name": rtype.plural,
            "singularName": rtype.singular,
            "namespaced": rtype.namespaced,
            "kind": rtype.kind,
            "verbs": list(rtype.verbs),
        }
        if rtype.short_names:
            entry["shortNames"] = list(rtype.short_names)
        if rtype.categories:
            entry["categories"] = list(rtype.categories)
        if rtype.verbs != ("create",):
            entry["storageVersionHash"] = storage_version_hash(rtype)
        resources.append(entry)
        for sub in rtype.subresources:
            sub_entry: dict[str, Any] = {
                "name": f"{rtype.plural}/{sub}",
                "singularName": "",
                "namespaced": rtype.namespaced,
                "kind": _subresource_kind(rtype, sub),
                "verbs": list(_subresource_verbs(sub)),
            }
            if sub in _SUBRESOURCE_GROUP:
                group_name, group_version = _SUBRESOURCE_GROUP[sub]
                sub_entry = {
                    "name": sub_entry["name"],
                    "singularName": "",
                    "namespaced": rtype.namespaced,
                    "group": group_name,
                    "version": group_version,
                    "kind": sub_entry["kind"],
                    "verbs": sub_entry["verbs"],
                }
            resources.append(sub_entry)
    document: dict[str, Any] = {"kind": "APIResourceList"}
    if group:
        document["apiVersion"] = "v1"
    document.update({"groupVersion": f"{group}/{version}" if group else version, "resources": resources})
    return document


def _discovery_resource(rtype: ResourceType) -> dict[str, Any]:
    response_kind = (
        {"group": rtype.group, "version": rtype.version, "kind": rtype.kind}
        if rtype.custom
        else {"group": "", "version": "", "kind": rtype.kind}
    )
    entry: dict[str, Any] = {
        "resource": rtype.plural,
        "responseKind": response_kind,
        "scope": "Namespaced" if rtype.namespaced else "Cluster",
        "singularResource": rtype.singular,
        "verbs": list(rtype.verbs),
    }
    if rtype.short_names:
        entry["shortNames"] = list(rtype.short_names)
    if rtype.categories:
        entry["categories"] = list(rtype.categories)
    if rtype.subresources:
        subs = []
        for sub in rtype.subresources:
            kind = {**response_kind, "kind": _subresource_kind(rtype, sub)}
            if sub in _SUBRESOURCE_GROUP:
                group_name, group_version = _SUBRESOURCE_GROUP[sub]
                kind = {"group": group_name, "version": group_version, "kind": _subresource_kind(rtype, sub)}
            subs.append({"subresource": sub, "responseKind": kind, "verbs": list(_subresource_verbs(sub))})
        entry["subresources"] = subs
    return entry


def _discovery_group(catalog: Catalog, group: str) -> dict[str, Any]:
    return {
        "metadata": {"name": group} if group else {},
        "versions": [
            {
                "version": version,
                "resources": [_discovery_resource(t) for t in catalog.in_version(group, version)],
                "freshness": "Current",
            }
            for version in catalog.versions(group)
        ],
    }


def aggregated_discovery(catalog: Catalog, *, legacy: bool) -> dict[str, Any]:
    """APIGroupDiscoveryList (apidiscovery.k8s.io/v2) of `/api` (legacy=True) or `/apis`."""
    groups = [""] if legacy else catalog.groups()
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": [_discovery_group(catalog, g) for g in groups],
    }
