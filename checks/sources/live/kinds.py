"""Which kinds a live scan reads, and what the API calls them.

Rules select objects by apiVersion pattern and kind (``applies_to``); a live
scan needs (group, kind) pairs to discover and list, and the least-privilege
role needs (group, resource) pairs. The cluster's discovery documents are the
truth at scan time; this table is what is known *before* talking to a cluster
(for ``upgrade-lint rbac``, for rules that name a kind without its group, and
for the "CRD <plural>.<group> is not installed" reason).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from checks.sources.live.model import PROBE_GROUP, Unavailable, WantedKind


class SelectorLike(Protocol):
    """What ``wanted_kinds`` reads of a rule's ``applies_to`` entry (the
    engine's ``Selector``; sources do not import the engine)."""

    @property
    def api_version(self) -> str | None: ...
    @property
    def kinds(self) -> tuple[str, ...]: ...
    @property
    def chart(self) -> str | None: ...


class RuleLike(Protocol):
    """What ``wanted_kinds`` reads of a rule (the engine's ``Rule``)."""

    @property
    def id(self) -> str: ...
    @property
    def product(self) -> str: ...
    @property
    def mode(self) -> str: ...
    @property
    def applies_to(self) -> Sequence[SelectorLike]: ...


@dataclass(frozen=True)
class KnownKind:
    """A kind's API group, resource name (plural) and scope."""

    group: str
    kind: str
    plural: str
    namespaced: bool = True


def _k(group: str, kind: str, plural: str, namespaced: bool = True) -> KnownKind:
    return KnownKind(group, kind, plural, namespaced)


