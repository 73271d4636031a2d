"""Files of a GitOps or chart repository that are not manifests.

A directory scan of a real repository meets CI pipelines, dependency-bot and
package metadata, kustomize and Helm chart sources next to the manifests. They
are well formed, but not something the rules read, so they are *skipped* with
the reason (listed in every report, never gating) instead of being reported as
unreadable input. Two ways to know:

- by name and place, before reading (``skip_reason_by_name``): a file's name
  says what it is (``Chart.yaml``, ``.gitlab-ci.yml``, ``package.json``) and
  a chart's ``templates/`` holds Go templates, not YAML;
- by content, after parsing (``document_skip_reason``): a document with
  neither ``apiVersion`` nor ``kind`` that is not Helm values of a supported
  chart nor declarative gateway config, an ``apiVersion`` alone (a Helm
  repository's ``index.yaml``), a list, or a plain value. A document with a
  ``kind``, or an ``apiVersion`` and ``metadata``, is meant as an object: what
  it lacks is an error.

Broken YAML is never skipped: it stays ``invalid-input``.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import PurePath
from typing import Any

from checks.objects import is_mapping

CHART_TEMPLATE = "Helm chart template: render with helm template and scan the output"
KUSTOMIZE = "kustomize configuration: run kustomize build and scan the output"
HELMFILE = "helmfile configuration: run helmfile template and scan the output"
CHART_METADATA = "Helm chart metadata, not a Kubernetes object"
CI = "CI/CD pipeline configuration, not a Kubernetes object"
EDITOR = "editor or development-container settings, not a Kubernetes object"
DEPENDENCY_BOT = "dependency update bot configuration, not a Kubernetes object"
PACKAGE = "package manager metadata, not a Kubernetes object"
TOOL = "development tool configuration, not a Kubernetes object"
COMPOSE = "Docker Compose file, not a Kubernetes object"
UNSUPPORTED_VALUES = ("Helm values not recognised as Kong, API7 or API7 gateway values: not "
                      "checked (name a supported chart's values file with --values CHART=FILE)")
NOT_AN_OBJECT = ("no apiVersion and no kind: not a Kubernetes object, Helm values of a "
                 "supported chart or declarative gateway config")
VERSION_ONLY = ("apiVersion without kind and metadata (like a Helm repository index): not a "
                "Kubernetes object")
A_LIST = "a YAML list, not a Kubernetes object"
A_SCALAR = "a single value, not a Kubernetes object"

#: Directories whose files are repository tooling, wherever they are.
_TOOLING_DIRS = {".github": CI, ".gitlab": CI, ".circleci": CI, ".buildkite": CI,
                 ".woodpecker": CI, ".vscode": EDITOR, ".devcontainer": EDITOR,
                 ".idea": EDITOR}
#: File names (case-sensitive, as the tools that read them are).
_BY_NAME = {
    **dict.fromkeys(("Chart.yaml", "Chart.yml", "values.schema.json"), CHART_METADATA),
    **dict.fromkeys(("kustomization.yaml", "kustomization.yml", "kustomizeconfig.yaml",
                     "kustomizeconfig.yml"), KUSTOMIZE),
    **dict.fromkeys(("helmfile.yaml", "helmfile.yml"), HELMFILE),
    **dict.fromkeys((".gitlab-ci.yml", ".gitlab-ci.yaml", ".travis.yml", "azure-pipelines.yml",
                     "azure-pipelines.yaml", "bitbucket-pipelines.yml", ".drone.yml",
                     ".woodpecker.yml", "cloudbuild.yaml", "cloudbuild.yml", "appveyor.yml",
                     "buildspec.yml", "codecov.yml", ".codecov.yml"), CI),
    **dict.fromkeys(("renovate.json", ".renovaterc.json", "dependabot.yml"), DEPENDENCY_BOT),
    **dict.fromkeys(("package.json", "package-lock.json", "composer.json", "lerna.json",
                     "nx.json", "turbo.json", "pnpm-lock.yaml", "pnpm-workspace.yaml",
                     ".yarnrc.yml"), PACKAGE),
    **dict.fromkeys(("jsconfig.json", "babel.config.json", ".pre-commit-config.yaml",
                     ".pre-commit-hooks.yaml", ".golangci.yml", ".golangci.yaml",
                     ".goreleaser.yml", ".goreleaser.yaml", "mkdocs.yml", "mkdocs.yaml",
                     "Taskfile.yml", "Taskfile.yaml", ".sops.yaml", "ct.yaml", "lintconf.yaml",
                     ".readthedocs.yaml", ".readthedocs.yml", ".gitpod.yml",
                     ".copier-answers.yml", "cookiecutter.json", "skaffold.yaml",
                     "devfile.yaml", ".spectral.yaml", ".chartsnap.yaml", ".checkov.yaml",
                     ".kube-linter.yaml"),
                    TOOL),
    **dict.fromkeys(("compose.yml", "compose.yaml"), COMPOSE),
}
#: Families of names: one pattern each (``tsconfig.build.json``, ``.eslintrc.yml``).
_BY_PATTERN = tuple((re.compile(pattern), reason) for pattern, reason in (
    (r"helmfile\..+\.ya?ml", HELMFILE),
    (r"tsconfig.*\.json", TOOL),
    (r"\.(?:eslintrc|prettierrc|stylelintrc|releaserc|markdownlint|yamllint)\b.*", TOOL),
    (r"docker-compose.*\.ya?ml", COMPOSE),
))
_ANY_PATTERN = re.compile("|".join(f"(?:{pattern.pattern})" for pattern, _ in _BY_PATTERN))
#: How values files are usually named: values.yaml, values-prod.yaml, prod-values.yaml.
_VALUES_NAME = re.compile(r"(?:values(?:[-_.][^/]*)?|[^/]*[-_.]values)\.(?:ya?ml|json)")


@cache
def is_chart_directory(directory: str) -> bool:
    """Does this directory hold a Helm chart (a ``Chart.yaml``)?"""
    return os.path.isfile(os.path.join(directory, "Chart.yaml"))


def _split(display: str) -> list[str]:
    """Path segments with plain string operations: this runs for every file of
    a 10,000-file scan, where building PurePaths costs a measurable 0.3 s."""
    return display.replace(os.sep, "/").split("/") if os.sep != "/" else display.split("/")


def skip_reason_by_name(display: str) -> str | None:
    """Why a file is not read at all, known from its name and place (or None)."""
    parts = _split(display)
    name, folders = parts[-1], parts[:-1]
    for folder in folders:
        reason = _TOOLING_DIRS.get(folder)
        if reason is not None:
            return reason
    reason = _BY_NAME.get(name)
    if reason is not None:
        return reason
    if _ANY_PATTERN.fullmatch(name):
        return next(reason for pattern, reason in _BY_PATTERN if pattern.fullmatch(name))
    for index, folder in enumerate(folders):
        if folder == "templates" and is_chart_directory("/".join(folders[:index]) or "."):
            return CHART_TEMPLATE
    return None


def skip_reason_by_text(display: str, text: str) -> str | None:
    """A file below a ``templates/`` directory holding Go template actions is a
    chart template even without a ``Chart.yaml`` above it (a chart being built)."""
    if "templates" in _split(display)[:-1] and "{{" in text:
        return CHART_TEMPLATE
    return None


def looks_like_values_file(display: str) -> bool:
    """Named like Helm values (``values.yaml``, ``prod-values.yaml``), in a
    folder of values (``values/``, ``example-values/``), next to a
    ``Chart.yaml`` or in a chart's ``ci/`` folder (chart-testing's values)."""
    path = PurePath(display)
    parent = path.parent
    return (_VALUES_NAME.fullmatch(path.name) is not None or "values" in parent.name
            or is_chart_directory(str(parent))
            or (parent.name == "ci" and is_chart_directory(str(parent.parent))))


def document_skip_reason(body: Any, display: str) -> str | None:
    """Why a parsed top-level document is skipped (see the module docstring; call
    it once values and declarative config were ruled out). None: it is meant as
    an object, so what is wrong with it is invalid input."""
    if isinstance(body, list):
        return A_LIST
    if not is_mapping(body):
        return A_SCALAR
    if "kind" in body:
        return None  # meant as an object: what is missing is an error
    if "apiVersion" in body:
        return None if "metadata" in body else VERSION_ONLY
    return UNSUPPORTED_VALUES if looks_like_values_file(display) else NOT_AN_OBJECT
