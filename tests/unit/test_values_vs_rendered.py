"""Helm values and the workloads the chart renders from them get one verdict.

Each pair below is a values file and the Deployments `helm template` renders
from it: for Kong the chart turns ``env.<key>`` into ``KONG_<KEY>`` on the
``proxy`` container; for API7 the image tags become the control-plane and
gateway images. Every rule that reads them must agree on both forms.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.model import Outcome
from tests.support import scan, write

RULES = ("kong-role-database-mismatch", "kong-dp-cluster-settings-missing",
         "kong-rolling-upgrade-inapplicable")


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
    "pki data plane trusting the system store": {
        "role": "data_plane", "database": "off", "cluster_mtls": "pki",
        "cluster_control_plane": "cp:8005", "cluster_cert": "/c/t.crt",
        "cluster_cert_key": "/c/t.key", "lua_ssl_trusted_certificate": "system"},
    "pki data plane without a CA": {
        "role": "data_plane", "database": "off", "cluster_mtls": "pki",
        "cluster_control_plane": "cp:8005", "cluster_cert": "/c/t.crt",
        "cluster_cert_key": "/c/t.key", "lua_ssl_trusted_certificate": "/c/t.crt"},
    "traditional node on postgres": {"database": "postgres"},
}
HEALTHY = ("healthy data plane", "pki data plane trusting the system store")


@pytest.mark.parametrize("env", CASES.values(), ids=CASES.keys())
def test_same_verdict_from_values_and_rendered(env: dict[str, str], tmp_path: Path) -> None:
    def verdicts(text: str, name: str) -> dict[str, list[str]]:
        results = scan(write(tmp_path / name, text)).results
        return {rule: sorted(r.outcome.value for r in results if r.rule_id == rule)
                for rule in RULES}

    from_values = verdicts(_values(env), "values.yaml")
    assert from_values == verdicts(_rendered(env), "deployment.yaml")
    healthy = any(env is CASES[name] for name in HEALTHY)
    assert any(Outcome.FAILED.value in v for v in from_values.values()) is not healthy


# API7: the api7ee3 chart renders one Deployment per control-plane component,
# image `<repository>:<tag | default .Chart.AppVersion>` (container named after
# the component); the gateway chart one Deployment whose container is named
# after the chart. The version and path rules must agree on both forms.
API7_RULES = ("api7-dp-ahead-of-cp", "api7-version-skew", "api7-cp-components-mismatch",
              "api7-image-tag-invalid", "api7-upgrade-path-unsupported",
              "api7-traffic-split-present")
API7_CP = {"dashboard": ("dashboard", "api7/api7-ee-3-integrated"),
           "dp_manager": ("dp-manager", "api7/api7-ee-dp-manager"),
           "developer_portal": ("developer-portal", "api7/api7-ee-developer-portal")}


def _api7_values(tags: dict[str, str]) -> tuple[str, str]:
    control = "".join(f"{key}:\n  image:\n    repository: {API7_CP[key][1]}\n"
                      f"    tag: \"{tags[key]}\"\n" for key in API7_CP)
    gateway = ("apisix:\n  image:\n    repository: api7/api7-ee-3-gateway\n"
               f"    tag: \"{tags['apisix']}\"\n")
    return control, gateway


def _api7_rendered(tags: dict[str, str]) -> str:
    def deployment(name: str, container: str, image: str) -> str:
        return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, "
                "namespace: api7}\nspec:\n  template:\n    spec:\n      containers:\n"
                f"      - name: {container}\n        image: {image}\n")
    documents = [deployment(f"api7ee3-{name}", name, f"{repository}:{tags[key]}")
                 for key, (name, repository) in API7_CP.items()]
    documents.append(deployment("api7-ee-3-gateway", "gateway",
                                f"api7/api7-ee-3-gateway:{tags['apisix']}"))
    return "---\n".join(documents)


def _tags(cp: str, gateway: str, **components: str) -> dict[str, str]:
    return {"dashboard": cp, "dp_manager": cp, "developer_portal": cp, "apisix": gateway,
            **components}


API7_CASES = {
    "aligned release": _tags("v3.7.3", "3.7.3"),
    "gateway ahead of the control plane": _tags("v3.6.4", "3.7.3"),
    "developer portal left behind": _tags("v3.7.3", "3.7.3", developer_portal="v3.4.2"),
    "tag conventions swapped": _tags("v3.7.3", "v3.7.3", dashboard="3.7.3"),
    "minor skipped": _tags("v3.8.0", "3.8.0"),
}


@pytest.mark.parametrize("tags", API7_CASES.values(), ids=API7_CASES.keys())
def test_api7_same_verdict_from_values_and_rendered(tags: dict[str, str],
                                                    tmp_path: Path) -> None:
    def verdicts(*paths: Path) -> dict[str, tuple[str, int]]:
        """Per rule: its worst outcome and how many findings it has.

        One values file renders several objects, so passing results are not
        counted: the verdict and the findings are what must agree.
        """
        results = scan(*paths, currents={"api7": "3.6.4"}).results
        worst_first = (Outcome.FAILED, Outcome.NOT_EVALUATED, Outcome.PASSED,
                       Outcome.NOT_APPLICABLE)
        verdict = {}
        for rule in API7_RULES:
            outcomes = [r.outcome for r in results if r.rule_id == rule]
            worst = next(o for o in worst_first if o in outcomes)
            verdict[rule] = (worst.value, outcomes.count(Outcome.FAILED))
        return verdict

    control, gateway = _api7_values(tags)
    from_values = verdicts(write(tmp_path / "values" / "api7ee3-values.yaml", control),
                           write(tmp_path / "values" / "gateway-values.yaml", gateway))
    from_rendered = verdicts(write(tmp_path / "rendered.yaml", _api7_rendered(tags)))
    assert from_values == from_rendered
    assert (from_values["api7-upgrade-path-unsupported"][0] == Outcome.FAILED.value) == (
        tags is API7_CASES["minor skipped"])
    assert any(worst == Outcome.FAILED.value for worst, _ in from_values.values()) == (
        tags is not API7_CASES["aligned release"])