#: Kinds rules and live templates read. Only kinds that can be listed: the
#: review kinds (TokenReview, SubjectAccessReview, ...) are create-only and
#: have no objects to read.
KNOWN_KINDS: tuple[KnownKind, ...] = (
    # Kubernetes core and built-in groups.
    _k("", "ConfigMap", "configmaps"),
    _k("", "Event", "events"),
    _k("", "Namespace", "namespaces", False),
    _k("", "Pod", "pods"),
    _k("", "Secret", "secrets"),
    _k("", "Service", "services"),
    _k("", "ServiceAccount", "serviceaccounts"),
    _k("apps", "DaemonSet", "daemonsets"),
    _k("apps", "Deployment", "deployments"),
    _k("apps", "ReplicaSet", "replicasets"),
    _k("apps", "StatefulSet", "statefulsets"),
    _k("batch", "CronJob", "cronjobs"),
    _k("batch", "Job", "jobs"),
    _k("autoscaling", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
    _k("policy", "PodDisruptionBudget", "poddisruptionbudgets"),
    _k("policy", "PodSecurityPolicy", "podsecuritypolicies", False),
    _k("networking.k8s.io", "Ingress", "ingresses"),
    _k("networking.k8s.io", "IngressClass", "ingressclasses", False),
    _k("networking.k8s.io", "NetworkPolicy", "networkpolicies"),
    _k("discovery.k8s.io", "EndpointSlice", "endpointslices"),
    _k("admissionregistration.k8s.io", "MutatingWebhookConfiguration",
       "mutatingwebhookconfigurations", False),
    _k("admissionregistration.k8s.io", "ValidatingWebhookConfiguration",
       "validatingwebhookconfigurations", False),
    _k("admissionregistration.k8s.io", "ValidatingAdmissionPolicy",
       "validatingadmissionpolicies", False),
    _k("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding",
       "validatingadmissionpolicybindings", False),
    _k("apiextensions.k8s.io", "CustomResourceDefinition", "customresourcedefinitions", False),
    _k("apiregistration.k8s.io", "APIService", "apiservices", False),
    _k("certificates.k8s.io", "CertificateSigningRequest", "certificatesigningrequests", False),
    _k("coordination.k8s.io", "Lease", "leases"),
    _k("rbac.authorization.k8s.io", "ClusterRole", "clusterroles", False),
    _k("rbac.authorization.k8s.io", "ClusterRoleBinding", "clusterrolebindings", False),
    _k("rbac.authorization.k8s.io", "Role", "roles"),
    _k("rbac.authorization.k8s.io", "RoleBinding", "rolebindings"),
    _k("scheduling.k8s.io", "PriorityClass", "priorityclasses", False),
    _k("storage.k8s.io", "CSIDriver", "csidrivers", False),
    _k("storage.k8s.io", "CSINode", "csinodes", False),
    _k("storage.k8s.io", "CSIStorageCapacity", "csistoragecapacities"),
    _k("storage.k8s.io", "StorageClass", "storageclasses", False),
    _k("storage.k8s.io", "VolumeAttachment", "volumeattachments", False),
    _k("storage.k8s.io", "VolumeAttributesClass", "volumeattributesclasses", False),
    _k("node.k8s.io", "RuntimeClass", "runtimeclasses", False),
    _k("flowcontrol.apiserver.k8s.io", "FlowSchema", "flowschemas", False),
    _k("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration",
       "prioritylevelconfigurations", False),
    _k("resource.k8s.io", "ResourceSlice", "resourceslices", False),
    _k("resource.k8s.io", "ResourceClaim", "resourceclaims"),
    _k("resource.k8s.io", "ResourceClaimTemplate", "resourceclaimtemplates"),
    _k("resource.k8s.io", "DeviceClass", "deviceclasses", False),
    _k("storagemigration.k8s.io", "StorageVersionMigration", "storageversionmigrations", False),
    # OpenShift.
    _k("apps.openshift.io", "DeploymentConfig", "deploymentconfigs"),
    _k("image.openshift.io", "ImageStream", "imagestreams"),
    _k("build.openshift.io", "BuildConfig", "buildconfigs"),
    # cert-manager (current and legacy groups).
    _k("cert-manager.io", "Certificate", "certificates"),
    _k("cert-manager.io", "Issuer", "issuers"),
    _k("cert-manager.io", "ClusterIssuer", "clusterissuers", False),
    _k("cert-manager.io", "CertificateRequest", "certificaterequests"),
    _k("acme.cert-manager.io", "Order", "orders"),
    _k("acme.cert-manager.io", "Challenge", "challenges"),
    _k("certmanager.k8s.io", "Certificate", "certificates"),
    _k("certmanager.k8s.io", "Issuer", "issuers"),
    _k("certmanager.k8s.io", "ClusterIssuer", "clusterissuers", False),
    # IBM API Connect.
    _k("apiconnect.ibm.com", "APIConnectCluster", "apiconnectclusters"),
    _k("management.apiconnect.ibm.com", "ManagementCluster", "managementclusters"),
    _k("management.apiconnect.ibm.com", "ManagementBackup", "managementbackups"),
    _k("gateway.apiconnect.ibm.com", "GatewayCluster", "gatewayclusters"),
    _k("portal.apiconnect.ibm.com", "PortalCluster", "portalclusters"),
    _k("analytics.apiconnect.ibm.com", "AnalyticsCluster", "analyticsclusters"),
    # Backups: EDB (CloudNativePG for API Connect) and Velero.
    _k("postgresql.k8s.enterprisedb.io", "Backup", "backups"),
    _k("velero.io", "Backup", "backups"),
    # API7 ingress controller.
    _k("apisix.apache.org", "ApisixRoute", "apisixroutes"),
    _k("apisix.apache.org", "ApisixPluginConfig", "apisixpluginconfigs"),
)

_BY_GROUP_KIND = {(k.group, k.kind): k for k in KNOWN_KINDS}
#: Groups whose kinds a kind-only selector (``kind: Certificate``) means: the
#: current group, not a legacy one the rules name explicitly when they mean it.
_LEGACY_GROUPS = frozenset({"certmanager.k8s.io"})

#: What the live templates of API Connect read besides the objects their
#: rules select: gateway Pods (DataPower peering), Secrets (the DataPower
#: credentials), backups (ManagementBackup, EDB Backup, Velero Backup) and the
#: subsystem CRs that carry current versions. Wanted only when an API Connect
#: rule is selected: a Kong-only scan has no business reading Secrets.
LIVE_TEMPLATE_PRODUCT = "apiconnect"
LIVE_TEMPLATE_KINDS: tuple[WantedKind, ...] = (
    WantedKind("", "Pod"),
    WantedKind("", "Secret"),
    WantedKind("management.apiconnect.ibm.com", "ManagementBackup"),
    WantedKind("postgresql.k8s.enterprisedb.io", "Backup"),
    WantedKind("velero.io", "Backup"),
    WantedKind("management.apiconnect.ibm.com", "ManagementCluster"),
    WantedKind("gateway.apiconnect.ibm.com", "GatewayCluster"),
    WantedKind("apiconnect.ibm.com", "APIConnectCluster"),
)

#: Built-in and aggregated API groups: missing ones are "not served", not an
#: uninstalled CRD.
_BUILTIN_GROUP_SUFFIXES = (".k8s.io", ".openshift.io")
_BUILTIN_GROUPS = frozenset({"", "apps", "batch", "autoscaling", "policy"})


#: Rules that judge the live objects other rules read and list no kind of
#: their own: ``k8s-removed-api`` judges the apiVersion an object was last
#: applied in, which listing ~45 more kinds would not make worth the
#: requests (the API server answers in any version it is asked for).
#: Rule ids are a contract (RULES.md), so naming them here is stable.
JUDGES_LISTED_OBJECTS = frozenset({"k8s-removed-api"})


def guess_plural(kind: str) -> str:
    """The resource name the API server derives from a kind when nothing
    declares it: lower case; "s" takes "es", "y" becomes "ies", else "s"."""
    lower = kind.lower()
    if lower.endswith("s"):
        return lower + "es"
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + "s"


def known(group: str, kind: str) -> KnownKind | None:
    return _BY_GROUP_KIND.get((group, kind))


def plural_of(wanted: WantedKind) -> str:
    """The resource name of a kind: from the table, else the API server's guess."""
    entry = known(wanted.group, wanted.kind)
    return entry.plural if entry else guess_plural(wanted.kind)


def is_builtin_group(group: str) -> bool:
    return group in _BUILTIN_GROUPS or group.endswith(_BUILTIN_GROUP_SUFFIXES)


def not_served_reason(wanted: WantedKind) -> str:
    """Why a wanted kind was not read: the words a user acts on."""
    if not wanted.group:
        return f"{wanted.kind} is not served by this cluster"
    resource = f"{plural_of(wanted)}.{wanted.group}"
    if is_builtin_group(wanted.group):
        return f"{resource} is not served by this cluster"
    return f"CRD {resource} is not installed"


#: How ``not_served_reason`` ends: the kind does not exist on this cluster.
#: The second is a built-in or platform API group the cluster lacks (an
#: OpenShift group on Kubernetes): unlike a CRD that is not installed, no
#: installation of the product can be there.
NOT_INSTALLED_ENDING = "is not installed"
PLATFORM_LACKS_ENDING = "is not served by this cluster"
NOT_SERVED_ENDINGS = (NOT_INSTALLED_ENDING, PLATFORM_LACKS_ENDING)


def is_not_served_reason(reason: str) -> bool:
    """Does ``reason`` say the cluster has no such kind (rather than refusing
    or failing to read it)? A kind that does not exist has no objects."""
    return reason.endswith(NOT_SERVED_ENDINGS)


def vendor_domain(group: str) -> str:
    """The domain a CRD group belongs to: ``management.apiconnect.ibm.com`` ->
    ``ibm.com``. A product installs its CRDs under its vendor's domain."""
    return ".".join(group.split(".")[-2:])


def absent_vendor_domains(wanted: Sequence[WantedKind], unavailable: Iterable[Unavailable],
                          present_groups: Iterable[str]) -> set[str]:
    """Vendor domains none of whose wanted CRDs is installed: the product is not
    installed in this cluster (a Kong-only cluster has no API Connect CRD), so
    its rules do not apply, rather than being unevaluated. One CRD of the
    domain installed, or one object of it read, and the others stay missing
    CRDs (not evaluated)."""
    missing = {(u.group, u.kind) for u in unavailable
               if u.group and u.reason.endswith(NOT_INSTALLED_ENDING)}
    present = {vendor_domain(g) for g in present_groups if g}
    found: dict[str, bool] = {}
    for kind in wanted:
        if kind.group and kind.group != PROBE_GROUP:
            domain = vendor_domain(kind.group)
            found[domain] = found.get(domain, True) and (kind.group, kind.kind) in missing
    return {domain for domain, all_missing in found.items()
            if all_missing and domain not in present}


def platform_lacks(reason: str) -> bool:
    """Does ``reason`` say the cluster's platform has no such API group?"""
    return reason.endswith(PLATFORM_LACKS_ENDING)


def _groups_of_pattern(pattern: str, kind: str) -> list[str]:
    """Groups an apiVersion pattern (``management.apiconnect.ibm.com/*``,
    ``v1``, ``apps/v1``, ``*``) selects for ``kind``."""
    if "/" not in pattern and not any(c in pattern for c in "*?["):
        return [""]  # "v1": the core group
    group_pattern = pattern.rpartition("/")[0] if "/" in pattern else pattern
    if not any(c in group_pattern for c in "*?["):
        return [group_pattern]
    return [k.group for k in KNOWN_KINDS
            if k.kind == kind and fnmatch.fnmatchcase(k.group, group_pattern)
            and k.group not in _LEGACY_GROUPS]


def _kinds_of_selector(api_version: str | None, kinds: Iterable[str]) -> Iterable[WantedKind]:
    for kind in kinds:
        if api_version is not None:
            groups = _groups_of_pattern(api_version, kind)
        else:
            groups = [k.group for k in KNOWN_KINDS
                      if k.kind == kind and k.group not in _LEGACY_GROUPS]
        for group in groups:
            if group != PROBE_GROUP:  # made by the probes, served by no cluster
                yield WantedKind(group, kind)


def wanted_kinds(rules: Sequence[RuleLike], named: Iterable[str] = ()) -> list[WantedKind]:
    """The kinds a live scan for these rules lists: each rule's selectors
    (Helm-chart selectors, selectors without a kind and the probes' own
    kinds, ``PROBE_GROUP``, are skipped; a kind
    without a group is looked up in ``KNOWN_KINDS``, unknown ones skipped),
    plus what the API Connect live templates read when an API Connect rule
    is selected. Rules that only read manifests (``mode: static``) read
    nothing from a cluster, nor do those of ``JUDGES_LISTED_OBJECTS`` unless
    the user ``named`` them (``-k k8s-removed-api``, ``rbac --rules``).
    Deduplicated, sorted."""
    wanted: set[WantedKind] = set()
    named = frozenset(named)
    for rule in rules:
        if rule.mode == "static" or (rule.id in JUDGES_LISTED_OBJECTS
                                     and rule.id not in named):
            continue
        if rule.product == LIVE_TEMPLATE_PRODUCT:
            wanted.update(LIVE_TEMPLATE_KINDS)
        for selector in rule.applies_to:
            if selector.chart is not None or not selector.kinds:
                continue
            wanted.update(_kinds_of_selector(selector.api_version, selector.kinds))
    return sorted(wanted)
