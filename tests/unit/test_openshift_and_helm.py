"""OpenShift Template rendering and Helm values recognition and merging."""

from __future__ import annotations

from pathlib import Path

from checks.sources.helm import coalesce, detect_chart
from checks.sources.manifests import ScanInputs, load
from checks.sources.openshift import render_objects
from tests.support import CORPUS, write

TEMPLATE = {
    "apiVersion": "template.openshift.io/v1", "kind": "Template",
    "parameters": [{"name": "USER", "value": "mysql"}, {"name": "PW", "generate": "expression"},
                   {"name": "REPLICAS", "value": "3"}],
    "objects": [{"kind": "X", "spec": {"user": "${USER}", "url": "mysql://${USER}:${PW}@db",
                                        "replicas": "${{REPLICAS}}", "other": "${NOPE}"}}],
}


def test_template_parameters_render_with_defaults() -> None:
    [obj] = render_objects(TEMPLATE)
    assert obj.body["spec"]["user"] == "mysql"
    assert obj.body["spec"]["replicas"] == 3  # ${{...}} keeps the type
    assert obj.body["spec"]["url"] == "mysql://mysql:${PW}@db"
    assert obj.unresolved == {("spec", "url"), ("spec", "other")}


def test_template_objects_are_resources_with_their_own_lines(tmp_path: Path) -> None:
    f = write(tmp_path / "t.yaml", "apiVersion: template.openshift.io/v1\nkind: Template\n"
                                  "parameters:\n- name: NAME\n  value: app\nobjects:\n"
                                  "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: ${NAME}\n")
    out = load(ScanInputs([str(f)]))
    [r] = out.resources
    assert (r.name, r.origin.line, r.origin.prefix) == ("app", 7, ("objects", 0))
    assert out.locator is not None and out.locator.line(r.origin, ("metadata", "name")) == 10


def test_corpus_values_files_are_recognised_as_kong() -> None:
    out = load(ScanInputs([str(CORPUS / "kong")]))
    assert {r.chart for r in out.resources} == {"kong"} and len(out.resources) == 6


def test_chart_detection_by_content() -> None:
    assert detect_chart({"dashboard": {"image": {"tag": "v3.7.3"}}}) == "api7ee3"
    assert detect_chart({"apisix": {"image": {"tag": "3.7.3"}}}) == "api7-gateway"
    assert detect_chart({"image": {"repository": "kong/kong-gateway"}}) == "kong"
    assert detect_chart({"env": {"role": "data_plane"}}) == "kong"
    assert detect_chart({"replicaCount": 2}) is None


def test_helm_coalesce_semantics() -> None:
    taken: set[tuple[str | int, ...]] = set()
    merged = coalesce({"env": {"role": "data_plane", "prefix": None}, "list": [1]},
                      {"env": {"database": "off", "prefix": "/kong"}, "list": [1, 2, 3]}, taken)
    assert merged == {"env": {"database": "off", "role": "data_plane"}, "list": [1]}
    assert taken == {("env", "database")}


def test_values_file_named_explicitly_uses_that_chart(tmp_path: Path) -> None:
    f = write(tmp_path / "custom.yaml", "replicaCount: 3\n")
    out = load(ScanInputs([], values={str(f): "kong"}))
    [r] = out.resources
    assert r.chart == "kong" and r.body["env"]["database"] == "off"
    assert r.is_defaulted(("env", "database")) and not r.is_defaulted(("replicaCount",))
