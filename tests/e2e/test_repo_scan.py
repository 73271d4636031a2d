"""A directory scan of an ordinary GitOps repository (fixtures/repos/gitops):
Kong values and Kubernetes objects per environment, an in-house chart's
source, CI pipelines and tooling metadata. Nothing in it may fail the gate;
everything that is not an object is skipped with its reason, in every report."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import xmlschema

from checks.model import Outcome, Severity, gates
from checks.sources import repo_files
from tests.e2e.test_cli import run
from tests.support import DATA, FIXTURES, REPO, scan, write

GITOPS = FIXTURES / "repos" / "gitops"
PLANTED = FIXTURES / "apiconnect" / "apic-template-override" / "fire.yaml"
SCHEMA = json.loads((REPO / "checks" / "reports" / "report.schema.json").read_text())

#: Every file of the repository that is not an object, and why (sorted as scanned).
SKIPPED = [
    (".github/workflows/ci.yml", repo_files.CI),
    (".gitlab-ci.yml", repo_files.CI),
    ("charts/billing-api/Chart.yaml", repo_files.CHART_METADATA),
    ("charts/billing-api/ci/default-values.yaml", repo_files.UNSUPPORTED_VALUES),
    ("charts/billing-api/templates/deployment.yaml", repo_files.CHART_TEMPLATE),
    ("charts/billing-api/templates/service.yaml", repo_files.CHART_TEMPLATE),
    ("charts/billing-api/values.yaml", repo_files.UNSUPPORTED_VALUES),
    ("docs/openapi.yaml", repo_files.NOT_AN_OBJECT),
    ("envs/dev/ingress-nginx-values.yaml", repo_files.UNSUPPORTED_VALUES),
    ("envs/dev/kustomization.yaml", repo_files.KUSTOMIZE),
    ("envs/prod/ingress-nginx-values.yaml", repo_files.UNSUPPORTED_VALUES),
    ("envs/prod/kustomization.yaml", repo_files.KUSTOMIZE),
    ("package.json", repo_files.PACKAGE),
    ("renovate.json", repo_files.DEPENDENCY_BOT),
]
#: What is checked: per environment a Namespace, a ConfigMap, a NetworkPolicy
#: and the Kong chart's values.
OBJECTS = sorted(
    (kind, f"envs/{env}/{file}")
    for env in ("dev", "prod")
    for kind, file in (("Namespace", "namespace.yaml"), ("ConfigMap", "gateway-config.yaml"),
                       ("NetworkPolicy", "gateway-config.yaml"), ("HelmValues", "kong-values.yaml")))


def _relative(path: str | None, root: Path) -> str:
    return Path(path or "").relative_to(root).as_posix()


def _gating(results: list, fail_on: Severity = Severity.ERROR) -> list[tuple[str, str, int | None]]:
    return [(r.rule_id, r.path, r.line) for r in results if gates(r.outcome, r.severity, fail_on)]


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    """The repository with one APIC GatewayCluster holding a template override."""
    repo = tmp_path / "gitops"
    shutil.copytree(GITOPS, repo)
    shutil.copy(PLANTED, repo / "envs" / "prod" / "apic-gateway.yaml")
    return repo


def test_repository_scan_checks_the_objects_and_skips_the_rest() -> None:
    result = scan(GITOPS)
    assert [r for r in result.results if r.outcome is Outcome.INVALID_INPUT] == []
    assert _gating(result.results, Severity.INFO) == []
    assert [(_relative(s.path, GITOPS), s.line, s.reason) for s in result.skipped] == [
        (path, 1, reason) for path, reason in SKIPPED]
    assert sorted((r.kind, _relative(r.origin.path, GITOPS)) for r in result.resources) == OBJECTS
    assert (result.files, result.objects, result.excluded) == (20, 8, 0)


def test_a_planted_blocker_is_the_only_failure(planted: Path) -> None:
    result = scan(planted)
    assert _gating(result.results) == [
        ("apic-template-override", str(planted / "envs" / "prod" / "apic-gateway.yaml"), 21)]
    assert len(result.skipped) == len(SKIPPED)


@pytest.mark.parametrize("jobs", [2, 3])
def test_jobs_give_the_same_results_and_skips(planted: Path, jobs: int) -> None:
    def everything(jobs: int) -> list[object]:
        result = scan(planted, jobs=jobs, exclude=["docs/"])
        return [*result.results, result.skipped, result.excluded, result.files, result.objects]

    assert everything(jobs) == everything(1)


def test_cli_reports_list_the_skipped_files(tmp_path: Path) -> None:
    proc = run("scan", "fixtures/repos/gitops", "--json", str(tmp_path / "r.json"),
               "--junit", str(tmp_path / "r.xml"), "--html", str(tmp_path / "r.html"))
    assert (proc.returncode, proc.stderr) == (0, "")
    lines = proc.stdout.splitlines()
    listed = lines.index("skipped (not checked, not failing):")
    assert lines[listed + 1:listed + 1 + len(SKIPPED)] == [
        f"fixtures/repos/gitops/{path}:1: {reason}" for path, reason in SKIPPED]
    assert lines[-1] == ("upgrade-lint PASS: 0 finding(s) at or above error; 8 object(s) in "
                         "20 file(s), 14 skipped, 45 rule(s)")

    report = json.loads((tmp_path / "r.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    assert (report["inputs"]["skipped"], report["inputs"]["excluded"]) == (14, 0)
    assert report["skipped"][0] == {"path": "fixtures/repos/gitops/.github/workflows/ci.yml",
                                    "line": 1, "reason": repo_files.CI}
    assert (report["verdict"], report["summary"]["invalid-input"]) == ("pass", 0)

    xmlschema.XMLSchema(str(DATA / "junit-10.xsd")).validate(str(tmp_path / "r.xml"))
    suite = next(s for s in ET.parse(tmp_path / "r.xml").getroot() if s.get("name") == "input")
    cases = [(c.get("name"), c.find("skipped").get("message")) for c in suite]  # type: ignore[union-attr]
    assert cases == [(f"fixtures/repos/gitops/{path}:1", f"skipped: {reason}")
                     for path, reason in SKIPPED]
    assert (suite.get("tests"), suite.get("skipped"), suite.get("failures")) == ("14", "14", "0")

    html = (tmp_path / "r.html").read_text()
    assert "<h2>Skipped files (14)</h2>" in html
    assert "<code>fixtures/repos/gitops/charts/billing-api/templates/service.yaml:1</code>" in html


def test_cli_exclude_and_ignore_file(tmp_path: Path) -> None:
    repo = tmp_path / "gitops"
    shutil.copytree(GITOPS, repo)
    write(repo / ".upgradelintignore", "# chart sources are rendered in CI\ncharts/\n")
    proc = run("scan", str(repo), "--exclude", ".github/", "--exclude", "*.json",
               "--junit", str(tmp_path / "r.xml"))
    assert proc.returncode == 0, proc.stdout
    # 5 chart files, the workflow, package.json and renovate.json: not read, counted.
    assert proc.stdout.splitlines()[-1] == (
        "upgrade-lint PASS: 0 finding(s) at or above error; 8 object(s) in 12 file(s), "
        "6 skipped, 8 excluded, 45 rule(s)")
    assert "charts/" not in proc.stdout and "renovate" not in proc.stdout
    xmlschema.XMLSchema(str(DATA / "junit-10.xsd")).validate(str(tmp_path / "r.xml"))
    suite = next(s for s in ET.parse(tmp_path / "r.xml").getroot() if s.get("name") == "input")
    assert [(p.get("name"), p.get("value")) for p in suite.iter("property")] == [
        ("excluded-files", "8")]


def test_a_scan_that_finds_no_object_fails_as_input(tmp_path: Path) -> None:
    charts = run("scan", "fixtures/repos/gitops/charts")
    assert charts.returncode == 1
    assert ("fixtures/repos/gitops/charts: invalid-input (error) no Kubernetes objects, Helm "
            "values of a supported chart or declarative gateway config found (5 skipped)"
            ) in charts.stdout.splitlines()
    everything_excluded = run("scan", "fixtures/repos/gitops", "--exclude", "*")
    assert everything_excluded.returncode == 1
    assert "found (20 excluded)" in everything_excluded.stdout
    empty = write(tmp_path / "empty.yaml", "# nothing here yet\n")
    proc = run("scan", str(empty))
    assert proc.returncode == 1
    assert (f"{empty}:1: invalid-input (error) no Kubernetes objects, Helm values of a supported "
            "chart or declarative gateway config found") in proc.stdout.splitlines()
    stdin = run("scan", "-", stdin=b"")
    assert stdin.returncode == 1 and "<stdin>:1: invalid-input (error) no Kubernetes" in stdin.stdout
    listed = run("scan", "-", stdin=b"- a\n- b\n")
    assert listed.returncode == 1
    assert ("named but not checked: <stdin>: a YAML list, not a Kubernetes object"
            in listed.stdout.splitlines())


def test_explicit_non_manifest_file_is_skipped_and_shown(tmp_path: Path) -> None:
    proc = run("scan", "fixtures/demo/kong/data-plane-values.yaml",
               "fixtures/repos/gitops/envs/prod/ingress-nginx-values.yaml",
               "-k", "role-database")
    assert (f"fixtures/repos/gitops/envs/prod/ingress-nginx-values.yaml:1: "
            f"{repo_files.UNSUPPORTED_VALUES}") in proc.stdout.splitlines()
    assert "invalid-input" not in proc.stdout
    assert proc.stdout.splitlines()[-2:] == [
        "named but not checked: fixtures/repos/gitops/envs/prod/ingress-nginx-values.yaml: "
        + repo_files.UNSUPPORTED_VALUES,
        "upgrade-lint FAIL: 1 finding(s) at or above error; 1 object(s) in 2 file(s), "
        "1 skipped, 1 rule(s)"]


def test_pytest_twin_option_and_xdist_sharing(pytester: pytest.Pytester) -> None:
    shutil.copytree(GITOPS, pytester.path / "gitops")

    def run_pytest(*extra: str) -> tuple[pytest.RunResult, dict[str, object]]:
        result = pytester.runpytest_subprocess(
            "--upgrade-lint", "gitops", "--upgrade-exclude", "charts/**", "--upgrade-json",
            "r.json", "-p", "no:cacheprovider", *extra)
        report = json.loads((pytester.path / "r.json").read_text())
        del report["generated_at"], report["duration_seconds"]
        return result, report

    alone, alone_report = run_pytest("-p", "no:xdist")
    shared, shared_report = run_pytest("-n", "2")
    assert alone.ret == shared.ret == pytest.ExitCode.OK
    assert shared_report == alone_report
    assert (alone_report["inputs"]["excluded"], alone_report["inputs"]["skipped"]) == (5, 9)
    alone.stdout.fnmatch_lines([
        "*= upgrade-lint =*", "skipped (not checked, not failing):",
        f"gitops/.github/workflows/ci.yml:1: {repo_files.CI}",
        "*8 object(s) in 15 file(s), 9 skipped, 5 excluded*"])
