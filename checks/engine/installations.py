"""Installations: which running instance of a product an object belongs to.

Real repositories hold dev and prod side by side, so versions are compared,
upgrade paths decided and backups matched per installation, never across the
whole scan. Every object is given one installation name, strongest evidence
first:

1. the label or annotation ``upgrade-lint.io/installation: NAME``;
2. a path mapping from the command line (``--installation NAME=GLOB``), for
   inputs that carry no metadata (Helm values files);
3. its namespace (``ns:apic-prod``): an ``APIConnectCluster`` and everything
   it manages live in one namespace, and so do a 3scale project's objects;
4. the directory of the file, for objects without a namespace (Helm values,
   cluster-scoped objects, manifests whose namespace kustomize or Argo CD
   sets): ``dir:envs/prod``.

The name depends on the object alone, so ``--jobs`` workers compute it for
their share without asking the parent.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from checks.model import Resource
from checks.objects import is_mapping
from checks.sources.live.model import PROBE_GROUP, is_api_path
from checks.sources.live.origins import is_live_origin, source_of

LABEL = "upgrade-lint.io/installation"
STDIN_NAME = "stdin"


@dataclass(frozen=True)
class InstallationMap:
    """``--installation NAME=GLOB`` mappings, first match wins."""

    globs: tuple[tuple[str, str], ...] = ()  # (glob, name)

    @classmethod
    def parse(cls, assignments: Iterable[str]) -> InstallationMap:
        """``NAME=GLOB`` texts; a malformed one raises ValueError (a usage error)."""
        globs = []
        for text in assignments:
            name, sep, glob = text.partition("=")
            if not sep or not name.strip() or not glob.strip():
                raise ValueError(f"--installation expects NAME=GLOB, got {text!r}")
            globs.append((glob.strip(), name.strip()))
        return cls(tuple(globs))

    def name_for(self, path: str) -> str | None:
        normal = posixpath.normpath(path.replace("\\", "/"))
        for glob, name in self.globs:
            if fnmatch.fnmatchcase(normal, glob) or fnmatch.fnmatchcase(path, glob):
                return name
        return None


def _declared_name(resource: Resource) -> str | None:
    metadata = resource.body.get("metadata") if is_mapping(resource.body) else None
    if not is_mapping(metadata):
        return None
    for field in ("labels", "annotations"):
        values = metadata.get(field)
        if is_mapping(values):
            name = values.get(LABEL)
            if isinstance(name, str) and name.strip():
                return name.strip()
    return None


def installation_of(resource: Resource, mapping: InstallationMap | None = None) -> str:
    """The installation ``resource`` belongs to (cached on the resource: thirty
    rules ask for it; the mapping is the same for the whole scan)."""
    memo = resource.memo
    name: str | None = memo.get("installation")
    if name is None:
        name = memo["installation"] = _installation(resource, mapping)
    return name


def namespace_installation(namespace: str) -> str:
    """The installation a namespace makes (when nothing stronger names one)."""
    return f"ns:{namespace}"


def _installation(resource: Resource, mapping: InstallationMap | None) -> str:
    declared = _declared_name(resource)
    if declared:
        return declared
    path = resource.origin.path
    if mapping is not None:
        mapped = mapping.name_for(path)
        if mapped:
            return mapped
    if resource.namespace:
        return namespace_installation(resource.namespace)
    if is_live_origin(path):
        # A cluster-scoped live object (a probed product API without a
        # namespace): the source it was read from, not a directory. A product
        # API's object names its URL: the same installation when it is
        # replayed from a snapshot (whose origins all start snapshot://FILE).
        url = resource.body.get("url") if resource.group == PROBE_GROUP else None
        return source_of(url if isinstance(url, str) and is_api_path(url) else path)
    if path in ("-", "<stdin>"):
        return STDIN_NAME
    # Normalised: `scan .` and `scan envs/` name the same directory alike.
    return f"dir:{posixpath.normpath(posixpath.dirname(path.replace(chr(92), '/')) or '.')}"


def group_by_installation(resources: Sequence[Resource], mapping: InstallationMap | None = None
                          ) -> dict[str, list[Resource]]:
    """Resources by installation, in order of first appearance."""
    groups: dict[str, list[Resource]] = {}
    for resource in resources:
        groups.setdefault(installation_of(resource, mapping), []).append(resource)
    return groups


def how_to_name(resource_kind: str) -> str:
    """The sentence that tells a user how to settle an ambiguous installation."""
    return (f"label the {resource_kind} with {LABEL}: NAME (or map its file with "
            "--installation NAME=GLOB)")
