"""Real public manifests: no error or blocker rule may fire on them."""

from __future__ import annotations

from checks.model import Outcome, Severity
from tests.support import CORPUS, FIXTURES, of_rule, scan

#: The backup rule needs evidence beside the manifests, as a pipeline gives it.
KONG_BACKUP = FIXTURES / "kong" / "kong-declarative-backup-missing" / "backups" / "kong_backup.yaml"
#: The chart's default image is Kong 3.9; the pipeline plans the upgrade from 3.8.
WITH_BACKUP = {"backups": {"kong": str(KONG_BACKUP)}, "max_backup_age_seconds": 1e12,
               "currents": {"kong": "3.8.0"}}


def test_no_error_or_blocker_fires_on_the_kong_chart_corpus() -> None:
    results = scan(CORPUS / "kong", **WITH_BACKUP).results
    loud = [f"{r.location} {r.rule_id}: {r.message}" for r in results
            if r.outcome in (Outcome.FAILED, Outcome.INVALID_INPUT)
            and r.severity >= Severity.ERROR]
    assert loud == []


def test_nothing_fails_and_only_path_rules_wait_for_versions() -> None:
    """No warning fires either; without --from only the rules that need the
    current version wait for it (the path, and the backup an upgrade needs)."""
    results = scan(CORPUS / "kong", **WITH_BACKUP).results
    assert [r for r in results if r.outcome in (Outcome.FAILED, Outcome.INVALID_INPUT,
                                                Outcome.NOT_EVALUATED)] == []
    unknown = scan(CORPUS / "kong", backups=WITH_BACKUP["backups"],
                   max_backup_age_seconds=1e12).results
    assert [r for r in unknown if r.outcome in (Outcome.FAILED, Outcome.INVALID_INPUT)] == []
    waiting = {(r.rule_id, r.message) for r in unknown if r.outcome is Outcome.NOT_EVALUATED}
    assert waiting == {
        ("kong-upgrade-path-unsupported",
         "the current kong version is unknown; give --from kong=VERSION or --base REF"),
        ("kong-declarative-backup-missing",
         f"the current kong version of dir:{CORPUS / 'kong'} is unknown, so it is not known "
         "whether an upgrade is planned; give --from kong=VERSION or --base REF")}


def test_derived_fixtures_fire_where_the_real_files_do_not() -> None:
    """Issue contract: newer DP minor, DP with postgres, unquoted off each fire."""
    cases = {
        "kong-dp-ahead-of-cp": FIXTURES / "kong" / "kong-dp-ahead-of-cp" / "fire-newer-minor",
        "kong-role-database-mismatch":
            FIXTURES / "kong" / "kong-role-database-mismatch" / "fire-data-plane-postgres.yaml",
        "kong-database-off-unquoted":
            FIXTURES / "kong" / "kong-database-off-unquoted" / "fire.yaml",
    }
    for rule_id, path in cases.items():
        assert of_rule(scan(path).results, rule_id, Outcome.FAILED), rule_id


def test_without_a_backup_only_the_backup_rule_fires() -> None:
    """When an upgrade is planned; with none planned, no backup is needed."""
    planned = scan(CORPUS / "kong", currents={"kong": "3.8.0"}).results
    assert {r.rule_id for r in planned if r.outcome is Outcome.FAILED} == {
        "kong-declarative-backup-missing"}
    unknown = scan(CORPUS / "kong").results
    assert [r for r in unknown if r.outcome is Outcome.FAILED] == []
    # Control planes would need one: not evaluated; data planes have nothing to back up.
    backups = of_rule(unknown, "kong-declarative-backup-missing")
    assert {r.outcome for r in backups} == {Outcome.NOT_EVALUATED, Outcome.PASSED}
    # One release running what it declares: no upgrade, no backup needed.
    release = CORPUS / "kong" / "values-kong-3.4.1.yaml"
    declared = scan(release).context.path("kong").target
    same = scan(release, currents={"kong": str(declared)}).results
    assert [r for r in same if r.outcome is Outcome.FAILED] == []
    [backup] = of_rule(same, "kong-declarative-backup-missing")
    assert backup.outcome is Outcome.NOT_APPLICABLE


def test_kong_rules_really_evaluated_every_corpus_file() -> None:
    results = scan(CORPUS / "kong", **WITH_BACKUP).results
    for rule_id in ("kong-role-database-mismatch", "kong-dp-ahead-of-cp"):
        assert len(of_rule(results, rule_id, Outcome.PASSED)) == 6, rule_id
