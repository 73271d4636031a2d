"""Installations and planned upgrades (RULES.md, "When rules apply").

Each test builds a small repository laid out as real ones are (dev and prod
side by side, a remote gateway, Helm values per environment) and asserts exact
outcomes, lines and installations.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from checks.model import Outcome
from tests.support import FIXTURES, REPO, of_rule, scan, write


def cr(kind: str, namespace: str, version: str, name: str = "x", extra: str = "") -> str:
    group = {"GatewayCluster": "gateway", "ManagementCluster": "management"}.get(kind)
    api = f"{group}.apiconnect.ibm.com/v1beta1" if group else "apiconnect.ibm.com/v1beta1"
    return (f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\n"
            f"  namespace: {namespace}\n{extra}spec:\n  version: {version}\n"
            "  license: {accept: true, use: production, license: L-DZZQ-MGVN8V}\n")


def ahead(results: list) -> list:  # type: ignore[type-arg]
    return of_rule(results, "apic-gateway-ahead-of-management")


def test_dev_and_prod_are_never_compared(tmp_path: Path) -> None:
    write(tmp_path / "dev" / "apic.yaml", cr("ManagementCluster", "apic-dev", "10.0.8.0", "m")
          + "---\n" + cr("GatewayCluster", "apic-dev", "10.0.8.0", "gw"))
    write(tmp_path / "prod" / "apic.yaml", cr("ManagementCluster", "apic-prod", "10.0.5.3", "m")
          + "---\n" + cr("GatewayCluster", "apic-prod", "10.0.5.3", "gw"))
    results = ahead(scan(tmp_path).results)
    assert [(r.outcome, r.installation) for r in results] == [
        (Outcome.PASSED, "ns:apic-dev"), (Outcome.PASSED, "ns:apic-dev"),
        (Outcome.PASSED, "ns:apic-prod"), (Outcome.PASSED, "ns:apic-prod")]


def test_a_gateway_ahead_in_its_own_installation_still_blocks(tmp_path: Path) -> None:
    write(tmp_path / "dev" / "apic.yaml", cr("ManagementCluster", "apic-dev", "10.0.5.3", "m")
          + "---\n" + cr("GatewayCluster", "apic-dev", "10.0.8.0", "gw"))
    write(tmp_path / "prod" / "apic.yaml", cr("ManagementCluster", "apic-prod", "10.0.8.0", "m"))
    [failed] = [r for r in ahead(scan(tmp_path).results) if r.outcome is Outcome.FAILED]
    assert (failed.installation, failed.line, failed.json_path) == ("ns:apic-dev", 16,
                                                                   "$.spec.version")
    assert "management version 10.0.5.3" in failed.message


def test_a_remote_gateway_joins_the_only_management(tmp_path: Path) -> None:
    """Issue: an APIConnectCluster is the management reference of a remote gateway."""
    write(tmp_path / "apic.yaml", cr("APIConnectCluster", "apic", "10.0.5.3", "prod"))
    write(tmp_path / "remote-gw.yaml", cr("GatewayCluster", "dmz", "10.0.8.0", "gw"))
    [failed] = [r for r in ahead(scan(tmp_path).results) if r.outcome is Outcome.FAILED]
    assert (failed.installation, failed.line) == ("ns:dmz", 7)
    assert "management version 10.0.5.3" in failed.message


def test_a_remote_gateway_with_several_managements_is_not_evaluated(tmp_path: Path) -> None:
    write(tmp_path / "mgmt.yaml", cr("ManagementCluster", "apic-a", "10.0.5.3", "m")
          + "---\n" + cr("ManagementCluster", "apic-b", "10.0.8.0", "m"))
    write(tmp_path / "remote-gw.yaml", cr("GatewayCluster", "dmz", "10.0.8.0", "gw"))
    [waiting] = [r for r in ahead(scan(tmp_path).results) if r.outcome is Outcome.NOT_EVALUATED]
    assert waiting.installation == "ns:dmz" and waiting.line == 7
    assert "2 other installations have one (ns:apic-a, ns:apic-b)" in waiting.message
    assert "upgrade-lint.io/installation" in waiting.message
    # The label settles it.
    labelled = cr("GatewayCluster", "dmz", "10.0.8.0", "gw",
                  "  labels: {upgrade-lint.io/installation: ns:apic-b}\n")
    write(tmp_path / "remote-gw.yaml", labelled)
    results = ahead(scan(tmp_path).results)
    assert {r.outcome for r in results} == {Outcome.PASSED}


def test_installation_mapping_groups_values_files(tmp_path: Path) -> None:
    kong = FIXTURES / "kong" / "kong-dp-ahead-of-cp" / "fire-newer-minor"
    for env in ("dev", "prod"):
        for source in sorted(kong.iterdir()):
            write(tmp_path / env / source.name, source.read_text())
    by_dir = of_rule(scan(tmp_path).results, "kong-dp-ahead-of-cp", Outcome.FAILED)
    assert {r.installation for r in by_dir} == {f"dir:{tmp_path}/dev", f"dir:{tmp_path}/prod"}
    mapped = of_rule(scan(tmp_path, installations=_map(f"live={tmp_path}/*")).results,
                     "kong-dp-ahead-of-cp", Outcome.FAILED)
    assert {r.installation for r in mapped} == {"live"} and len(mapped) == 2


def _map(*texts: str):  # type: ignore[no-untyped-def]
    from checks.engine.installations import InstallationMap

    return InstallationMap.parse(texts)


KONG_CP = FIXTURES / "kong" / "kong-declarative-backup-missing" / "fire.yaml"


def test_backup_rules_apply_only_when_an_upgrade_is_planned() -> None:
    def backup(**options: object) -> tuple[Outcome, str]:
        [result] = of_rule(scan(KONG_CP, **options).results, "kong-declarative-backup-missing")
        return result.outcome, result.message

    declared = scan(KONG_CP).context.path("kong").target
    assert declared is not None
    same = backup(currents={"kong": str(declared)})
    assert same == (Outcome.NOT_APPLICABLE, f"no kong upgrade planned of dir:{KONG_CP.parent}: "
                                            f"current and target are both {declared}")
    outcome, message = backup()
    assert outcome is Outcome.NOT_EVALUATED and "give --from kong=VERSION or --base REF" in message
    assert backup(currents={"kong": "3.3.0"})[0] is Outcome.FAILED


def test_target_wins_over_the_declared_version_for_path_checks(tmp_path: Path) -> None:
    """--from 10.0.8.6 --target 12.1.1.0 on 10.0.8.6 CRs is not a same-version pass."""
    f = write(tmp_path / "gw.yaml", cr("GatewayCluster", "apic", "10.0.8.6", "gw"))
    results = scan(f, currents={"apiconnect": "10.0.8.6"}, targets={"apiconnect": "12.1.1.0"})
    [path] = of_rule(results.results, "apic-upgrade-path-unsupported")
    assert path.outcome is Outcome.FAILED and "10.0.8.6 -> 12.1.1.0" in path.message
    assert (path.line, path.json_path) == (7, "$.spec.version")  # the field, not the document


def test_declared_older_than_target_is_the_current_version(tmp_path: Path) -> None:
    f = write(tmp_path / "gw.yaml", cr("GatewayCluster", "apic", "10.0.8.0", "gw"))
    path = scan(f, targets={"apiconnect": "10.0.11.0"}).context.of("ns:apic").path("apiconnect")
    assert (str(path.current), str(path.target)) == ("10.0.8.0", "10.0.11.0")
    assert path.current_source == f"{f}:7 (declared; --target is newer)"


def test_migration_rules_need_their_path(tmp_path: Path) -> None:
    amp = REPO / "fixtures" / "demo" / "3scale" / "amp.yml"
    rule = "3scale-mysql-plaintext-credentials"
    derived = of_rule(scan(amp).results, rule)
    assert {r.outcome for r in derived} == {Outcome.NOT_EVALUATED}
    older = of_rule(scan(amp, currents={"3scale": "2.3.0"}, targets={"3scale": "2.4.0"}).results,
                    rule)
    assert {r.outcome for r in older} == {Outcome.NOT_APPLICABLE}
    planned = of_rule(scan(amp, targets={"3scale": "2.5.0"}).results, rule, Outcome.FAILED)
    assert [r.line for r in planned] == [52, 54]


def test_product_wide_backup_must_name_its_installation_when_there_are_several(
        tmp_path: Path) -> None:
    for env in ("dev", "prod"):
        write(tmp_path / env / "values.yaml", KONG_CP.read_text())
    backup = FIXTURES / "kong" / "kong-declarative-backup-missing" / "backups" / "kong_backup.yaml"
    options = {"currents": {"kong": "3.3.0"}, "max_backup_age_seconds": 1e12}
    shared = of_rule(scan(tmp_path, backups={"kong": str(backup)}, **options).results,
                     "kong-declarative-backup-missing")
    assert {r.outcome for r in shared} == {Outcome.NOT_EVALUATED}
    assert "give --backup kong@INSTALLATION=PATH" in shared[0].message
    named = of_rule(scan(tmp_path, backups={f"kong@dir:{tmp_path}/dev": str(backup)},
                         **options).results, "kong-declarative-backup-missing")
    assert {(r.installation, r.outcome) for r in named} == {
        (f"dir:{tmp_path}/dev", Outcome.PASSED), (f"dir:{tmp_path}/prod", Outcome.FAILED)}
    # Every report names the installation a backup was given for, and its outcome there.
    from checks.model import Severity
    from checks.reports.json_report import build
    from checks.reports.model import Report

    result = scan(tmp_path, backups={f"kong@dir:{tmp_path}/dev": str(backup)}, **options)
    [row] = build(Report.build(result, result.results, Severity.ERROR, [str(tmp_path)]))["backups"]
    assert (row["installation"], row["rules"]) == (
        f"dir:{tmp_path}/dev", [{"rule_id": "kong-declarative-backup-missing", "outcome": "passed"}])


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checks.cli", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=120)


def test_require_evaluated_turns_unknown_into_failure() -> None:
    plain = run("scan", str(KONG_CP))
    assert plain.returncode == 0, plain.stdout
    assert "gating rules not evaluated: 1" in plain.stdout
    assert "upgrade-lint INCOMPLETE:" in plain.stdout.splitlines()[-1]
    strict = run("scan", str(KONG_CP), "--require-evaluated")
    assert strict.returncode == 1, strict.stdout
    assert strict.stdout.splitlines()[-1].startswith("upgrade-lint FAIL: 1 finding(s)")


def test_a_migration_step_needs_a_planned_upgrade(tmp_path: Path) -> None:
    """apic-backup-not-configured (to 10.0.7.0+) on a 10.0.8.6 ManagementCluster
    without objstore backups: only an upgrade to it needs the step."""
    f = write(tmp_path / "mgmt.yaml", cr("ManagementCluster", "apic", "10.0.8.6", "m"))

    def outcome(**options: object) -> Outcome:
        [result] = of_rule(scan(f, **options).results, "apic-backup-not-configured")
        return result.outcome

    assert outcome() is Outcome.NOT_EVALUATED
    assert outcome(currents={"apiconnect": "10.0.8.6"}) is Outcome.NOT_APPLICABLE
    assert outcome(currents={"apiconnect": "10.0.5.3"}) is Outcome.FAILED


def test_target_wins_over_declared_versions_for_planned_upgrades() -> None:
    """--from 3.4.1 --target 3.4.1: no upgrade planned, whatever the files declare."""
    results = scan(REPO / "fixtures" / "corpus" / "kong", currents={"kong": "3.4.1"},
                   targets={"kong": "3.4.1"}).results
    backups = of_rule(results, "kong-declarative-backup-missing")
    assert {r.outcome for r in backups} == {Outcome.NOT_APPLICABLE}
