"""Manifest files -> Resources.

Understands plain multi-document YAML and JSON, ``kind: List``, OpenShift
``Template`` objects and Helm values files. Everything that cannot be turned
into a Resource becomes an ``InputError`` with a line, and scanning goes on
with the next document or file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode

from checks.model import InputError, JsonPath, Origin, Resource
from checks.sources import declarative, helm, openshift
from checks.sources.fastyaml import load_documents
from checks.sources.files import (
    DEFAULT_MAX_FILE_BYTES,
    STDIN_PATH,
    InputFile,
    decode,
    discover,
    read_file,
)
from checks.sources.locate import LineLocator
from checks.sources.yaml11 import Document


@dataclass
class ManifestSet:
    """What the manifest source hands the engine."""

    resources: list[Resource] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    files: int = 0
    documents: int = 0
    locator: LineLocator | None = None


@dataclass(frozen=True)
class ScanInputs:
    paths: Sequence[str]
    values: Mapping[str, str] = field(default_factory=dict)  # path -> chart
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    stdin_data: bytes | None = None
    careful: bool = False  # force the PyYAML path (see fastyaml)


def _child_lines(node: Node | None, key: str) -> list[int]:
    """Start lines of the items of ``key`` (Template objects, List items)."""
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == key:
                return [int(child.start_mark.line) + 1 for child in getattr(value_node, "value", [])]
    return []


def _to_resource(body: Any, origin: Origin, unresolved: frozenset[JsonPath] = frozenset(),
                 what: str = "document") -> Resource | InputError:
    where = f"{what} {origin.doc_index}" if what == "document" else what
    if not isinstance(body, Mapping):
        kind = "a list" if isinstance(body, list) else f"a {type(body).__name__} scalar"
        return InputError(origin.path, origin.line, f"{where} is {kind}, not a mapping")
    api_version, kind_ = body.get("apiVersion"), body.get("kind")
    missing = [name for name, value in (("apiVersion", api_version), ("kind", kind_))
               if not isinstance(value, str) or not value]
    if missing:
        return InputError(origin.path, origin.line,
                          f"{where} has no {' or '.join(missing)}; not a Kubernetes object")
    metadata = body.get("metadata", {})
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, Mapping):
        return InputError(origin.path, origin.line, f"{where}: metadata is not a mapping")
    name = metadata.get("name") or metadata.get("generateName") or "<unnamed>"
    namespace = metadata.get("namespace")
    return Resource(
        api_version=str(api_version), kind=str(kind_), name=str(name), body=body, origin=origin,
        namespace=str(namespace) if namespace else None, unresolved=unresolved,
    )


def _values_resource(body: Mapping[str, Any], chart: str, origin: Origin) -> Resource:
    merged, defaulted = helm.with_defaults(chart, body)
    return Resource(
        api_version=helm.HELM_API_VERSION, kind=helm.HELM_KIND,
        name=f"{chart}:{Path(origin.path).name}", body=merged,
        origin=origin, chart=chart, defaulted=defaulted,
    )


def resources_from_document(doc: Document, path: str,
                            chart: str | None = None) -> list[Resource | InputError]:
    """One YAML document -> the Resources in it (or why there are none)."""
    origin = Origin(path=path, line=doc.line, doc_index=doc.index)
    body = doc.value
    if chart is not None:
        if not isinstance(body, Mapping):
            return [InputError(path, doc.line, f"values document {doc.index} is not a mapping")]
        return [_values_resource(body, chart, origin)]
    if isinstance(body, Mapping) and "apiVersion" not in body and "kind" not in body:
        detected = helm.detect_chart(body)
        if detected is not None:
            return [_values_resource(body, detected, origin)]
        config_kind = declarative.detect_kind(body)
        if config_kind is not None:
            return [Resource(api_version=helm.HELM_API_VERSION, kind=config_kind,
                             name=Path(path).name, body=body, origin=origin)]
        return [InputError(path, doc.line,
                           f"document {doc.index} has no apiVersion or kind and is not recognised "
                           "as Helm values or declarative gateway config (name a values file's "
                           "chart with --values CHART=FILE)")]
    if isinstance(body, Mapping) and openshift.is_template(body):
        lines = _child_lines(doc.node, "objects")
        out: list[Resource | InputError] = []
        for rendered in openshift.render_objects(body):
            line = lines[rendered.index] if rendered.index < len(lines) else doc.line
            child = Origin(path, line, doc.index, ("objects", rendered.index))
            out.append(_to_resource(rendered.body, child, rendered.unresolved,
                                    what=f"Template object {rendered.index}"))
        return out
    if (isinstance(body, Mapping) and isinstance(body.get("kind"), str)
            and body["kind"].endswith("List") and isinstance(body.get("items"), list)):
        lines = _child_lines(doc.node, "items")
        items = body["items"]
        return [
            _to_resource(item, Origin(path, lines[i] if i < len(lines) else doc.line,
                                      doc.index, ("items", i)), what=f"List item {i}")
            for i, item in enumerate(items)
        ]
    return [_to_resource(body, origin)]


def _load_text(text: str, path: str, chart: str | None, out: ManifestSet,
               careful: bool = False) -> None:
    for doc in load_documents(text, path, careful):
        if isinstance(doc, InputError):
            out.errors.append(doc)
            continue
        out.documents += 1
        for item in resources_from_document(doc, path, chart):
            if isinstance(item, InputError):
                out.errors.append(item)
            else:
                out.resources.append(item)


def discover_inputs(inputs: ScanInputs) -> tuple[list[InputFile], list[InputError]]:
    """Every distinct input file, in scan order, and the paths that are not files."""
    values_files = {str(Path(v)) for v in inputs.values}
    given = [p for p in inputs.paths if str(Path(p)) not in values_files or p == "-"]
    files: list[InputFile] = []
    errors: list[InputError] = []
    seen: set[str] = set()
    for item in [*discover(given), *discover(inputs.values.keys())]:
        if isinstance(item, InputError):
            errors.append(item)
        elif item.display not in seen:
            seen.add(item.display)
            files.append(item)
    return files, errors


def load_files(files: Sequence[InputFile], inputs: ScanInputs) -> ManifestSet:
    """Read the given files (one worker's share, or all of them)."""
    out = ManifestSet()
    charts_by_file = {str(Path(p)): chart for p, chart in inputs.values.items()}
    for item in files:
        out.files += 1
        text = read_file(item, inputs.max_file_bytes, inputs.stdin_data)
        if isinstance(text, InputError):
            out.errors.append(text)
            continue
        chart = charts_by_file.get(str(Path(item.display))) if item.fs_path else None
        found = len(out.resources) + len(out.errors)
        _load_text(text, item.display, chart, out, inputs.careful)
        if item.fs_path is None and len(out.resources) + len(out.errors) == found:
            # `kubectl get ... | upgrade-lint scan -` with a failed kubectl: an
            # empty pipe must not pass as "nothing wrong".
            out.errors.append(InputError(item.display, 0, "no Kubernetes objects or Helm "
                                                          "values in standard input"))
    out.locator = locator_for(inputs)
    return out


def locator_for(inputs: ScanInputs) -> LineLocator:
    def read_text(path: str) -> str | None:
        if path == STDIN_PATH:
            data = inputs.stdin_data or b""
        else:
            try:
                data = Path(path).read_bytes()
            except OSError:
                return None
        text = decode(data, path)
        return None if isinstance(text, InputError) else text

    return LineLocator(read_text)


def load(inputs: ScanInputs) -> ManifestSet:
    """Read every input; never raises for bad input."""
    files, errors = discover_inputs(inputs)
    out = load_files(files, inputs)
    out.errors[:0] = errors
    return out
