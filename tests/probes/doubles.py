"""Test doubles of the products' management APIs: real HTTPS servers on
loopback addresses, answering with the JSON shapes the products document.

- DataPower REST management interface: ``GET /mgmt/status/apiconnect/GatewayPeeringStatus``
  answers ``{"_links": {...}, "GatewayPeeringStatus": [ {Address, Name,
  PendingUpdates, ReplicationOffset, LinkStatus, Primary, ...} ]}`` (the shape
  IBM's apiconnect-trawler parses), or a single object for one entry; basic auth.
- Kong Admin API: ``GET /`` (version, edition, configuration.role/database) and
  ``GET /clustering/data-planes`` (``{"data": [...], "next": "/clustering/data-planes?offset=..."}``;
  400 with Kong's message on a node that is not a control plane); token in ``Kong-Admin-Token``.
- API7 dashboard: ``GET /api/version`` (``{"value": "3.7.3"}``) and ``GET /api/instances``
  (``{"list": [...], "total": N}``, paginated by ``page``/``page_size``); token in ``X-API-KEY``.

Every server records the requests it saw and answers any method but GET with 405,
so a test can assert that a probe only reads.
"""

from __future__ import annotations

import base64
import errno
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trustme

PEERING_PATH = "/mgmt/status/apiconnect/GatewayPeeringStatus"
PEERING_OBJECTS = ("api-probe", "gwd", "rate-limit", "subs")
NOT_A_CONTROL_PLANE = ("this endpoint is only available when Kong is configured to run as Control Plane "
                       "for the cluster")


