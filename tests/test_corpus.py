"""Real public manifests: no error or blocker rule may fire on them."""

from __future__ import annotations

from checks.model import Outcome, Severity
from tests.support import CORPUS, of_rule, scan


def test_no_error_or_blocker_fires_on_the_kong_chart_corpus() -> None:
    results = scan(CORPUS / "kong").results
    loud = [f"{r.location} {r.rule_id}: {r.message}" for r in results
            if r.outcome in (Outcome.FAILED, Outcome.INVALID_INPUT)
            and r.severity >= Severity.ERROR]
    assert loud == []


def test_nothing_at_all_fires_or_goes_unevaluated_on_the_corpus() -> None:
    """Today's rules are all errors or blockers; none may even be unsure here."""
    results = scan(CORPUS / "kong").results
    assert {r.outcome for r in results} <= {Outcome.PASSED, Outcome.NOT_APPLICABLE}


def test_kong_rules_really_evaluated_every_corpus_file() -> None:
    results = scan(CORPUS / "kong").results
    for rule_id in ("kong-role-database-mismatch", "kong-dp-ahead-of-cp"):
        assert len(of_rule(results, rule_id, Outcome.PASSED)) == 6, rule_id
