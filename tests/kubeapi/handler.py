"""The HTTP side of the test API server: routing, authentication, authorization and answers.

The handler turns a request into the apiserver's RequestInfo (group, version, namespace, resource,
name, subresource, verb), applies an injected fault if one matches, authenticates the bearer
token, authorizes the verb on the resource, then answers discovery, GET, LIST, Table or
SelfSubjectAccessReview like kube-apiserver v1.36 (see tests/data/k8s-api-recorded).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import socket
import ssl
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from tests.kubeapi import catalog as discovery
from tests.kubeapi.auth import ANONYMOUS, Grant, forbidden_message
from tests.kubeapi.catalog import ResourceType
from tests.kubeapi.protobuf import review_spec
from tests.kubeapi.records import Fault, RequestRecord
from tests.kubeapi.selectors import SelectorError, field_selector, label_selector
from tests.kubeapi.store import ContinueError
from tests.kubeapi.tables import table

if TYPE_CHECKING:
    from tests.kubeapi.server import KubeAPIServer

AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
ACCESS_REVIEW_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
RULES_REVIEW_PATH = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"
REVIEW_PATHS = (ACCESS_REVIEW_PATH, RULES_REVIEW_PATH)
# What the apiserver's system:discovery and system:public-info-viewer roles open to every user.
DISCOVERY_URLS = [
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/healthz",
    "/livez",
    "/openapi",
    "/openapi/*",
    "/readyz",
    "/version",
    "/version/",
]
_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}
_FAULT_MESSAGES = {
    429: "Too many requests, please try again later.",
    500: "Internal error occurred: injected fault",
    503: "the server is currently unable to handle the request",
    504: "the server was unable to return a response in the time allotted",
}


@dataclass(frozen=True)
class _Target:
    """What a request path names (the apiserver's RequestInfo)."""

    group: str
    version: str
    namespace: str | None
    resource: str
    name: str | None
    subresource: str | None


def status_body(
    code: int,
    message: str,
    reason: str | None = None,
    details: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": dict(metadata or {}),
        "status": "Failure",
        "message": message,
        "reason": reason or _REASONS.get(code, "Unknown"),
    }
    if details is not None:
        body["details"] = dict(details)
    body["code"] = code
    return body


class APIHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        api: KubeAPIServer,
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(address, handler)
        self.api = api
        self.context = context
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        # The TLS handshake runs in the connection's thread (see APIHandler.setup), so one slow or
        # broken client cannot stall accept().
        tls = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self.connections_lock:
            self.connections.add(tls)
        return tls, address

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self.connections_lock:
            open_sockets = list(self.connections)
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer is normal in timeout tests; stay quiet."""


class APIHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: Headers and body go out in separate writes: with Nagle's algorithm the
    #: second waits for the client's delayed ACK (~40 ms per request on a
    #: keep-alive connection), which kube-apiserver (Go) never does.
    disable_nagle_algorithm = True
    timeout = 10
    server: APIHTTPServer

    def setup(self) -> None:
        self.request.settimeout(self.timeout)
        try:
            self.request.do_handshake()
        except (OSError, ssl.SSLError):
            self.close_connection = True
            raise
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr: tests read `server.requests`."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    # ------------------------------------------------------------------ plumbing
    def _serve(self, method: str) -> None:
        api = self.server.api
        split = urlsplit(self.path)
        self._method, self._url_path = method, split.path
        self._query = dict(parse_qsl(split.query, keep_blank_values=True))
        self._user: str | None = None
        self._verb = ""
        length = int(self.headers.get("Content-Length") or 0)
        self._body = self.rfile.read(length) if length else b""
        self._status = 0
        accept = self.headers.get("Accept", "")
        info = self._parse_target(split.path)
        self._verb = self._verb_of(method, info) if info is not None else method.lower()
        slot = api._arrived(
            RequestRecord(method, split.path, self._query, 0, None, accept, self._verb),
            write=method in WRITE_METHODS and not self._is_access_review(),
        )
        self._logged = False

        def log_answer() -> None:
            """Log the answer before its bytes leave: a client that has its answer
            must find it in the log (with Nagle off, it can be back first)."""
            if not self._logged:
                self._logged = True
                api._answered(slot, RequestRecord(
                    method, split.path, self._query, self._status, self._user, accept, self._verb))

        self._log_answer = log_answer
        try:
            self._dispatch(api, method, split.path + ("?" + split.query if split.query else ""), info)
        finally:
            log_answer()  # no answer sent (a dropped connection): logged as it ended

    def _is_access_review(self) -> bool:
        """The only POSTs a read-only client sends: "may I?" questions (`kubectl auth can-i [--list]`)."""
        return self._method == "POST" and self._url_path.rstrip("/") in REVIEW_PATHS

    def _send(
        self, code: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self._status = code
        self.send_response_only(code)
        self.send_header("Date", self.date_time_string())
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self._log_answer()
        self.end_headers()
        if self._method != "HEAD":
            self.wfile.write(body)

    def _json(
        self,
        code: int,
        document: Any,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._send(code, json.dumps(document, separators=(",", ":")).encode(), content_type, headers)

    def _status_reply(
        self,
        code: int,
        message: str,
        reason: str | None = None,
        details: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        extra = dict(headers or {})
        if code == 403:
            extra.setdefault("X-Content-Type-Options", "nosniff")
        self._json(code, status_body(code, message, reason, details, metadata), headers=extra)

    def _page_not_found(self) -> None:
        """The mux's 404 for a group/path nobody serves (recordings 40, 41, 44)."""
        self._send(
            404, b"404 page not found\n", "text/plain; charset=utf-8", {"X-Content-Type-Options": "nosniff"}
        )

    # ------------------------------------------------------------------ dispatch
    def _dispatch(self, api: KubeAPIServer, method: str, target: str, info: _Target | None) -> None:
        fault = api._take_fault(method, target)
        if fault is not None:
            if fault.delay:
                api._stopping.wait(fault.delay)
            if fault.drop:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.request.shutdown(socket.SHUT_RDWR)
                return
            if fault.status is not None:
                self._fault_reply(fault)
                return
        grant = self._authenticate(api)
        if grant is None:
            self._status_reply(401, "Unauthorized")
            return
        self._user = grant.user
        if not self._accepts_json():
            # The real server would answer protobuf; this one speaks JSON only and says so.
            self._status_reply(
                406,
                "only the following media types are accepted: application/json, "
                "application/json;as=Table;v=v1;g=meta.k8s.io",
                "NotAcceptable",
            )
            return
        if info is None:
            self._non_resource(api, grant, method)
            return
        verb = self._verb
        if not grant.allows(verb, info.group, _authz_resource(info), info.namespace) and not (
            self._is_access_review() and grant is not ANONYMOUS
        ):
            self._forbidden(grant, verb, info)
            return
        if self._is_access_review():
            self._access_review(grant)
            return
        if method in WRITE_METHODS or method not in ("GET", "HEAD"):
            self._status_reply(
                405,
                f"the test API server is read-only: {method} {self._url_path} refused",
                "MethodNotAllowed",
                {},
            )
            return
        self._resource(api, info)

    def _fault_reply(self, fault: Fault) -> None:
        code = fault.status or 500
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(
                int(fault.retry_after) if float(fault.retry_after).is_integer() else fault.retry_after
            )
        if fault.body is not None:
            self._send(code, fault.body.encode(), fault.content_type, headers)
            return
        details: dict[str, Any] = {}
        if fault.retry_after is not None:
            details["retryAfterSeconds"] = int(fault.retry_after)
        if code == 500:
            details["causes"] = [{"message": "injected fault"}]
        self._status_reply(
            code,
            _FAULT_MESSAGES.get(code, f"injected fault {code}"),
            details=details or None,
            headers=headers,
        )

    def _authenticate(self, api: KubeAPIServer) -> Grant | None:
        """x509 client certificate first, then the bearer token (the apiserver's union authenticator)."""
        peer = self.request.getpeercert()
        if peer:
            subject = dict(pair for rdn in peer.get("subject", ()) for pair in rdn)
            user = str(subject.get("commonName", ""))
            groups = tuple(g for g in str(subject.get("organizationName", "")).split(",") if g)
            if user:
                rules = api.client_certs[user].rules if user in api.client_certs else frozenset()
                return Grant(rules, user, groups)
        header = self.headers.get("Authorization")
        if header is None:
            return ANONYMOUS if api.allow_anonymous else None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return api.tokens.get(token.strip())

    @staticmethod
    def _parse_target(path: str) -> _Target | None:
        """RequestInfo of a resource path; None for discovery and other non-resource paths."""
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["api"] and len(parts) >= 3:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None
        namespace = None
        if rest[0] == "namespaces" and len(rest) > 1:
            namespace = rest[1]
            if len(rest) > 2 and rest[2] not in ("status", "finalize"):
                rest = rest[2:]
        resource = rest[0]
        name = rest[1] if len(rest) > 1 else None
        sub = "/".join(rest[2:]) if len(rest) > 2 else None
        return _Target(group, version, namespace, resource, name, sub)

    def _verb_of(self, method: str, info: _Target) -> str:
        if method in ("GET", "HEAD"):
            if info.name:
                return "get"
            return "watch" if self._query.get("watch") in ("1", "true") else "list"
        if method == "DELETE":
            return "delete" if info.name else "deletecollection"
        return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())

    def _forbidden(self, grant: Grant, verb: str, info: _Target) -> None:
        resource = _authz_resource(info)
        details: dict[str, Any] = {}
        if info.name and verb not in ("create",):
            details["name"] = info.name
        if info.group:
            details["group"] = info.group
        details["kind"] = info.resource
        name = info.name if verb not in ("create", "list", "watch", "deletecollection") else None
        message = forbidden_message(grant.user, verb, info.group, resource, info.namespace, name)
        self._status_reply(403, message, details=details)

    # ------------------------------------------------------------------ discovery
    def _wants_aggregated(self) -> bool:
        accept = self.headers.get("Accept", "")
        return any(
            "as=APIGroupDiscoveryList" in part
            and "v=v2" in part.replace(" ", "").split(";")
            and "g=apidiscovery.k8s.io" in part
            for part in accept.split(",")
        )

    def _non_resource(self, api: KubeAPIServer, grant: Grant, method: str) -> None:
        path = "/" + "/".join(p for p in self._url_path.split("/") if p)
        if grant is ANONYMOUS and path not in ("/version", "/healthz", "/livez", "/readyz"):
            self._status_reply(
                403,
                f'forbidden: User "system:anonymous" cannot {method.lower()} path "{self._url_path}"',
                details={},
            )
            return
        if method not in ("GET", "HEAD"):
            self._status_reply(
                405, f"the test API server is read-only: {method} {path} refused", "MethodNotAllowed", {}
            )
            return
        parts = [p for p in path.split("/") if p]
        if path == "/version":
            self._json(200, self._version(api))
        elif path in ("/healthz", "/livez", "/readyz"):
            self._send(200, b"ok", "text/plain; charset=utf-8")
        elif path == "/api":
            if self._wants_aggregated():
                self._aggregated(discovery.aggregated_discovery(api.catalog, legacy=True))
            else:
                self._json(200, discovery.api_versions(f"127.0.0.1:{api.port}"))
        elif path == "/apis":
            if self._wants_aggregated():
                self._aggregated(discovery.aggregated_discovery(api.catalog, legacy=False))
            else:
                self._json(200, discovery.api_group_list(api.catalog))
        elif parts == ["api", "v1"]:
            self._json(200, discovery.api_resource_list(api.catalog, "", "v1"))
        elif len(parts) == 2 and parts[0] == "apis" and api.catalog.versions(parts[1]):
            group = discovery.api_group(api.catalog, parts[1])
            self._json(200, {"kind": "APIGroup", "apiVersion": "v1", **group})
        elif len(parts) == 3 and parts[0] == "apis" and parts[2] in api.catalog.versions(parts[1]):
            self._json(200, discovery.api_resource_list(api.catalog, parts[1], parts[2]))
        else:
            self._page_not_found()

    def _aggregated(self, document: dict[str, Any]) -> None:
        body = json.dumps(document, separators=(",", ":")).encode()
        etag = '"' + hashlib.sha512(body).hexdigest().upper() + '"'
        self._send(200, body, AGGREGATED_CONTENT_TYPE, {"Etag": etag, "Vary": "Accept"})

    def _version(self, api: KubeAPIServer) -> dict[str, str]:
        match = re.match(r"v(\d+)\.(\d+)", api.git_version)
        major, minor = (match.group(1), match.group(2)) if match else ("1", "36")
        return {
            "major": major,
            "minor": minor,
            "emulationMajor": major,
            "emulationMinor": minor,
            "minCompatibilityMajor": major,
            "minCompatibilityMinor": str(max(int(minor) - 1, 0)),
            "gitVersion": api.git_version,
            "gitCommit": "0" * 40,
            "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z",
            "goVersion": "go1.26.6",
            "compiler": "gc",
            "platform": "linux/amd64",
        }

    # ------------------------------------------------------------------ access reviews
    def _access_review(self, grant: Grant) -> None:
        rules_review = self._url_path.rstrip("/") == RULES_REVIEW_PATH
        try:
            if self.headers.get("Content-Type", "").startswith("application/vnd.kubernetes.protobuf"):
                spec = review_spec(self._body, rules=rules_review)
            else:
                review = json.loads(self._body or b"{}")
                spec = review.get("spec") if isinstance(review, dict) else None
        except ValueError:
            self._status_reply(
                400,
                "the body of the request was in an unknown format - accepted media types "
                "include: application/json, application/yaml, application/vnd.kubernetes.protobuf",
                "BadRequest",
                {},
            )
            return
        if not isinstance(spec, dict):
            self._status_reply(400, "a review needs a spec", "BadRequest", {})
            return
        if rules_review:
            self._rules_review(grant, spec)
            return
        attrs = spec.get("resourceAttributes")
        if isinstance(attrs, dict):
            resource = str(attrs.get("resource", ""))
            if attrs.get("subresource"):
                resource += "/" + str(attrs["subresource"])
            allowed = grant.allows(
                str(attrs.get("verb", "")),
                str(attrs.get("group", "")),
                resource,
                attrs.get("namespace") or None,
            )
        else:
            allowed = True  # non-resource URLs: discovery is open to every authenticated user
        status: dict[str, Any] = {"allowed": allowed}
        if allowed:
            status["reason"] = f'RBAC: allowed by test API server grant to "{grant.user}"'
        self._json(
            201,
            {
                "kind": "SelfSubjectAccessReview",
                "apiVersion": "authorization.k8s.io/v1",
                "metadata": {"creationTimestamp": None},
                "spec": spec,
                "status": status,
            },
        )

    def _rules_review(self, grant: Grant, spec: dict[str, Any]) -> None:
        """SelfSubjectRulesReview: the grant's rules that hold in spec.namespace, verbs merged."""
        namespace = str(spec.get("namespace") or "")
        verbs: dict[tuple[str, str], set[str]] = {}
        for rule in grant.rules:
            if rule.namespace is None or rule.namespace == namespace:
                verbs.setdefault((rule.group, rule.resource), set()).add(rule.verb)
        resource_rules = [
            {"verbs": sorted(v), "apiGroups": [group], "resources": [resource]}
            for (group, resource), v in sorted(verbs.items())
        ]
        resource_rules.append(
            {
                "verbs": ["create"],
                "apiGroups": ["authorization.k8s.io"],
                "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
            }
        )
        status = {
            "resourceRules": resource_rules,
            "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": DISCOVERY_URLS}],
            "incomplete": False,
        }
        document = {
            "kind": "SelfSubjectRulesReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": None},
            "spec": spec,
            "status": status,
        }
        self._json(201, document)

    # ------------------------------------------------------------------ resources
    def _resource(self, api: KubeAPIServer, info: _Target) -> None:
        served = api.catalog.versions(info.group)
        if info.version not in served:
            self._page_not_found()
            return
        rtype = api.catalog.by_path(info.group, info.version, info.resource)
        if rtype is None or (info.namespace and not rtype.namespaced and info.resource != "namespaces"):
            if api.catalog.is_custom_group(info.group):
                self._page_not_found()
            else:
                self._status_reply(404, "the server could not find the requested resource", details={})
            return
        if self._verb == "watch":
            self._status_reply(405, "the test API server does not serve watches", "MethodNotAllowed", {})
            return
        if info.name is None:
            self._list(api, rtype, info)
            return
        if info.subresource not in (None, "status"):
            self._status_reply(404, "the server could not find the requested resource", details={})
            return
        namespace = info.namespace if rtype.namespaced else None
        obj = api.store.get(rtype, namespace, info.name)
        if obj is None:
            details = {
                "name": info.name,
                **({"group": rtype.group} if rtype.group else {}),
                "kind": rtype.plural,
            }
            self._status_reply(404, f'{rtype.qualified} "{info.name}" not found', details=details)
            return
        if self._wants_table():
            meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
            self._json(200, table(rtype, [obj], meta, self._query.get("includeObject", "Metadata")))
            return
        self._json(200, obj)

    def _accepts_json(self) -> bool:
        accept = self.headers.get("Accept", "").strip()
        media = [part.split(";")[0].strip() for part in accept.split(",")]
        return not accept or any(m in ("application/json", "application/*", "*/*") for m in media)

    def _wants_table(self) -> bool:
        accept = self.headers.get("Accept", "")
        return any("as=Table" in part and "g=meta.k8s.io" in part for part in accept.split(","))

    def _list(self, api: KubeAPIServer, rtype: ResourceType, info: _Target) -> None:
        query = self._query
        try:
            predicates = []
            if query.get("labelSelector"):
                predicates.append(label_selector(query["labelSelector"]))
            if query.get("fieldSelector"):
                predicates.append(field_selector(query["fieldSelector"], rtype.field_labels))
        except SelectorError as error:
            self._status_reply(400, str(error), "BadRequest", {})
            return
        limit_text = query.get("limit", "")
        limit = int(limit_text) if limit_text.isdigit() and int(limit_text) > 0 else None
        if (
            query.get("resourceVersionMatch") == "Exact"
            and query.get("resourceVersion", "").isdigit()
            and int(query["resourceVersion"]) <= api.store.compacted
        ):
            self._status_reply(410, "The resourceVersion for the provided list is too old.", "Expired")
            return
        try:
            page = api.store.list(
                rtype,
                info.namespace if rtype.namespaced else None,
                limit=limit,
                continue_token=query.get("continue") or None,
                predicate=lambda obj: all(p(obj) for p in predicates),
                selective=bool(predicates),
            )
        except ContinueError as error:
            metadata = {"continue": error.fresh_token} if error.fresh_token else {}
            self._status_reply(
                error.code, error.message, "Expired" if error.code == 410 else "BadRequest", metadata=metadata
            )
            return
        metadata: dict[str, Any] = {"resourceVersion": page.resource_version}
        if page.continue_token:
            metadata["continue"] = page.continue_token
        if page.remaining is not None:
            metadata["remainingItemCount"] = page.remaining
        if self._wants_table():
            self._json(200, table(rtype, page.items, metadata, query.get("includeObject", "Metadata")))
            return
        if rtype.custom:
            # Custom resources are unstructured: the last page keeps an empty `continue`.
            metadata.setdefault("continue", "")
            document = {
                "apiVersion": rtype.group_version,
                "items": page.items,
                "kind": rtype.list_kind,
                "metadata": dict(sorted(metadata.items())),
            }
        else:
            items = [{k: v for k, v in obj.items() if k not in ("apiVersion", "kind")} for obj in page.items]
            document = {
                "kind": rtype.list_kind,
                "apiVersion": rtype.group_version,
                "metadata": metadata,
                "items": items,
            }
        self._json(200, document)


def _authz_resource(info: _Target) -> str:
    return f"{info.resource}/{info.subresource}" if info.subresource else info.resource
