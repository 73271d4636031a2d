"""Helm values and the workloads the chart renders from them get one verdict.

Each pair below is a Kong values file and the Deployment `helm template`
renders from it (the chart turns ``env.<key>`` into ``KONG_<KEY>`` on the
``proxy`` container). Every Kong rule that reads settings must agree on both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.model import Outcome
from tests.support import scan, write

RULES = ("kong-role-database-mismatch", "kong-dp-cluster-settings-missing")


def _values(env: dict[str, str]) -> str:
    lines = ["image:", "  repository: kong", '  tag: "3.5"', "env:"]
    lines += [f'  {key}: "{value}"' for key, value in env.items()]
    return "\n".join(lines) + "\n"


def _rendered(env: dict[str, str]) -> str:
    env_lines = "".join(f"        - name: KONG_{key.upper()}\n          value: \"{value}\"\n"
                        for key, value in env.items())
    return ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: kong, namespace: kong}\n"
            "spec:\n  template:\n    spec:\n      containers:\n      - name: proxy\n"
            "        image: kong:3.5\n        env:\n" + env_lines)


CASES = {
    "healthy data plane": {"role": "data_plane", "database": "off",
                           "cluster_control_plane": "cp:8005", "cluster_cert": "/c/tls.crt",
                           "cluster_cert_key": "/c/tls.key"},
    "data plane with postgres": {"role": "data_plane", "database": "postgres",
                                 "cluster_control_plane": "cp:8005", "cluster_cert": "/c/t.crt",
                                 "cluster_cert_key": "/c/t.key"},
    "control plane without a database": {"role": "control_plane", "database": "off"},
    "data plane without certificates": {"role": "data_plane", "database": "off",
                                        "cluster_control_plane": "cp:8005"},
}


@pytest.mark.parametrize("env", CASES.values(), ids=CASES.keys())
def test_same_verdict_from_values_and_rendered(env: dict[str, str], tmp_path: Path) -> None:
    def verdicts(text: str, name: str) -> dict[str, list[str]]:
        results = scan(write(tmp_path / name, text)).results
        return {rule: sorted(r.outcome.value for r in results if r.rule_id == rule)
                for rule in RULES}

    from_values = verdicts(_values(env), "values.yaml")
    assert from_values == verdicts(_rendered(env), "deployment.yaml")
    assert any(Outcome.FAILED.value in v for v in from_values.values()) == (
        env is not CASES["healthy data plane"])
