"""Manifest files -> Resources.

Understands plain multi-document YAML and JSON, ``kind: List``, OpenShift
``Template`` objects and Helm values files. A well-formed file or document
that is not meant as any of these (a CI pipeline, a chart template, another
chart's values) is ``Skipped`` with the reason (see ``repo_files``). Everything
else that cannot be turned into a Resource becomes an ``InputError`` with a
line, and scanning goes on with the next document or file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from checks.model import InputError, JsonPath, Origin, Resource, Skipped, a_yaml_type
from checks.objects import is_mapping
from checks.sources import declarative, helm, openshift, repo_files
from checks.sources.fastyaml import load_documents
from checks.sources.files import (
    DEFAULT_MAX_FILE_BYTES,
    STDIN_PATH,
    Excluded,
    InputFile,
    decode,
    discover,
    read_file,
    read_limited,
)
from checks.sources.locate import LineLocator
from checks.sources.yaml11 import Document


@dataclass
class ManifestSet:
    """What the manifest source hands the engine."""

    resources: list[Resource] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
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
    exclude: Sequence[str] = ()  # gitignore-style, below each directory


class Discovery(NamedTuple):
    files: list[InputFile]
    errors: list[InputError]
    excluded: int  # files below a directory left out by --exclude or .upgradelintignore


def _child_lines(node: Node | None, key: str) -> list[int]:
    """Start lines of the items of ``key`` (Template objects, List items)."""
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if (isinstance(key_node, ScalarNode) and key_node.value == key
                    and isinstance(value_node, SequenceNode)):
                return [int(child.start_mark.line) + 1 for child in value_node.value]
    return []


def _to_resource(body: Any, origin: Origin, unresolved: frozenset[JsonPath] = frozenset(),
                 what: str = "document") -> Resource | InputError:
    where = f"{what} {origin.doc_index}" if what == "document" else what
    if not is_mapping(body):
        return InputError(origin.path, origin.line, f"{where} is {a_yaml_type(body)}, not a mapping")
    api_version, kind_ = body.get("apiVersion"), body.get("kind")
    missing = [name for name, value in (("apiVersion", api_version), ("kind", kind_))
               if not isinstance(value, str) or not value]
    if missing:
        return InputError(origin.path, origin.line,
                          f"{where} has no {' or '.join(missing)}; not a Kubernetes object")
    metadata = body.get("metadata", {})
    if metadata is None:
        metadata = {}
    if not is_mapping(metadata):
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


def resources_from_document(doc: Document, path: str, chart: str | None = None
                            ) -> list[Resource | InputError | Skipped]:
    """One YAML document -> the Resources in it (or why there are none)."""
    origin = Origin(path=path, line=doc.line, doc_index=doc.index)
    body = doc.value
    if chart is not None:
        if not is_mapping(body):
            return [InputError(path, doc.line, f"values document {doc.index} is not a mapping")]
        return [_values_resource(body, chart, origin)]
    if is_mapping(body) and "apiVersion" not in body and "kind" not in body:
        detected = helm.detect_chart(body)
        if detected is not None:
            return [_values_resource(body, detected, origin)]
        config_kind = declarative.detect_kind(body)
        if config_kind is not None:
            return [Resource(api_version=helm.HELM_API_VERSION, kind=config_kind,
                             name=Path(path).name, body=body, origin=origin)]
    reason = repo_files.document_skip_reason(body, path)
    if reason is not None:
        return [Skipped(path, doc.line, f"document {doc.index}: {reason}")]
    if is_mapping(body) and openshift.is_template(body):
        lines = _child_lines(doc.node, "objects")
        out: list[Resource | InputError | Skipped] = []
        try:
            objects = openshift.render_objects(body)
        except openshift.TemplateError as exc:
            return [InputError(path, doc.line, f"document {doc.index}: {exc}")]
        for rendered in objects:
            line = lines[rendered.index] if rendered.index < len(lines) else doc.line
            child = Origin(path, line, doc.index, ("objects", rendered.index))
            out.append(_to_resource(rendered.body, child, rendered.unresolved,
                                    what=f"Template object {rendered.index}"))
        return out
    if is_mapping(body) and body.get("kind") == "List" and not isinstance(
            body.get("items", []), list):
        return [InputError(path, doc.line, f"document {doc.index}: List items is "
                                           f"{a_yaml_type(body['items'])}, not a list")]
    if (is_mapping(body) and isinstance(body.get("kind"), str)
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
    skipped: list[Skipped] = []
    found = 0
    for doc in load_documents(text, path, careful):
        if isinstance(doc, InputError):
            out.errors.append(doc)
            found += 1
            continue
        out.documents += 1
        for item in resources_from_document(doc, path, chart):
            if isinstance(item, Skipped):
                skipped.append(item)
                continue
            found += 1
            if isinstance(item, InputError):
                out.errors.append(item)
            else:
                out.resources.append(item)
    if skipped and not found:
        # Nothing in the file is meant as an object: one entry for the file.
        reason = skipped[0].reason.partition(": ")[2]
        more = f" ({len(skipped)} documents)" if len(skipped) > 1 else ""
        out.skipped.append(Skipped(path, 1, reason + more))
    else:
        out.skipped += skipped


def discover_inputs(inputs: ScanInputs) -> Discovery:
    """Every distinct input file, in scan order, the paths that are not files,
    and how many files the exclusions left out."""
    values_files = {str(Path(v)) for v in inputs.values}
    given = [p for p in inputs.paths if str(Path(p)) not in values_files or p == "-"]
    files: list[InputFile] = []
    errors: list[InputError] = []
    excluded: set[str] = set()
    seen: set[str] = set()
    for item in [*discover(given, inputs.exclude), *discover(inputs.values.keys())]:
        if isinstance(item, InputError):
            errors.append(item)
        elif isinstance(item, Excluded):
            excluded.add(item.display)
        elif item.display not in seen:
            seen.add(item.display)
            files.append(item)
    return Discovery(files, errors, len(excluded - seen))


def load_files(files: Sequence[InputFile], inputs: ScanInputs) -> ManifestSet:
    """Read the given files (one worker's share, or all of them)."""
    out = ManifestSet()
    repo_files.is_chart_directory.cache_clear()  # a new scan: the tree may have changed
    charts_by_file = {str(Path(p)): chart for p, chart in inputs.values.items()}
    for item in files:
        out.files += 1
        if item.skip is not None:
            out.skipped.append(Skipped(item.display, 1, item.skip))
            continue
        chart = charts_by_file.get(str(Path(item.display))) \
            if charts_by_file and item.fs_path else None
        reason = repo_files.skip_reason_by_name(item.display) \
            if chart is None and item.fs_path else None
        if reason is not None:
            out.skipped.append(Skipped(item.display, 1, reason))
            continue
        text = read_file(item, inputs.max_file_bytes, inputs.stdin_data)
        if isinstance(text, InputError):
            out.errors.append(text)
            continue
        reason = repo_files.skip_reason_by_text(item.display, text) \
            if chart is None and item.fs_path else None
        if reason is not None:
            out.skipped.append(Skipped(item.display, 1, reason))
            continue
        found = len(out.resources) + len(out.errors)
        _load_text(text, item.display, chart, out, inputs.careful)
        if item.fs_path is None and len(out.resources) + len(out.errors) == found:
            # `kubectl get ... | upgrade-lint scan -` with a failed kubectl: an
            # empty pipe must not pass as "nothing wrong".
            out.errors.append(InputError(item.display, 1, f"{NOTHING_FOUND} in standard input"))
    out.locator = locator_for(inputs)
    return out


#: What a scan that checked nothing says (an empty file, standard input, a directory).
NOTHING_FOUND = ("no Kubernetes objects, Helm values of a supported chart or declarative "
                 "gateway config")


def nothing_found(paths: Sequence[str], objects: int, errors: Sequence[InputError],
                  skipped: Sequence[Skipped], excluded: int) -> InputError | None:
    """A scan that found no object and no unreadable input must not pass
    silently: an empty file, or a directory whose files were all skipped or
    excluded, checked nothing. Like unreadable input, it gates."""
    if objects or errors:
        return None
    left_out = [f"{n} {what}" for n, what in ((len(skipped), "skipped"),
                                               (excluded, "excluded")) if n]
    detail = f" ({', '.join(left_out)})" if left_out else ""
    named = [STDIN_PATH if path == "-" else path for path in paths]
    where = ", ".join(named)
    # One file (or standard input) has a first line to point at; a directory has none.
    line = 1 if len(paths) == 1 and (paths[0] == "-" or Path(paths[0]).is_file()) else 0
    return InputError(where, line, f"{NOTHING_FOUND} found{detail}")


def locator_for(inputs: ScanInputs) -> LineLocator:
    def read_text(path: str) -> str | None:
        if path == STDIN_PATH:
            data = inputs.stdin_data or b""
        else:
            read = read_limited(Path(path), inputs.max_file_bytes)
            if isinstance(read, str):
                return None
            data = read
        text = decode(data, path)
        return None if isinstance(text, InputError) else text

    return LineLocator(read_text)


def load(inputs: ScanInputs) -> ManifestSet:
    """Read every input; never raises for bad input."""
    files, errors, _ = discover_inputs(inputs)
    out = load_files(files, inputs)
    out.errors[:0] = errors
    return out


def load_text(text: str, path: str, chart: str | None, out: ManifestSet,
              careful: bool = False) -> None:
    """Objects of one file's text into ``out`` (for text that is not on disk:
    the ``--base`` revision's)."""
    _load_text(text, path, chart, out, careful)
