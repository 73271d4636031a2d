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
  chart nor declarative gateway config, a list, or a plain value.

Broken YAML is never skipped: it stays ``invalid-input``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path, PurePath
from typing import Any

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
UNSUPPORTED_VALUES = ("Helm values of a chart upgrade-lint has no rules for (Kong, API7 and "
                      "API7 gateway values are recognised by their keys; name one with "
                      "--values CHART=FILE)")
NOT_AN_OBJECT = ("no apiVersion and no kind: not a Kubernetes object, Helm values of a "
                 "supported chart or declarative gateway config")
A_LIST = "a YAML list, not a Kubernetes object"
A_SCALAR = "a single value, not a Kubernetes object"

#: Directories whose files are repository tooling, wherever they are.
_TOOLING_DIRS = {".github": CI, ".gitlab": CI, ".circleci": CI, ".buildkite": CI,
                 ".woodpecker": CI, ".vscode": EDITOR, ".devcontainer": EDITOR,
                 ".idea": EDITOR}
#: File name globs (case-sensitive, as the tools that read them are).
_BY_NAME: tuple[tuple[str, str], ...] = (
    ("Chart.yaml", CHART_METADATA), ("Chart.yml", CHART_METADATA),
    ("values.schema.json", CHART_METADATA),
    ("kustomization.yaml", KUSTOMIZE), ("kustomization.yml", KUSTOMIZE),
    ("kustomizeconfig.yaml", KUSTOMIZE), ("kustomizeconfig.yml", KUSTOMIZE),
    ("helmfile.yaml", HELMFILE), ("helmfile.yml", HELMFILE), ("helmfile.*.yaml", HELMFILE),
    (".gitlab-ci.yml", CI), (".gitlab-ci.yaml", CI), (".travis.yml", CI),
    ("azure-pipelines.yml", CI), ("azure-pipelines.yaml", CI), ("bitbucket-pipelines.yml", CI),
    (".drone.yml", CI), (".woodpecker.yml", CI), ("cloudbuild.yaml", CI), ("cloudbuild.yml", CI),
    ("appveyor.yml", CI), ("buildspec.yml", CI), ("codecov.yml", CI), (".codecov.yml", CI),
    ("renovate.json", DEPENDENCY_BOT), (".renovaterc.json", DEPENDENCY_BOT),
    ("dependabot.yml", DEPENDENCY_BOT),
    ("package.json", PACKAGE), ("package-lock.json", PACKAGE), ("composer.json", PACKAGE),
    ("lerna.json", PACKAGE), ("nx.json", PACKAGE), ("turbo.json", PACKAGE),
    ("pnpm-lock.yaml", PACKAGE), ("pnpm-workspace.yaml", PACKAGE), (".yarnrc.yml", PACKAGE),
    ("tsconfig*.json", TOOL), ("jsconfig.json", TOOL), (".eslintrc*", TOOL),
    (".prettierrc*", TOOL), (".stylelintrc*", TOOL), ("babel.config.json", TOOL),
    (".releaserc*", TOOL), (".markdownlint*", TOOL), (".yamllint*", TOOL),
    (".pre-commit-config.yaml", TOOL), (".pre-commit-hooks.yaml", TOOL),
    (".golangci.yml", TOOL), (".golangci.yaml", TOOL), (".goreleaser.yml", TOOL),
    (".goreleaser.yaml", TOOL), ("mkdocs.yml", TOOL), ("mkdocs.yaml", TOOL),
    ("Taskfile.yml", TOOL), ("Taskfile.yaml", TOOL), (".sops.yaml", TOOL),
    ("ct.yaml", TOOL), ("lintconf.yaml", TOOL), (".readthedocs.yaml", TOOL),
    (".readthedocs.yml", TOOL), (".gitpod.yml", TOOL), (".copier-answers.yml", TOOL),
    ("cookiecutter.json", TOOL), ("skaffold.yaml", TOOL), ("devfile.yaml", TOOL),
    (".spectral.yaml", TOOL), (".checkov.yaml", TOOL), (".kube-linter.yaml", TOOL),
    ("docker-compose*.yml", COMPOSE), ("docker-compose*.yaml", COMPOSE),
    ("compose.yml", COMPOSE), ("compose.yaml", COMPOSE),
)
_NAME_PATTERNS = tuple((re.compile(fnmatch.translate(glob)), reason) for glob, reason in _BY_NAME)
#: How values files are usually named: values.yaml, values-prod.yaml, prod-values.yaml.
_VALUES_NAME = re.compile(r"(?:values(?:[-_.][^/]*)?|[^/]*[-_.]values)\.(?:ya?ml|json)")


@cache
def is_chart_directory(directory: str) -> bool:
    """Does this directory hold a Helm chart (a ``Chart.yaml``)?"""
    return (Path(directory) / "Chart.yaml").is_file()


def _under_chart_templates(path: PurePath) -> bool:
    parents = path.parents
    return any(parent.name == "templates" and is_chart_directory(str(parent.parent))
               for parent in parents)


def skip_reason_by_name(display: str) -> str | None:
    """Why a file is not read at all, known from its name and place (or None)."""
    path = PurePath(display)
    for part in path.parts[:-1]:
        reason = _TOOLING_DIRS.get(part)
        if reason is not None:
            return reason
    for pattern, reason in _NAME_PATTERNS:
        if pattern.match(path.name):
            return reason
    if _under_chart_templates(path):
        return CHART_TEMPLATE
    return None


def skip_reason_by_text(display: str, text: str) -> str | None:
    """A file below a ``templates/`` directory holding Go template actions is a
    chart template even without a ``Chart.yaml`` above it (a chart being built)."""
    if "{{" in text and "templates" in PurePath(display).parts[:-1]:
        return CHART_TEMPLATE
    return None


def looks_like_values_file(display: str) -> bool:
    """Named like Helm values, or next to a ``Chart.yaml``."""
    path = PurePath(display)
    return (_VALUES_NAME.fullmatch(path.name) is not None or path.parent.name == "values"
            or is_chart_directory(str(path.parent)))


def document_skip_reason(body: Any, display: str) -> str | None:
    """Why a parsed top-level document is skipped: not a mapping, or a mapping
    with neither ``apiVersion`` nor ``kind`` (call it only for those that are
    not recognised values or declarative config). None: it is meant as an
    object, so what is wrong with it is invalid input."""
    if isinstance(body, list):
        return A_LIST
    if not isinstance(body, Mapping):
        return A_SCALAR
    if "apiVersion" in body or "kind" in body:
        return None
    return UNSUPPORTED_VALUES if looks_like_values_file(display) else NOT_AN_OBJECT
