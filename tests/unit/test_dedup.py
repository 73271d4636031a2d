"""defer_to: a field is left to the specific rule only when that rule reports it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from checks.model import Outcome
from tests.support import REPO, of_rule, scan, write

SPECIFIC = "3scale-mysql-plaintext-credentials"
DC = """\
apiVersion: apps.openshift.io/v1
kind: DeploymentConfig
metadata: {name: system-mysql}
spec:
  template:
    spec:
      containers:
      - name: system-mysql
        image: mysql:5.7
        env:
        - {name: MYSQL_PASSWORD, value: mysql-s3cret}
"""


def _rules(tmp_path: Path, when: str | None) -> Path:
    rules = tmp_path / "rules"
    for rule_id, product in ((SPECIFIC, "3scale"), ("plaintext-credential-env", "kubernetes")):
        (rules / product).mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "rules" / product / f"{rule_id}.yaml", rules / product)
    if when is not None:
        specific = rules / "3scale" / f"{SPECIFIC}.yaml"
        specific.write_text(re.sub(r"^when:\n(?:  .*\n)+", f"when: {when}\n",
                                   specific.read_text(), count=1, flags=re.M))
    return rules


def _generic_lines(tmp_path: Path, when: str | None, **options: object) -> list[int | None]:
    write(tmp_path / "in" / "dc.yaml", DC)
    write(tmp_path / "in" / "other.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    results = scan(tmp_path / "in", rules_dir=_rules(tmp_path, when), **options).results
    return [r.line for r in of_rule(results, "plaintext-credential-env", Outcome.FAILED)]


def test_the_field_the_specific_rule_reports_is_left_to_it(tmp_path: Path) -> None:
    # The specific rule is a 2.4 -> 2.5 migration step: on that path it reports the field.
    assert _generic_lines(tmp_path, None, currents={"3scale": "2.4.0"},
                          targets={"3scale": "2.5.0"}) == []


def test_the_generic_rule_reports_it_when_the_specific_rule_does_not_apply(
        tmp_path: Path) -> None:
    # The specific rule is about upgrades to 2.5: for a 2.4 target it says nothing.
    old = {"currents": {"3scale": "2.3.0"}}
    assert _generic_lines(tmp_path, "{to: '>=2.5'}", targets={"3scale": "2.4.0"}, **old) == [11]
    assert _generic_lines(tmp_path, "{to: '>=2.5'}", targets={"3scale": "2.5.0"}, **old) == []
    # The same with two worker processes, where rules that need no context are
    # evaluated before the context exists: a deferring rule waits for it.
    assert _generic_lines(tmp_path, "{to: '>=2.5'}", targets={"3scale": "2.5.0"}, jobs=2,
                          **old) == []
    # Undecidable (no target): the specific rule is not evaluated, so not reported.
    assert _generic_lines(tmp_path, "{to: '>=2.5'}") == [11]