@dataclass(frozen=True)
class Seen:
    """A request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)

    @property
    def route(self) -> str:
        return urlsplit(self.path).path


@dataclass
class Answer:
    status: int = 200
    body: Any = None
    #: Sent as is instead of ``body`` as JSON.
    raw: bytes | None = None
    content_type: str = "application/json"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    #: Sent with chunked transfer encoding (no Content-Length), 4 KiB a chunk.
    chunked: bool = False
    #: Seconds between two chunks (a server that drips its answer).
    drip: float = 0.0

    def payload(self) -> bytes:
        return self.raw if self.raw is not None else json.dumps(self.body).encode()


Route = Callable[[Seen], Answer]


class DoubleServer:
    """A threaded HTTP(S) server on ``host:port`` answering every GET with ``route``."""

    def __init__(self, route: Route, *, cert: trustme.LeafCert | None, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.seen: list[Seen] = []
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                seen = Seen("GET", self.path, {k: v for k, v in self.headers.items()})
                double.seen.append(seen)
                self._send(route(seen))

            def _refuse(self) -> None:
                double.seen.append(Seen(self.command, self.path, dict(self.headers.items())))
                self._send(Answer(405, {"message": "read-only double"}))

            do_POST = do_PUT = do_PATCH = do_DELETE = _refuse

            def _send(self, answer: Answer) -> None:
                time.sleep(answer.delay)
                data = answer.payload()
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                if answer.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(len(data)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if not answer.chunked:
                    self.wfile.write(data)
                    return
                for start in range(0, len(data), 4096):
                    piece = data[start:start + 4096]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.flush()
                    time.sleep(answer.drip)
                self.wfile.write(b"0\r\n\r\n")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that gave up (timeout test) is expected

        self.server = Server((host, port), Handler)
        if cert is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            cert.configure_cert(context)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.host = host
        self.port = self.server.server_address[1]
        self.scheme = "https" if cert is not None else "http"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def paths(self) -> list[str]:
        return [seen.path for seen in self.seen]

    def __enter__(self) -> DoubleServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


# --- DataPower -------------------------------------------------------------------------------------

def peering_entries(ips: Sequence[str], primary: str, *, objects: Sequence[str] = PEERING_OBJECTS,
                    link: str = "ok") -> list[dict[str, Any]]:
    """One entry per (member x peering object), the primary member ``primary``."""
    return [{"Address": ip, "Name": name, "PendingUpdates": 0, "ReplicationOffset": 170111082,
             "LinkStatus": link, "Primary": "yes" if ip == primary else "no",
             "ServicePort": 16380 + n, "MonitorPort": 26380 + n, "Priority": 100}
            for n, name in enumerate(objects) for ip in ips]


def datapower_route(status: Any, *, username: str, password: str, delay: float = 0.0,
                    html: bool = False) -> Route:
    """The REST management interface of one gateway: ``status`` is the value of
    ``GatewayPeeringStatus`` (a list, or a single object)."""
    expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

    def route(seen: Seen) -> Answer:
        if html:
            return Answer(200, raw=b"<html><body><h1>DataPower WebGUI</h1></body></html>",
                          content_type="text/html; charset=utf-8", delay=delay)
        if seen.headers.get("Authorization") != expected:
            return Answer(401, {"error": "Authentication failure"}, delay=delay)
        if seen.route != PEERING_PATH:
            return Answer(404, {"error": "Resource not found"}, delay=delay)
        links = {"self": {"href": PEERING_PATH}, "doc": {"href": "/mgmt/docs/status/GatewayPeeringStatus"}}
        return Answer(200, {"_links": links, "GatewayPeeringStatus": status}, delay=delay)
    return route


@contextmanager
def datapower_pods(routes: Sequence[Route], cert: trustme.LeafCert) -> Iterator[list[DoubleServer]]:
    """One DataPower double per pod on 127.0.0.1, 127.0.0.2, ... all on the
    same port, as gateway pods have one IP each and the same REST port."""
    for _attempt in range(20):
        with ExitStack() as stack:
            try:
                first = stack.enter_context(DoubleServer(routes[0], cert=cert, host="127.0.0.1"))
                servers = [first] + [
                    stack.enter_context(DoubleServer(route, cert=cert, host=f"127.0.0.{n}", port=first.port))
                    for n, route in enumerate(routes[1:], start=2)]
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                continue
            yield servers
            return
    raise RuntimeError("no port free on every loopback address")


# --- Kong Admin API -------------------------------------------------------------------------------

def kong_root(version: str = "3.9.0.1", role: str = "control_plane", database: str = "postgres",
              edition: str = "enterprise") -> dict[str, Any]:
    return {"tagline": "Welcome to kong", "version": version, "edition": edition, "hostname": "kong-cp-0",
            "node_id": "2c2a3b0e-6f2a-4b6e-9a57-0e2b3d5f7a11", "lua_version": "LuaJIT 2.1.0-20231117",
            "timers": {"running": 0, "pending": 7},
            "plugins": {"available_on_server": {"acl": {"version": version, "priority": 950}},
                        "enabled_in_cluster": ["acl"]},
            "configuration": {"role": role, "database": database, "admin_listen": ["0.0.0.0:8001"]},
            "pids": {"master": 1, "workers": [1301]}}


def data_plane(n: int, *, version: str = "3.9.0.1", sync_status: str = "normal",
               last_seen: int = 1764496800) -> dict[str, Any]:
    return {"id": f"7f3d1c2e-0000-4000-8000-{n:012d}", "hostname": f"kong-dp-{n}", "ip": f"10.0.3.{n}",
            "version": version, "sync_status": sync_status, "config_hash": f"{n:032x}",
            "last_seen": last_seen, "updated_at": last_seen, "ttl": 1209600, "labels": {"region": "eu"},
            "cert_details": {"expiry_timestamp": 1897000000}, "rpc_capabilities": []}


def kong_route(root: dict[str, Any], planes: Sequence[dict[str, Any]], *, token: str | None,
               page_limit: int = 2) -> Route:
    """A Kong node: ``GET /`` and, on a control plane, the data-plane list in
    pages of at most ``page_limit`` (whatever ``size`` asks)."""
    def route(seen: Seen) -> Answer:
        if token is not None and seen.headers.get("Kong-Admin-Token") != token:
            return Answer(401, {"message": "Invalid credentials. Token or User credentials required"})
        if seen.route == "/":
            return Answer(200, root, content_type="application/json; charset=utf-8")
        if seen.route != "/clustering/data-planes":
            return Answer(404, {"message": "Not found"})
        if root["configuration"]["role"] != "control_plane":
            return Answer(400, {"message": NOT_A_CONTROL_PLANE})
        size = min(int(seen.query.get("size", ["100"])[0]), page_limit)
        offset = int(seen.query.get("offset", ["0"])[0])
        page = list(planes[offset:offset + size])
        following = (f"/clustering/data-planes?offset={offset + size}&size={size}"
                     if offset + size < len(planes) else None)
        return Answer(200, {"data": page, "next": following, "offset": following and str(offset + size)},
                      content_type="application/json; charset=utf-8")
    return route


# --- API7 dashboard --------------------------------------------------------------------------------

def api7_instance(n: int, *, version: str = "3.7.3", status: str = "Healthy") -> dict[str, Any]:
    return {"id": f"instance-{n}", "hostname": f"api7-gateway-{n}", "ip": f"10.0.4.{n}", "version": version,
            "status": status, "gateway_group_id": "default", "last_heartbeat_time": 1764496800}


def api7_route(version: str, instances: Sequence[dict[str, Any]], *, token: str | None) -> Route:
    def route(seen: Seen) -> Answer:
        if token is not None and seen.headers.get("X-API-KEY") != token:
            return Answer(401, {"error_msg": "unauthorized"})
        if seen.route == "/api/version":
            return Answer(200, {"value": version})
        if seen.route == "/api/instances":
            page = int(seen.query.get("page", ["1"])[0])
            size = min(int(seen.query.get("page_size", ["10"])[0]), 2)
            listed = list(instances[(page - 1) * size: page * size])
            return Answer(200, {"list": listed, "total": len(instances)})
        return Answer(404, {"error_msg": "not found"})
    return route
