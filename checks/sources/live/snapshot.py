"""Snapshots: what a live scan read, saved to a file and replayed offline.

``upgrade-lint scan --cluster --record snap.json.gz`` writes one; ``scan
--snapshot snap.json.gz`` reads it back and gives the results the cluster
gave, with findings pointing to ``snapshot://<file>/<namespace>/<Kind>/<name>``
instead of ``cluster://...``. The format (JSON, gzip'd when the name ends in
``.gz``)::

    {"format": "upgrade-lint-snapshot/1", "source": "cluster://ctx",
     "recordedAt": "...", "serverVersion": "v1.30.2", "requests": 12,
     "objects": [{full object}, ...],
     "unavailable": [{"group", "kind", "namespace", "reason"}], "notes": [...]}

Secrets carry key names only: their values are blanked when written and again
when read (a hand-edited snapshot must not bring a value into a report).
A snapshot is read whole but bounded (``MAX_SNAPSHOT_BYTES`` after
decompression: a gzip bomb stops at the limit), and a bad file is one
``SnapshotError`` line, never a traceback.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import zlib
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from checks.model import Origin, Resource
from checks.sources.live.model import LiveRead, Unavailable
from checks.sources.yaml11 import MAX_DEPTH

FORMAT = "upgrade-lint-snapshot/1"
#: Largest snapshot read (decompressed): a cluster of 50,000 objects at ~4 KiB.
MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024
SCHEME = "snapshot://"


class SnapshotError(ValueError):
    """A snapshot that cannot be read or written: the one-line reason (exit 2)."""


def _blank_secret(body: Mapping[str, Any]) -> dict[str, Any]:
    """A Secret with its key names kept and every value replaced by ""."""
    out = dict(body)
    for field in ("data", "stringData"):
        values = out.get(field)
        if isinstance(values, Mapping):
            out[field] = {str(key): "" for key in values}
        elif field in out:
            out[field] = {}
    return out


def _object(resource: Resource) -> dict[str, Any]:
    body = dict(resource.body)
    body.setdefault("apiVersion", resource.api_version)
    body.setdefault("kind", resource.kind)
    if resource.kind == "Secret" and resource.api_version == "v1":
        body = _blank_secret(body)
    return body


def write_snapshot(read: LiveRead, path: str) -> None:
    """Write ``read`` to ``path`` atomically (a temporary file in the same
    directory, renamed over it): a scan interrupted while recording leaves the
    previous snapshot, never half of one."""
    document = {
        "format": FORMAT, "source": read.source,
        "recordedAt": read.read_at or datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "serverVersion": read.server_version, "requests": read.requests,
        "objects": [_object(r) for r in read.resources],
        "unavailable": [{"group": u.group, "kind": u.kind, "namespace": u.namespace,
                         "reason": u.reason} for u in read.unavailable],
        "notes": list(read.notes),
    }
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":"),
                      default=str).encode("utf-8")
    if path.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
    except OSError as exc:
        raise SnapshotError(f"--record {path}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise SnapshotError(f"--record {path}: cannot write: {exc.strerror or exc}") from None


def _read_bounded(stream: BinaryIO, path: str, limit: int) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise SnapshotError(f"--snapshot {path}: larger than {limit} bytes (decompressed)")
    return data


def _read_bytes(path: str, limit: int) -> bytes:
    try:
        if not Path(path).is_file():
            raise SnapshotError(f"--snapshot {path}: no such file")
        with open(path, "rb") as raw:
            if path.endswith(".gz"):
                with gzip.GzipFile(fileobj=raw) as unzipped:
                    return _read_bounded(unzipped, path, limit)  # type: ignore[arg-type]
            return _read_bounded(raw, path, limit)
    except (OSError, EOFError, zlib.error) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a gzip file"
        raise SnapshotError(f"--snapshot {path}: cannot read: {why}") from None


def _too_deep(data: bytes, document: Any) -> bool:
    """Is any value nested deeper than manifests may be (``MAX_DEPTH``)? The
    rules walk bodies recursively; a hand-made snapshot must not make them
    overflow. Counted without recursion, and only when the brackets allow it."""
    if data.count(b"[") + data.count(b"{") <= MAX_DEPTH:
        return False
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = value.values() if isinstance(value, dict) else (
            value if isinstance(value, list) else ())
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))
    return False


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _resource(body: Any, index: int, path: str, root: str) -> Resource:
    where = f"--snapshot {path}: objects[{index}]"
    if not isinstance(body, dict):
        raise SnapshotError(f"{where} is not an object")
    metadata = body.get("metadata")
    api_version, kind = _text(body.get("apiVersion")), _text(body.get("kind"))
    name = _text(metadata.get("name")) if isinstance(metadata, dict) else None
    if api_version is None or kind is None or name is None:
        raise SnapshotError(f"{where} lacks apiVersion, kind or metadata.name")
    assert isinstance(metadata, dict)
    namespace = _text(metadata.get("namespace"))
    version = metadata.get("resourceVersion")
    uri = f"{root}/{namespace}/{kind}/{name}" if namespace else f"{root}/{kind}/{name}"
    if isinstance(version, (str, int)) and str(version):
        uri += f"?resourceVersion={version}"
    if kind == "Secret" and api_version == "v1":
        body = _blank_secret(body)
    return Resource(api_version, kind, name, body, Origin(uri, 0), namespace)


def _unavailable(entry: Any, index: int, path: str) -> Unavailable:
    if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str)
                                              for k in ("group", "kind", "reason")):
        raise SnapshotError(f"--snapshot {path}: unavailable[{index}] needs group, kind "
                            "and reason")
    namespace = entry.get("namespace")
    return Unavailable(entry["group"], entry["kind"],
                       namespace if isinstance(namespace, str) and namespace else None,
                       entry["reason"])


def read_snapshot(path: str, limit: int = MAX_SNAPSHOT_BYTES) -> LiveRead:
    """The LiveRead a snapshot holds, its objects' origins re-rooted at
    ``snapshot://<file name>/...``; raises ``SnapshotError`` (one line)."""
    data = _read_bytes(path, limit)
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise SnapshotError(f"--snapshot {path}: not UTF-8 JSON") from None
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise SnapshotError(f"--snapshot {path}: not valid JSON"
                            + (f" (line {line})" if line else "")) from None
    except RecursionError:
        document = None
    if document is None or _too_deep(data, document):
        raise SnapshotError(f"--snapshot {path}: nested more than {MAX_DEPTH} levels deep")
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SnapshotError(f"--snapshot {path}: not an upgrade-lint snapshot (expected "
                            f'"format": "{FORMAT}")')
    objects, unavailable = document.get("objects", []), document.get("unavailable", [])
    notes = document.get("notes", [])
    if not (isinstance(objects, list) and isinstance(unavailable, list)
            and isinstance(notes, list)):
        raise SnapshotError(f"--snapshot {path}: objects, unavailable and notes must be lists")
    root = f"{SCHEME}{Path(path).name}"
    requests = document.get("requests")
    recorded = [f"replayed from a snapshot of {document['source']} recorded at "
                f"{document.get('recordedAt') or 'an unknown time'}"
                ] if _text(document.get("source")) else []
    return LiveRead(
        source=root,
        resources=[_resource(body, i, path, root) for i, body in enumerate(objects)],
        unavailable=[_unavailable(entry, i, path) for i, entry in enumerate(unavailable)],
        requests=requests if isinstance(requests, int) and requests >= 0 else 0,
        notes=[*recorded, *(str(note) for note in notes)],
        server_version=_text(document.get("serverVersion")),
        read_at=_text(document.get("recordedAt")))
