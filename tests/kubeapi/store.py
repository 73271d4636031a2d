"""The objects a test API server holds, and LIST with `limit`/`continue` as etcd-backed lists page.

Objects are keyed like etcd keys (`<namespace>/<name>`, or `<name>` when cluster-scoped) and
listed in key order. A page ends after `limit` matching objects; `metadata.continue` is then the
real apiserver's token: base64url (no padding) of `{"v":"meta.k8s.io/v1","rv":<list rv>,"start":
"<last key>\\u0000"}`, relative to the listed namespace. Tokens older than the last
`expire_continue_tokens()` are refused with 410 Expired as after an etcd compaction.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tests.kubeapi.catalog import Catalog, ResourceType

CONTINUE_VERSION = "meta.k8s.io/v1"
DEFAULT_TIMESTAMP = "2026-01-01T00:00:00Z"
_UID_NAMESPACE = uuid.UUID("6f1b2c9e-3f43-4d8c-9a59-1b5e8d7a0c11")


class ContinueError(Exception):
    """A continue token the apiserver refuses (400 malformed, 410 expired)."""

    def __init__(self, code: int, message: str, fresh_token: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fresh_token = fresh_token


def encode_continue(rv: int, start: str) -> str:
    raw = json.dumps({"v": CONTINUE_VERSION, "rv": rv, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_base64(token: str) -> bytes:
    """Go's base64.RawURLEncoding, with its error wording ("illegal base64 data at input byte N")."""
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    for index, char in enumerate(token):
        if char not in alphabet:
            raise ContinueError(400, f"illegal base64 data at input byte {index}")
    if len(token) % 4 == 1:
        raise ContinueError(400, f"illegal base64 data at input byte {len(token) - 1}")
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as error:  # pragma: no cover - alphabet checked above
        raise ContinueError(400, "illegal base64 data") from error


def decode_continue(token: str) -> tuple[int, str]:
    """(rv, start key) of a token; ContinueError(400) when it is not one the server issued."""
    prefix = "invalid continue token: continue key is not valid: "
    try:
        raw = _decode_base64(token)
        try:
            data = json.loads(raw)
        except ValueError as error:
            raise ContinueError(400, f"invalid character in continue key: {error.msg}") from error
        if not isinstance(data, dict) or data.get("v") != CONTINUE_VERSION:
            raise ContinueError(400, "continue key version does not match the server's version")
        rv, start = data.get("rv"), data.get("start")
        if not isinstance(rv, int) or not isinstance(start, str) or not start:
            raise ContinueError(400, "continue key is missing its resource version or start key")
        if start.startswith("/") or "/../" in start or start.startswith("../"):
            raise ContinueError(400, start)
        return rv, start
    except ContinueError as error:
        raise ContinueError(400, prefix + error.message) from None


@dataclass
class Page:
    items: list[dict[str, Any]]
    resource_version: str
    continue_token: str | None
    remaining: int | None


