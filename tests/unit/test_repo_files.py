"""Files of a real repository that are not manifests are skipped, with the reason;
broken YAML stays invalid input; --exclude and .upgradelintignore leave files out."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.model import InputError, Skipped
from checks.sources import repo_files
from checks.sources.ignore import Excluder, compile_patterns
from checks.sources.manifests import ScanInputs, discover_inputs, load
from tests.support import write

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n"
KONG_VALUES = "image:\n  repository: kong\n  tag: '3.4'\nenv:\n  database: 'off'\n"


def skipped(*paths: Path, **kw: object) -> list[tuple[str, int, str]]:
    out = load(ScanInputs([str(p) for p in paths], **kw))  # type: ignore[arg-type]
    return [(Path(s.path).name, s.line, s.reason) for s in out.skipped]


@pytest.mark.parametrize(("name", "reason"), [
    ("Chart.yaml", repo_files.CHART_METADATA),
    ("values.schema.json", repo_files.CHART_METADATA),
    ("kustomization.yaml", repo_files.KUSTOMIZE),
    ("helmfile.yaml", repo_files.HELMFILE),
    (".gitlab-ci.yml", repo_files.CI),
    (".github/workflows/release.yaml", repo_files.CI),
    (".github/dependabot.yml", repo_files.CI),
    ("renovate.json", repo_files.DEPENDENCY_BOT),
    ("package.json", repo_files.PACKAGE),
    ("package-lock.json", repo_files.PACKAGE),
    ("tsconfig.build.json", repo_files.TOOL),
    (".pre-commit-config.yaml", repo_files.TOOL),
    ("mkdocs.yml", repo_files.TOOL),
    ("docker-compose.override.yml", repo_files.COMPOSE),
    (".devcontainer/devcontainer.json", repo_files.EDITOR),
])
def test_known_files_are_skipped_by_name_unread(tmp_path: Path, name: str, reason: str) -> None:
    # Broken on purpose: a file known by its name is not even parsed.
    f = write(tmp_path / name, "key: [unclosed\n")
    out = load(ScanInputs([str(tmp_path)]))
    assert out.errors == []
    assert out.skipped == [Skipped(str(f), 1, reason)]


def test_chart_templates_are_skipped_whole(tmp_path: Path) -> None:
    chart = tmp_path / "charts" / "shop"
    write(chart / "Chart.yaml", "apiVersion: v2\nname: shop\nversion: 0.1.0\n")
    # No template action in it, and still a template of the chart.
    plain = write(chart / "templates" / "sa.yaml", "apiVersion: v1\nkind: ServiceAccount\n"
                                                   "metadata: {name: shop}\n")
    broken = write(chart / "templates" / "cm.yaml", "metadata:\n  name: {{ .Release.Name }}\n"
                                                    "  labels:\n    {{- include \"l\" . }}\n")
    out = load(ScanInputs([str(tmp_path)]))
    assert out.errors == [] and out.resources == []
    assert [(s.path, s.reason) for s in out.skipped if "/templates/" in s.path] == [
        (str(broken), repo_files.CHART_TEMPLATE), (str(plain), repo_files.CHART_TEMPLATE)]


def test_templates_dir_without_chart_yaml_needs_template_actions(tmp_path: Path) -> None:
    """OpenShift keeps Template objects in templates/ folders: those are scanned.
    Go template actions below templates/ mark a chart being assembled."""
    go = write(tmp_path / "templates" / "deployment.yaml", "kind: Deployment\n"
                                                          "replicas: {{ .Values.replicas }}\n")
    oc = write(tmp_path / "openshift" / "templates" / "app.yaml",
               "apiVersion: template.openshift.io/v1\nkind: Template\nmetadata: {name: app}\n"
               "objects:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: '${NAME}'}\n"
               "parameters:\n- name: NAME\n  value: app-config\n")
    out = load(ScanInputs([str(tmp_path)]))
    assert out.errors == []
    assert out.skipped == [Skipped(str(go), 1, repo_files.CHART_TEMPLATE)]
    assert [(r.kind, r.name, r.origin.path) for r in out.resources] == [
        ("ConfigMap", "app-config", str(oc))]


def test_apiversion_alone_is_skipped_half_an_object_is_invalid(tmp_path: Path) -> None:
    index = write(tmp_path / "index.yaml", "apiVersion: v1\nentries:\n  shop:\n  - version: 1.0.0\n"
                                           "generated: '2024-05-01T10:00:00Z'\n")
    half = write(tmp_path / "svc.yaml", "apiVersion: v1\nmetadata: {name: shop}\nspec: {}\n")
    # Values of a chart that has a top-level metadata key: still values.
    values = write(tmp_path / "values.yaml", "metadata:\n  team: shop\n")
    out = load(ScanInputs([str(tmp_path)]))
    assert out.skipped == [Skipped(str(index), 1, repo_files.VERSION_ONLY),
                           Skipped(str(values), 1, repo_files.UNSUPPORTED_VALUES)]
    assert out.errors == [InputError(str(half), 1,
                                     "document 1 has no kind; not a Kubernetes object")]


def test_broken_yaml_outside_templates_stays_invalid_input(tmp_path: Path) -> None:
    f = write(tmp_path / "deploy.yaml", "metadata:\n  name: {{ .Release.Name }}\n  x: [\n")
    out = load(ScanInputs([str(tmp_path)]))
    assert out.skipped == [] and [e.path for e in out.errors] == [str(f)]


def test_other_charts_values_are_skipped_supported_charts_still_recognised(
        tmp_path: Path) -> None:
    chart = tmp_path / "charts" / "kong-wrapper"
    write(chart / "Chart.yaml", "apiVersion: v2\nname: kong-wrapper\nversion: 1.0.0\n")
    kong = write(chart / "values.yaml", KONG_VALUES)
    write(tmp_path / "envs" / "prod" / "ingress-nginx-values.yaml",
          "controller:\n  replicaCount: 3\n")
    write(tmp_path / "envs" / "prod" / "values" / "redis.yaml", "architecture: standalone\n")
    write(tmp_path / "docs" / "openapi.yaml", "openapi: 3.0.3\ninfo: {title: x, version: '1'}\n")
    # chart-testing's values in a chart's ci/, and a folder of example values
    write(chart / "ci" / "pdb.yaml", "podDisruptionBudget:\n  enabled: true\n")
    write(chart / "ci" / ".chartsnap.yaml", "dynamicFields: []\n")
    write(chart / "example-values" / "minimal.yaml", "replicaCount: 1\n")
    out = load(ScanInputs([str(tmp_path)]))
    assert [(r.chart, r.origin.path) for r in out.resources] == [("kong", str(kong))]
    assert [(Path(s.path).name, s.line, s.reason) for s in out.skipped] == [
        ("Chart.yaml", 1, repo_files.CHART_METADATA),
        (".chartsnap.yaml", 1, repo_files.TOOL),
        ("pdb.yaml", 1, repo_files.UNSUPPORTED_VALUES),
        ("minimal.yaml", 1, repo_files.UNSUPPORTED_VALUES),
        ("openapi.yaml", 1, repo_files.NOT_AN_OBJECT),
        ("ingress-nginx-values.yaml", 1, repo_files.UNSUPPORTED_VALUES),
        ("redis.yaml", 1, repo_files.UNSUPPORTED_VALUES),
    ]
    assert out.errors == []


def test_values_named_on_the_command_line_are_never_skipped(tmp_path: Path) -> None:
    f = write(tmp_path / "values.yaml", "replicaCount: 2\n")
    out = load(ScanInputs([], values={str(f): "kong"}))
    assert out.skipped == [] and [r.chart for r in out.resources] == ["kong"]


def test_a_file_of_non_objects_is_one_entry_a_mixed_file_one_per_document(
        tmp_path: Path) -> None:
    only = write(tmp_path / "a-settings.yaml", "a: 1\n---\nb: 2\n")
    mixed = write(tmp_path / "b-mixed.yaml", f"{CONFIGMAP}---\n# notes\nowner: team-a\n")
    assert skipped(only, mixed) == [
        ("a-settings.yaml", 1, repo_files.NOT_AN_OBJECT + " (2 documents)"),
        ("b-mixed.yaml", 6, "document 2: " + repo_files.NOT_AN_OBJECT),
    ]


def test_explicitly_named_file_is_skipped_not_invalid(tmp_path: Path) -> None:
    f = write(tmp_path / "kustomization.yaml", "resources: [a.yaml]\n")
    out = load(ScanInputs([str(f)]))
    assert out.errors == [] and out.skipped == [Skipped(str(f), 1, repo_files.KUSTOMIZE)]


def test_not_utf8_and_duplicate_keys_stay_invalid_in_a_repository(tmp_path: Path) -> None:
    write(tmp_path / "notes.yaml", "owner: caf\xe9\n".encode("latin-1"))
    write(tmp_path / "twice.yaml", "owner: a\nowner: b\n")
    out = load(ScanInputs([str(tmp_path)]))
    assert out.skipped == []
    assert [(Path(e.path).name, e.line) for e in out.errors] == [("notes.yaml", 1),
                                                                 ("twice.yaml", 2)]


# ---------------------------------------------------------------- exclusions


@pytest.mark.parametrize(("patterns", "path", "excluded"), [
    (["ci/*.yml"], "ci/test.yml", True),
    (["ci/*.yml"], "charts/x/ci/test.yml", False),  # a slash inside anchors it
    (["*.json"], "a/b/package.json", True),  # no slash: any depth
    (["/envs/dev"], "envs/dev/x.yaml", True),
    (["/envs/dev"], "other/envs/dev/x.yaml", False),
    (["./ci/*.yml"], "ci/test.yml", True),  # written the shell way
    (["./ci/*.yml"], "x/ci/test.yml", False),
    (["**/templates/**"], "charts/x/templates/d.yaml", True),
    (["**/templates/**"], "templates/d.yaml", True),
    (["**/templates/**"], "templates.yaml", False),
    (["envs/**/secret*.yaml"], "envs/prod/eu/secret-db.yaml", True),
    (["build/"], "build/out.yaml", True),
    (["build/"], "build", False),  # directories only
    (["*.yaml", "!keep.yaml"], "keep.yaml", False),
    (["envs/", "!envs/prod/keep.yaml"], "envs/prod/keep.yaml", True),  # as in git
    (["# comment", "", "x?.yaml"], "x1.yaml", True),
    (["x[0-9].yaml"], "xa.yaml", False),
    (["x[!0-9].yaml"], "xa.yaml", True),
    (["x[.yaml"], "x[.yaml", True),  # an unterminated class is literal
])
def test_gitignore_patterns(patterns: list[str], path: str, excluded: bool) -> None:
    assert Excluder(compile_patterns(patterns)).excluded(path) is excluded


def test_exclude_and_ignore_file_leave_files_unread_and_counted(tmp_path: Path) -> None:
    write(tmp_path / ".upgradelintignore", "# generated by CI\n\nrendered/\n")
    write(tmp_path / "rendered" / "all.yaml", "key: [unclosed\n")  # never read
    write(tmp_path / "ci" / "lint.yml", "key: [unclosed\n")
    keep = write(tmp_path / "app.yaml", CONFIGMAP)
    inputs = ScanInputs([str(tmp_path)], exclude=["ci/*.yml"])
    found = discover_inputs(inputs)
    assert ([f.display for f in found.files], found.errors, found.excluded) == (
        [str(keep)], [], 2)
    assert load(inputs).errors == []


def test_exclude_does_not_apply_to_a_file_named_on_the_command_line(tmp_path: Path) -> None:
    f = write(tmp_path / "ci" / "app.yaml", CONFIGMAP)
    found = discover_inputs(ScanInputs([str(f)], exclude=["ci/"]))
    assert [x.display for x in found.files] == [str(f)] and found.excluded == 0


def test_directory_of_excluded_files_is_not_a_missing_directory(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", CONFIGMAP)
    found = discover_inputs(ScanInputs([str(tmp_path)], exclude=["*.yaml"]))
    assert (found.files, found.errors, found.excluded) == ([], [], 1)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert discover_inputs(ScanInputs([str(empty)])).errors == [
        InputError(str(empty), 0, "no .yaml, .yml or .json files in this directory")]
