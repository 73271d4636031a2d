"""Engine outcomes: every (rule x object) gets exactly one visible outcome."""

from __future__ import annotations

from pathlib import Path

from checks.engine.catalog import Catalog, Rule, Selector
from checks.engine.evaluate import Evaluator
from checks.engine.items import group_items
from checks.engine.redact import Scrubber
from checks.engine.upgrade_path import PathCondition, ProductPath, ScanContext, UpgradeContext
from checks.engine.versions import VersionRange, parse_version
from checks.model import Origin, Outcome, Reference, Resource, Severity
from tests.support import DEMO, FIXTURES, of_rule, scan, write

GW = ("apiVersion: gateway.apiconnect.ibm.com/v1beta1\nkind: GatewayCluster\n"
      "metadata: {name: gw, namespace: apic}\nspec:\n  version: 10.0.8.0\n"
      "  license: {accept: true}\n")


def rule(**overrides: object) -> Rule:
    base: dict[str, object] = dict(
        id="r", title="A test rule", product="apiconnect", severity=Severity.ERROR, mode="static",
        applies_to=(Selector(kinds=("GatewayCluster",)),), check="field-equals",
        params={"field": "spec.license.accept", "equals": True, "message": "{field} {observed}"},
        description="d" * 20, rationale="r" * 20, remediation="fix it",
        references=(Reference("ref", "https://example.invalid"),))
    base.update(overrides)
    return Rule(**base)  # type: ignore[arg-type]


def evaluate(r: Rule, resources: list[Resource], ctx: UpgradeContext | None = None) -> list:  # type: ignore[type-arg]
    catalog = Catalog((r,), "sha256:0", "", {r.id: r})
    return Evaluator(catalog, ScanContext(default=ctx or UpgradeContext()),
                     lambda requests: [1] * len(requests), Scrubber([])).evaluate(resources)


def gateway(accept: object = True) -> Resource:
    return Resource("gateway.apiconnect.ibm.com/v1beta1", "GatewayCluster", "gw",
                    {"spec": {"license": {"accept": accept}}}, Origin("gw.yaml", 1, 1))


def test_pass_fail_and_no_matching_objects() -> None:
    assert [r.outcome for r in evaluate(rule(), [gateway(True), gateway(False)])] == [
        Outcome.PASSED, Outcome.FAILED]
    [na] = evaluate(rule(), [])
    assert (na.outcome, na.message, na.obj) == (Outcome.NOT_APPLICABLE,
                                                "no GatewayCluster in the scan", None)


def test_path_conditions_not_applicable_and_not_evaluated() -> None:
    cond = PathCondition("apiconnect", to_range=VersionRange(">=10.0.7.0", "apiconnect"))
    r = rule(when=cond, applicability="migration")
    [unknown] = evaluate(r, [gateway(False)])
    assert unknown.outcome is Outcome.NOT_EVALUATED
    assert unknown.message == ("the target apiconnect version of dir:. is unknown; "
                               "give --target apiconnect=VERSION")
    assert (unknown.installation, unknown.obj) == ("dir:.", None)
    running = parse_version("apiconnect", "10.0.5.0")
    old = UpgradeContext({"apiconnect": ProductPath(
        "apiconnect", current=running, target=parse_version("apiconnect", "10.0.6.0"))})
    [na] = evaluate(r, [gateway(False)], old)
    assert na.outcome is Outcome.NOT_APPLICABLE and "10.0.6.0 is not in '>=10.0.7.0'" in na.message
    new = UpgradeContext({"apiconnect": ProductPath(
        "apiconnect", current=running, target=parse_version("apiconnect", "10.0.8.0"))})
    assert evaluate(r, [gateway(False)], new)[0].outcome is Outcome.FAILED


def test_live_rules_are_not_evaluated_on_manifests() -> None:
    [result] = evaluate(rule(mode="live"), [gateway(False)])
    assert result.outcome is Outcome.NOT_EVALUATED and "live rule" in result.message


