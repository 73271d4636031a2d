"""Discovery before listing: which of the wanted kinds the cluster serves, at
which version, under which resource name and scope.

Requests: ``/api/v1`` when a core kind is wanted, ``/apis`` when a grouped
kind is, then ``/apis/<group>/<preferred version>`` only for the groups a
wanted kind lives in (another served version of the group only when the
preferred one lacks the kind). Nothing is listed that discovery did not
show, so an uninstalled CRD costs no LIST and reads as "not installed".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from checks.sources.live.kinds import not_served_reason
from checks.sources.live.model import Unavailable, WantedKind
from checks.sources.live.transport import Failure, KubeHttp


@dataclass(frozen=True)
class Served:
    """A wanted kind as the cluster serves it."""

    wanted: WantedKind
    version: str
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.wanted.group}/{self.version}" if self.wanted.group else self.version

    @property
    def qualified(self) -> str:
        """``pods`` or ``gatewayclusters.gateway.apiconnect.ibm.com``: how
        kubectl and the API server's messages name a resource."""
        return f"{self.plural}.{self.wanted.group}" if self.wanted.group else self.plural

    def collection_path(self, namespace: str | None) -> str:
        root = f"/apis/{self.api_version}" if self.wanted.group else "/api/v1"
        scope = f"/namespaces/{namespace}" if namespace is not None and self.namespaced else ""
        return f"{root}{scope}/{self.plural}"


class Unauthorized(Exception):
    """401: the credentials were refused; nothing else is worth asking."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.detail)
        self.failure = failure


@dataclass
class Discovery:
    served: list[Served] = field(default_factory=list)
    unavailable: list[Unavailable] = field(default_factory=list)


def refused_reason(failure: Failure, verb: str, what: str) -> str:
    """The words for a request the API refused or could not answer."""
    request = f"{verb} {what}"
    if failure.status == 401:
        return "unauthorized (401): the credentials were refused"
    if failure.status == 403:
        return f"forbidden: {request} (403)"
    retried = ""
    if failure.retries:
        retried = f" after {failure.retries} {'retry' if failure.retries == 1 else 'retries'}"
    if failure.status is None:
        return f"{failure.detail}{retried}: {request}"
    if 200 <= failure.status <= 299:
        return f"unusable answer ({failure.detail}): {request}"
    # Server errors and throttling say nothing a user can act on; a 400 or 404 does.
    detail = f" ({failure.detail})" if failure.detail and failure.status < 500 \
        and failure.status != 429 else ""
    return f"API error {failure.status}{retried}: {request}{detail}"


def _check(answer: Any | Failure) -> Any | Failure:
    if isinstance(answer, Failure) and answer.status == 401:
        raise Unauthorized(answer)
    return answer


def _find(resources: Iterable[Mapping[str, Any]], kind: str) -> Mapping[str, Any] | None:
    for resource in resources:
        name = resource.get("name")
        if (isinstance(name, str) and "/" not in name and resource.get("kind") == kind
                and "list" in (resource.get("verbs") or ())):
            return resource
    return None


def _served(wanted: WantedKind, version: str, resource: Mapping[str, Any]) -> Served:
    return Served(wanted, version, str(resource["name"]), bool(resource.get("namespaced")))


def discover(http: KubeHttp, wanted: Sequence[WantedKind]) -> Discovery:
    """Raises ``Unauthorized`` on a 401; every other problem is an Unavailable."""
    result = Discovery()
    core = [w for w in wanted if not w.group]
    grouped = [w for w in wanted if w.group]
    if core:
        _discover_core(http, core, result)
    if grouped:
        _discover_groups(http, grouped, result)
    return result


def _discover_core(http: KubeHttp, core: Sequence[WantedKind], result: Discovery) -> None:
    answer = _check(http.get("/api/v1"))
    if isinstance(answer, Failure):
        reason = refused_reason(answer, "get", "/api/v1")
        result.unavailable += [Unavailable("", w.kind, None, reason) for w in core]
        return
    resources = answer.get("resources") or [] if isinstance(answer, dict) else []
    for w in core:
        found = _find(resources, w.kind)
        if found is None:
            result.unavailable.append(Unavailable("", w.kind, None, not_served_reason(w)))
        else:
            result.served.append(_served(w, "v1", found))


def _versions(group: Mapping[str, Any]) -> list[str]:
    """The group's served versions, the preferred one first."""
    preferred = (group.get("preferredVersion") or {}).get("version")
    versions = [str(v.get("version")) for v in group.get("versions") or ()
                if isinstance(v, dict) and v.get("version")]
    if preferred:
        versions = [str(preferred)] + [v for v in versions if v != preferred]
    return versions


def _discover_groups(http: KubeHttp, grouped: Sequence[WantedKind], result: Discovery) -> None:
    answer = _check(http.get("/apis"))
    if isinstance(answer, Failure):
        reason = refused_reason(answer, "get", "/apis")
        result.unavailable += [Unavailable(w.group, w.kind, None, reason) for w in grouped]
        return
    groups = {g.get("name"): g for g in (answer.get("groups") or [])
              if isinstance(g, dict)} if isinstance(answer, dict) else {}
    by_group: dict[str, list[WantedKind]] = {}
    for w in grouped:
        by_group.setdefault(w.group, []).append(w)
    for name in sorted(by_group):
        kinds = by_group[name]
        if name not in groups:
            result.unavailable += [Unavailable(name, w.kind, None, not_served_reason(w))
                                   for w in kinds]
            continue
        _discover_group(http, name, _versions(groups[name]), kinds, result)


def _discover_group(http: KubeHttp, name: str, versions: Sequence[str],
                    kinds: Sequence[WantedKind], result: Discovery) -> None:
    missing = list(kinds)
    for version in versions:
        if not missing:
            return
        path = f"/apis/{name}/{version}"
        answer = _check(http.get(path))
        if isinstance(answer, Failure):
            if answer.status == 404:  # the group went away between the two requests
                continue
            reason = refused_reason(answer, "get", path)
            result.unavailable += [Unavailable(name, w.kind, None, reason) for w in missing]
            return
        resources = answer.get("resources") or [] if isinstance(answer, dict) else []
        still = []
        for w in missing:
            found = _find(resources, w.kind)
            if found is None:
                still.append(w)
            else:
                result.served.append(_served(w, version, found))
        missing = still
    result.unavailable += [Unavailable(name, w.kind, None, not_served_reason(w))
                           for w in missing]