class ObjectStore:
    """Objects by resource type, with resourceVersions and a compaction point for continue tokens."""

    def __init__(
        self,
        catalog: Catalog,
        objects: Iterable[Mapping[str, Any]],
        *,
        synthesize_namespaces: bool = True,
        resource_version: int | None = None,
    ) -> None:
        self.catalog = catalog
        self._lock = threading.Lock()
        # Keyed by (group, plural): a CRD serves the same objects under each of its versions.
        self._objects: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self._next_rv = 100
        pending = [copy.deepcopy(dict(obj)) for obj in objects]
        for obj in pending:
            rv = str((obj.get("metadata") or {}).get("resourceVersion", ""))
            if rv.isdigit():
                self._next_rv = max(self._next_rv, int(rv) + 1)
        for obj in pending:
            self._insert(obj)
        if synthesize_namespaces:
            self._add_missing_namespaces()
        # The list resourceVersion (etcd revision): above every object's, or as a test sets it.
        self.revision = max(self._next_rv, resource_version or 0)
        self.compacted = 0

    # ------------------------------------------------------------------ loading
    def _insert(self, obj: dict[str, Any]) -> None:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        metadata = obj.get("metadata")
        if not isinstance(api_version, str) or not isinstance(kind, str) or not isinstance(metadata, dict):
            raise ValueError(f"test API server: an object needs apiVersion, kind and metadata: {obj!r:.200}")
        group = api_version.rpartition("/")[0]
        rtype = self.catalog.by_kind(group, kind)
        if rtype is None:
            raise ValueError(f"test API server: no served type for {api_version} {kind}")
        name = metadata.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"test API server: {kind} without metadata.name")
        namespace = metadata.get("namespace")
        if rtype.namespaced and not namespace:
            metadata["namespace"] = namespace = "default"
        if not rtype.namespaced:
            metadata.pop("namespace", None)
            namespace = None
        rv = str(metadata.get("resourceVersion", ""))
        if not rv.isdigit():
            metadata["resourceVersion"] = str(self._next_rv)
            self._next_rv += 1
        identity = f"{api_version}/{kind}/{namespace}/{name}"
        metadata.setdefault("uid", str(uuid.uuid5(_UID_NAMESPACE, identity)))
        metadata.setdefault("creationTimestamp", DEFAULT_TIMESTAMP)
        key = f"{namespace}/{name}" if namespace else name
        self._objects.setdefault((rtype.group, rtype.plural), {})[key] = obj

    def _add_missing_namespaces(self) -> None:
        ns_type = self.catalog.by_kind("", "Namespace")
        if ns_type is None:
            return
        existing = set(self._objects.get(("", "namespaces"), {}))
        used = {
            str(obj["metadata"]["namespace"])
            for objs in self._objects.values()
            for obj in objs.values()
            if obj["metadata"].get("namespace")
        }
        for name in sorted(used - existing):
            self._insert(
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                }
            )

    # ------------------------------------------------------------------ reads
    def get(self, rtype: ResourceType, namespace: str | None, name: str) -> dict[str, Any] | None:
        key = f"{namespace}/{name}" if rtype.namespaced else name
        obj = self._objects.get((rtype.group, rtype.plural), {}).get(key)
        return _served_as(rtype, obj) if obj is not None else None

    def expire_continue_tokens(self) -> None:
        """As an etcd compaction: every continue token issued so far now answers 410 Expired."""
        with self._lock:
            self.compacted = self.revision
            self.revision += 1

    def list(
        self,
        rtype: ResourceType,
        namespace: str | None,
        *,
        limit: int | None,
        continue_token: str | None,
        predicate: Any,
        selective: bool,
    ) -> Page:
        """One page of a LIST; `selective` (a selector was given) drops remainingItemCount."""
        with self._lock:
            revision, compacted = self.revision, self.compacted
        start = ""
        list_rv = revision
        if continue_token:
            token_rv, start = decode_continue(continue_token)
            if 0 <= token_rv <= compacted:
                raise ContinueError(
                    410,
                    "The provided continue parameter is too old to display a consistent list result. "
                    "You can start a new list without the continue parameter, or use the continue token "
                    "in this response to retrieve the remainder of the results. Continuing with the "
                    "provided token results in an inconsistent list - objects that were created, modified, "
                    "or deleted between the time the first chunk was returned and now may show up in the "
                    "list.",
                    fresh_token=encode_continue(-1, start),
                )
            if token_rv > 0:
                list_rv = token_rv
        objects = self._objects.get((rtype.group, rtype.plural), {})
        prefix = f"{namespace}/" if (namespace and rtype.namespaced) else ""
        keys = sorted(k for k in objects if k.startswith(prefix))
        matched: list[tuple[str, dict[str, Any]]] = []
        for key in keys:
            relative = key[len(prefix) :]
            if start and relative < start:
                continue
            if predicate(objects[key]):
                matched.append((relative, objects[key]))
        if limit and len(matched) > limit:
            page, rest = matched[:limit], matched[limit:]
            token = encode_continue(list_rv, page[-1][0] + "\x00")
            remaining = None if selective else len(rest)
        else:
            page, token, remaining = matched, None, None
        return Page([_served_as(rtype, o) for _, o in page], str(list_rv), token, remaining)


def _served_as(rtype: ResourceType, obj: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the stored object at the version the request named (no schema conversion)."""
    served = copy.deepcopy(dict(obj))
    served["apiVersion"] = rtype.group_version
    return served