def test_unresolved_placeholder_is_not_evaluated() -> None:
    res = Resource("gateway.apiconnect.ibm.com/v1beta1", "GatewayCluster", "gw",
                   {"spec": {"license": {"accept": "${ACCEPT}"}}}, Origin("t.yaml", 1, 1),
                   unresolved=frozenset({("spec", "license", "accept")}))
    [result] = evaluate(rule(), [res])
    assert result.outcome is Outcome.NOT_EVALUATED and "unrendered placeholder" in result.message


def test_target_comes_from_manifests_unless_given(tmp_path: Path) -> None:
    f = write(tmp_path / "gw.yaml", GW)
    declared = scan(f).context.path("apiconnect")
    assert (str(declared.target), declared.target_source) == ("10.0.8.0", f"{f}:5")
    given = scan(f, targets={"apiconnect": "10.0.9.0"}).context.path("apiconnect")
    assert (str(given.target), given.target_source) == ("10.0.9.0", "--target")


def test_items_are_proportional_to_findings_and_rules() -> None:
    result = scan(DEMO)
    items = group_items(result.results)
    failed = [r for r in result.results if r.outcome is Outcome.FAILED]
    per_rule = {i.rule_id for i in items if i.outcome is Outcome.PASSED}
    not_applicable = [r for r in result.results if r.outcome is Outcome.NOT_APPLICABLE]
    reasons = {(r.rule_id, r.message) for r in result.results
               if r.outcome is Outcome.NOT_EVALUATED}
    assert len(items) == len(failed) + len(per_rule) + len(not_applicable) + len(reasons)
    names = {i.name for i in items}
    gw = str(DEMO / "apiconnect" / "gateway.yaml")
    assert (f"apic-template-override[gateway.apiconnect.ibm.com/v1beta1/GatewayCluster/apic/gw1"
            f" @ {gw}:18]") in names
    assert "apic-license-not-accepted[1 object passed]" in names


def test_results_are_the_same_whatever_the_order_of_inputs() -> None:
    paths = sorted(DEMO.iterdir())
    forward = {(r.rule_id, r.outcome, r.path, r.line) for r in scan(*paths).results}
    backward = {(r.rule_id, r.outcome, r.path, r.line) for r in scan(*reversed(paths)).results}
    assert forward == backward


def test_credentials_never_reach_messages(tmp_path: Path) -> None:
    f = write(tmp_path / "dc.yaml", (DEMO.parent / "3scale" / "3scale-mysql-plaintext-credentials"
                                     / "fire-deploymentconfig.yaml").read_text())
    results = scan(f, currents={"3scale": "2.4.0"}, targets={"3scale": "2.5.0"}).results
    assert of_rule(results, "3scale-mysql-plaintext-credentials", Outcome.FAILED)
    assert all("s3cr3t" not in repr(r) for r in results)


def test_the_kubernetes_target_a_rule_assumes_is_said_in_the_reports() -> None:
    """RULES.md: without --target kubernetes the target is the newest release in
    the removal table, "said in the report" -- not only in failing messages."""
    from checks.reports.json_report import targets
    from checks.reports.model import Report
    from checks.reports.terminal import render

    fixture = FIXTURES / "kubernetes" / "k8s-removed-api" / "dont-fire.yaml"
    assumed = scan(fixture)
    newest = assumed.context.assumed_targets["kubernetes"]
    assert newest == "1.36"
    assert targets(assumed.context)["kubernetes"]["to"] == newest
    lines = render(Report.build(assumed, assumed.results, Severity.ERROR, [str(fixture)]))
    assert (f"kubernetes target assumed: {newest}, the newest kubernetes release the rules know "
            "(give --target kubernetes=X)") in lines
    given = scan(fixture, targets={"kubernetes": "1.25"})
    assert given.context.assumed_targets == {}
    assert targets(given.context)["kubernetes"]["to_source"] == "--target"
