"""One paginated LIST: ``limit``/``continue`` pages until the server gives no
``continue``, each page decoded, turned into Resources and dropped before the
next is asked for (the raw bytes of one page at a time, never of a list).

A 410 Gone (the continue token expired: the server compacted its history)
restarts the list once from the beginning and says so; a second one, or any
other error, makes the whole list unavailable: a partial list would let a rule
conclude "no backup" from the pages it happened to get.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from checks.model import Origin, Resource
from checks.sources.live.discovery import Served, Unauthorized, refused_reason
from checks.sources.live.transport import Failure, KubeHttp

#: Secret fields whose values are never kept (the key names are).
SECRET_VALUE_FIELDS = ("data", "stringData")
#: Annotations that copy a whole Secret manifest, values included (``kubectl
#: apply`` keeps the last applied one): their value is dropped too.
SECRET_COPY_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)


@dataclass
class ListResult:
    resources: list[Resource] = field(default_factory=list)
    #: Why the list is unavailable, when it is.
    refused: str | None = None
    notes: list[str] = field(default_factory=list)


def strip_secret_values(item: dict[str, Any]) -> None:
    """Replace every value of a Secret's ``data``/``stringData`` by "" in place,
    before anything else sees the object."""
    for key in SECRET_VALUE_FIELDS:
        values = item.get(key)
        if isinstance(values, dict):
            item[key] = {name: "" for name in values}
        elif values is not None:
            item[key] = {}
    metadata = item.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if isinstance(annotations, dict):
        for key in SECRET_COPY_ANNOTATIONS:
            if key in annotations:
                annotations[key] = ""


def origin_uri(context: str, namespace: str | None, kind: str, name: str,
               resource_version: str | None) -> str:
    """``cluster://<context>/<namespace>/<Kind>/<name>?resourceVersion=N``."""
    parts = [context] + ([namespace] if namespace else []) + [kind, name]
    uri = "cluster://" + "/".join(parts)
    return f"{uri}?resourceVersion={resource_version}" if resource_version else uri


def describe_list(served: Served, namespace: str | None) -> str:
    """``secrets in namespace apic``, ``pods in all namespaces`` (a ClusterRole
    is needed), ``storageclasses.storage.k8s.io`` (cluster-scoped): what a
    reason names, so that the user knows which grant is missing."""
    if not served.namespaced:
        return served.qualified
    where = f"namespace {namespace}" if namespace is not None else "all namespaces"
    return f"{served.qualified} in {where}"


class Lister:
    """Lists served kinds for one cluster context."""

    def __init__(self, http: KubeHttp, context: str, page_size: int,
                 keep: Callable[[str | None], bool] = lambda ns: True) -> None:
        self.http = http
        self.context = context
        self.page_size = max(1, page_size)
        #: Does an object in this namespace belong in the scan (--exclude-namespace)?
        self.keep = keep

    def read_list(self, served: Served, namespace: str | None) -> ListResult:
        """Raises ``Unauthorized`` on a 401."""
        result = ListResult()
        what = describe_list(served, namespace)
        restarted = False
        while True:
            outcome = self._pages(served, namespace)
            if isinstance(outcome, list):
                result.resources = outcome
                return result
            if outcome.status == 410 and not restarted:
                restarted = True
                result.notes.append(f"list of {what} restarted after 410 Gone "
                                    "(expired continue token)")
                continue
            if outcome.status == 401:
                raise Unauthorized(outcome)
            if outcome.status == 410:
                result.refused = f"continue token expired again after a restart (410 Gone): " \
                                 f"list {what}"
            else:
                result.refused = refused_reason(outcome, "list", what)
            return result

    def _pages(self, served: Served, namespace: str | None) -> list[Resource] | Failure:
        path = served.collection_path(namespace)
        resources: list[Resource] = []
        token = ""
        while True:
            query = [("limit", str(self.page_size))]
            if token:
                query.append(("continue", token))
            page = self.http.get(path, query)
            if isinstance(page, Failure):
                return page
            if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                return Failure(200, "the answer is not a list", 0)
            self._add_items(served, page["items"], resources)
            metadata = page.get("metadata")
            token = str(metadata.get("continue") or "") if isinstance(metadata, Mapping) else ""
            del page
            if not token:
                return resources

    def _add_items(self, served: Served, items: list[Any], out: list[Resource]) -> None:
        kind = served.wanted.kind
        is_secret = not served.wanted.group and kind == "Secret"
        api_version = served.api_version
        for item in items:
            if not isinstance(item, dict):
                continue
            if is_secret:
                strip_secret_values(item)
            metadata = item.get("metadata")
            if not isinstance(metadata, dict):
                continue
            namespace = metadata.get("namespace") if served.namespaced else None
            if not self.keep(namespace):
                continue
            # Built-in lists leave apiVersion/kind off their items (kubectl
            # fills them in too); rules select on both.
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
            name = str(metadata.get("name") or "")
            rv = metadata.get("resourceVersion")
            origin = Origin(path=origin_uri(self.context, namespace, kind, name,
                                            str(rv) if rv else None), line=0)
            out.append(Resource(api_version=api_version, kind=kind, name=name, body=item,
                                origin=origin, namespace=namespace))
