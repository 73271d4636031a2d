"""Kong hybrid mode, read from the control plane's Admin API: the control
plane's own version and role (``GET /``) and every data plane it knows
(``GET /clustering/data-planes``, paginated with ``next``), with each data
plane's ``sync_status`` and ``last_seen``.

``probedAt`` is the probe's own clock when the data planes were read, so a
rule judges a stale ``last_seen`` against the moment it was observed, not
against the moment the report is read (or a snapshot replayed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from checks.model import Origin, Resource
from checks.sources.live.model import PROBE_API_VERSION, PROBE_GROUP, Unavailable
from checks.sources.live.probes.http import Failure, HttpClient, Target, status_reason, token_sent

KIND = "KongClusterStatus"
TOKEN_ENV = "KONG_ADMIN_TOKEN"
TOKEN_HEADER = "Kong-Admin-Token"
WHAT = "the Kong Admin API"
DATA_PLANES = "/clustering/data-planes"
#: Kong's largest page; with it a thousand data planes take one request.
PAGE_SIZE = 1000
#: Pages read at most (100,000 data planes); beyond, the list is not trusted.
MAX_PAGES = 100


@dataclass
class ProbeResult:
    """A probe's object, or why there is none; notes either way."""

    resource: Resource | None = None
    unavailable: Unavailable | None = None
    notes: list[str] = field(default_factory=list)


def utc_now() -> str:
    """RFC 3339 UTC, seconds precision: the probe's clock."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ApiProbe:
    """The bookkeeping every product API probe shares: the token header (and a
    note when it goes out unencrypted), what to call the credentials in a
    refusal, and the one way the probe gives up."""

    kind: str
    what: str
    target: Target
    namespace: str | None
    headers: dict[str, str]
    credentials: str
    result: ProbeResult

    @classmethod
    def start(cls, kind: str, what: str, target: Target, namespace: str | None,
              token: str | None, token_env: str, token_header: str) -> ApiProbe:
        result = ProbeResult()
        if token and target.scheme == "http":
            result.notes.append(f"{what.removeprefix('the ')} {target.shown} is plain HTTP: "
                                f"{token_env} was sent unencrypted")
        return cls(kind, what, target, namespace, {token_header: token} if token else {},
                   token_sent(token_env, token), result)

    def unavailable(self, reason: str) -> ProbeResult:
        self.result.unavailable = Unavailable(PROBE_GROUP, self.kind, self.namespace,
                                              f"{self.what} {self.target.shown}: {reason}")
        return self.result


def probe_kong(target: Target, namespace: str | None, client: HttpClient, token: str | None) -> ProbeResult:
    """One control plane: its node facts and all its data planes."""
    probe = ApiProbe.start(KIND, WHAT, target, namespace, token, TOKEN_ENV, TOKEN_HEADER)
    result, headers, credentials, unavailable = (probe.result, probe.headers, probe.credentials,
                                                 probe.unavailable)

    root = client.get_json(target.at("/"), headers=headers, what=WHAT)
    if isinstance(root, Failure):
        return unavailable(root.reason)
    if root.status != 200:
        return unavailable(f"GET / {status_reason(root.status, credentials)}")
    if not isinstance(root.body, dict) or "version" not in root.body:
        return unavailable("GET / answered JSON without a Kong version: is this the Admin API?")
    node = _node(root.body)
    probed_at = utc_now()
    data_planes = _data_planes(target, client, headers, credentials, node)
    if isinstance(data_planes, str):
        return unavailable(data_planes)
    result.resource = api_status(KIND, target, namespace, {
        "node": node, "dataPlanes": data_planes, "probedAt": probed_at})
    return result


def api_status(kind: str, target: Target, namespace: str | None,
               fields: dict[str, Any]) -> Resource:
    """The probe object of one product API (Kong Admin API, API7 dashboard):
    named by the API's host and port, located at its URL (no userinfo)."""
    body = {"apiVersion": PROBE_API_VERSION, "kind": kind,
            "metadata": {"name": target.authority, "namespace": namespace},
            "url": target.shown, **fields}
    return Resource(PROBE_API_VERSION, kind, target.authority, body,
                    Origin(path=target.shown, line=0), namespace)


def _node(root: dict[str, Any]) -> dict[str, Any]:
    configuration = root.get("configuration")
    configuration = configuration if isinstance(configuration, dict) else {}
    return {"version": root.get("version"), "edition": root.get("edition"),
            "role": configuration.get("role"), "database": configuration.get("database")}


def _data_planes(target: Target, client: HttpClient, headers: dict[str, str], credentials: str,
                 node: dict[str, Any]) -> list[Any] | str:
    """Every page of the data-plane list, or why it could not be read."""
    items: list[Any] = []
    page = target.at(f"{DATA_PLANES}?size={PAGE_SIZE}")
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        seen.add(page.path)
        answer = client.get_json(page, headers=headers, what=WHAT)
        if isinstance(answer, Failure):
            return f"GET {DATA_PLANES}: {answer.reason}"
        if answer.status == 400:
            return f"this Admin API is not a control plane (role {node['role'] or 'unknown'})"
        if answer.status != 200:
            return f"GET {DATA_PLANES} {status_reason(answer.status, credentials)}"
        body = answer.body
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            return f"GET {DATA_PLANES} answered JSON without a data list"
        items.extend(data)
        following = body.get("next")
        if not following:
            return items
        nxt = _next_page(target, following)
        if nxt is None:
            return f"GET {DATA_PLANES}: its next page is not on the same Admin API: not followed"
        if nxt.path in seen:
            return f"GET {DATA_PLANES}: its next page repeats an earlier page"
        page = nxt
    return f"GET {DATA_PLANES}: more than {MAX_PAGES} pages: not read to the end"


def _next_page(target: Target, following: Any) -> Target | None:
    """The page ``next`` names: Kong gives a path from the Admin API's root
    (``/clustering/data-planes?offset=...``); an absolute URL must be on the
    same server. A base path of the Admin API URL (behind a proxy) is kept."""
    if not isinstance(following, str):
        return None
    if following.startswith("/"):
        base = target.path.split("?", 1)[0].rstrip("/")
        path = following if base and following.startswith(base + "/") else base + following
        return Target(target.scheme, target.host, target.port, path, target.userinfo)
    try:
        parts = urlsplit(following)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    if (parts.scheme, parts.hostname, port) != (target.scheme, target.host, target.port):
        return None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(target.scheme, target.host, target.port, path, target.userinfo)
