"""Which kinds a live scan lists (``wanted_kinds``) and how a kind the cluster
does not serve is explained."""

from __future__ import annotations

from checks.engine.catalog import Rule, load_catalog
from checks.sources.live.kinds import LIVE_TEMPLATE_KINDS, not_served_reason, plural_of
from checks.sources.live.kube import wanted_kinds
from checks.sources.live.model import WantedKind


def _rules(*ids: str) -> list[Rule]:
    catalog = load_catalog(None)
    return [r for r in catalog.rules if r.id in ids]


def test_group_patterns_and_core_kinds_resolve_to_groups() -> None:
    wanted = wanted_kinds(_rules("apic-backup-not-configured"))
    assert WantedKind("management.apiconnect.ibm.com", "ManagementCluster") in wanted
    assert WantedKind("apiconnect.ibm.com", "APIConnectCluster") in wanted


def test_live_template_kinds_come_with_api_connect_rules_only() -> None:
    apic = wanted_kinds(_rules("apic-backup-not-configured"))
    assert set(LIVE_TEMPLATE_KINDS) <= set(apic)
    assert WantedKind("velero.io", "Backup") in apic
    assert WantedKind("postgresql.k8s.enterprisedb.io", "Backup") in apic
    kong = wanted_kinds(_rules("kong-dp-ahead-of-cp"))
    assert WantedKind("", "Secret") not in kong
    assert WantedKind("apps", "Deployment") in kong


def test_chart_selectors_kindless_selectors_and_static_rules_add_nothing() -> None:
    # unrendered-placeholder selects {apiVersion: "*"} (no kind): nothing to list.
    assert wanted_kinds(_rules("unrendered-placeholder")) == []
    static = [r for r in load_catalog(None).rules if r.mode == "static"]
    assert static and wanted_kinds(static) == []


def test_kind_without_group_uses_the_table_and_skips_unknown_kinds() -> None:
    wanted = wanted_kinds(_rules("api7-traffic-split-present"))
    # ADCConfig is no Kubernetes kind (a declarative file): never listed.
    assert not any(w.kind == "ADCConfig" for w in wanted)
    assert WantedKind("apisix.apache.org", "ApisixRoute") in wanted


def test_result_is_sorted_and_deduplicated() -> None:
    wanted = wanted_kinds(load_catalog(None).rules)
    assert wanted == sorted(set(wanted))
    assert not any(w.kind in {"TokenReview", "SubjectAccessReview"} for w in wanted)


def test_not_served_reasons() -> None:
    assert not_served_reason(WantedKind("gateway.apiconnect.ibm.com", "GatewayCluster")) == \
        "CRD gatewayclusters.gateway.apiconnect.ibm.com is not installed"
    assert not_served_reason(WantedKind("", "Pod")) == "Pod is not served by this cluster"
    assert not_served_reason(WantedKind("apps.openshift.io", "DeploymentConfig")) == \
        "deploymentconfigs.apps.openshift.io is not served by this cluster"
    assert plural_of(WantedKind("example.com", "Policy")) == "policies"


def test_probe_objects_are_never_listed_from_the_cluster() -> None:
    """Live rules on DataPower/Kong probe objects select apiVersion
    probes.upgrade-lint.io/*: the probes make those objects, no cluster serves
    them, and listing them would report a "CRD ... not installed" that makes
    the rules not evaluated."""
    from types import SimpleNamespace

    from checks.sources.live.model import PROBE_GROUP
    selector = SimpleNamespace(api_version=f"{PROBE_GROUP}/*", kinds=("KongClusterStatus",),
                               chart=None)
    rule = SimpleNamespace(id="kong-data-plane-sync", product="kong", mode="live",
                           applies_to=(selector,))
    assert wanted_kinds([rule]) == []
