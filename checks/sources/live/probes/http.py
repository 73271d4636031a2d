"""The one HTTPS client every product probe uses: small, bounded, and quiet
about credentials.

Why not a general-purpose client: a probe talks to management interfaces that
hold admin credentials, so everything a general client does on its own is a
risk here. This one verifies TLS by default (system CAs, plus ``ca_bundle``
for a private CA), never follows a redirect to another host (the token would
go with it), never sends a request through a proxy it was not told about,
reads at most ``max_bytes`` of an answer, accepts only JSON, and never raises:
every failure is a ``Failure`` whose reason a user can act on. Reasons and
shown URLs never carry userinfo, header values or a response body.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

#: Answers larger than this are not read (a management API's status fits in far less).
MAX_BYTES = 16 * 1024 * 1024
#: Same-host redirects followed per request (another host's are never followed).
MAX_REDIRECTS = 3
#: A whole answer must arrive within this many times the per-read timeout
#: (a server that drips one byte per read never times out a single read).
WHOLE_ANSWER_FACTOR = 3
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH and X509_V_ERR_IP_ADDRESS_MISMATCH: a
#: trusted certificate issued for other names (a CA bundle does not help).
_NAME_MISMATCH = frozenset({62, 64})


@dataclass(frozen=True)
class Target:
    """A parsed http(s) URL: where to connect, and what may be shown of it."""

    scheme: str
    host: str
    port: int
    #: Path (with query) to request, "/" at least.
    path: str
    #: Userinfo of the URL, used as basic auth; never shown.
    userinfo: tuple[str, str] | None = None
    #: The name the server's certificate must carry, when it is not ``host``
    #: (a pod reached by IP whose certificate names a service): sent as SNI
    #: and verified like kubectl's ``--tls-server-name``.
    server_name: str | None = None

    @property
    def authority(self) -> str:
        """``host:port`` (IPv6 hosts in brackets): the name a probe object carries."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.authority}"

    @property
    def shown(self) -> str:
        """The URL without userinfo, query or fragment: safe for any message."""
        return self.origin + self.path.split("?", 1)[0].rstrip("/")

    def at(self, path: str) -> Target:
        """The same server, another path (the base path kept as a prefix)."""
        base = self.path.split("?", 1)[0].rstrip("/")
        return Target(self.scheme, self.host, self.port, base + path, self.userinfo,
                      self.server_name)


@dataclass(frozen=True)
class Failure:
    """Why a request gave no usable answer. ``tls`` is set when the server's
    certificate was not trusted (its issuer unknown), so a probe can add what
    it knows about the product's certificates."""

    reason: str
    tls: bool = False


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: ``body`` is the decoded JSON of a 2xx answer, and of an
    error answer when it was JSON (else None)."""

    status: int
    body: Any


def shown_url(text: str) -> str:
    """``text`` as it may appear in a message: userinfo, query and fragment
    dropped, even when ``text`` is not a valid URL."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    authority, slash, path = rest.partition("/")
    authority = authority.rpartition("@")[2]
    path = path.split("?", 1)[0].split("#", 1)[0]
    return f"{scheme}{sep}{authority}{slash}{path}"


def parse_target(url: str) -> Target | Failure:
    """Parse an http(s) URL given by the user; a bad one is a Failure naming
    it without its userinfo."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return Failure(f"not a valid URL: {shown_url(url)}")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return Failure(f"not an http(s) URL with a host: {shown_url(url)}")
    userinfo = None
    if parts.username is not None:
        userinfo = (parts.username, parts.password or "")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    default_port = 443 if parts.scheme == "https" else 80
    return Target(parts.scheme, parts.hostname, port or default_port, path, userinfo)


def basic_auth(username: str, password: str) -> str:
    """The ``Authorization`` header value of HTTP basic authentication."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def token_sent(env: str, token: str | None) -> str:
    """Which credentials went with a request, as the subject of ``status_reason``."""
    return f"the token in {env} was" if token else f"no token was sent ({env} is not set), so the request was"


def status_reason(status: int, credentials: str) -> str:
    """What a refused or failed request means: ``credentials`` names what was
    sent, with its verb ("the token in KONG_ADMIN_TOKEN was")."""
    if status == 401:
        return f"unauthorized (401): {credentials} refused"
    if status == 403:
        return f"forbidden (403): {credentials} not allowed to read it"
    if status == 404:
        return "not found (404)"
    return f"answered HTTP {status}"


class HttpClient:
    """GET JSON from management APIs; counts every request it sends.

    One client per probe run: the TLS context (and the CA bundle) is built
    once. ``timeout`` bounds connecting and each read (seconds).
    """

    def __init__(self, *, ca_bundle: str | None, timeout: float, max_bytes: int = MAX_BYTES) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.requests = 0
        self._context: ssl.SSLContext | None = None
        self._setup_failure: Failure | None = None
        try:
            context = ssl.create_default_context()
            if ca_bundle:
                context.load_verify_locations(cafile=ca_bundle)
            self._context = context
        except (OSError, ssl.SSLError, ValueError) as exc:
            detail = getattr(exc, "strerror", None) or type(exc).__name__
            self._setup_failure = Failure(f"cannot use the CA bundle {ca_bundle}: {detail}")

    def get_json(self, target: Target, *, headers: Mapping[str, str], what: str) -> Reply | Failure:
        """GET ``target``; ``what`` names the API for a non-JSON answer
        ("the Kong Admin API"). Same-host redirects are followed, bounded."""
        if self._setup_failure is not None:
            return self._setup_failure
        for _ in range(MAX_REDIRECTS + 1):
            answer = self._get_once(target, headers, what)
            if not isinstance(answer, tuple):
                return answer
            location = answer[1]
            followed = parse_target(urljoin(target.origin + target.path, location))
            if isinstance(followed, Failure) or followed.origin != target.origin:
                where = followed.reason if isinstance(followed, Failure) else followed.origin
                return Failure(f"redirected to another host ({where}): not followed")
            target = Target(followed.scheme, followed.host, followed.port, followed.path, target.userinfo,
                            target.server_name)
        return Failure(f"more than {MAX_REDIRECTS} redirects: not followed")

    def _get_once(self, target: Target, headers: Mapping[str, str],
                  what: str) -> Reply | Failure | tuple[int, str]:
        """One request: a Reply, a Failure, or (status, Location) of a redirect."""
        send = {"Accept": "application/json", "Accept-Encoding": "identity", "Connection": "close",
                **headers}
        if target.userinfo is not None and "Authorization" not in send:
            send["Authorization"] = basic_auth(*target.userinfo)
        connection = self._connection(target)
        self.requests += 1
        try:
            connection.connect()  # TLS errors are ValueErrors too: handshake before the headers
            try:
                connection.request("GET", target.path, headers=send)
            except ValueError:
                # http.client rejects a header value with a line break (or not
                # Latin-1); its message may quote the value, a credential.
                return Failure("a credential holds characters an HTTP header cannot carry "
                               "(a line break, or text that is not Latin-1)")
            response = connection.getresponse()
            if response.status in _REDIRECTS:
                location = response.getheader("Location")
                if location:
                    return response.status, location
            return self._reply(response, what)
        except ssl.SSLCertVerificationError as exc:
            if exc.verify_code in _NAME_MISMATCH:
                return Failure(f"TLS verification failed ({exc.verify_message}): the server's certificate "
                               f"does not name {target.server_name or target.host}")
            return Failure(f"TLS verification failed ({exc.verify_message}): give the CA that signed "
                           "the server's certificate with --ca-bundle", tls=True)
        except ssl.SSLError as exc:
            return Failure(f"TLS handshake failed ({exc.reason or type(exc).__name__}): "
                           "does the port serve HTTPS?")
        except TimeoutError:
            return Failure(f"timed out after {self.timeout:g} s")
        except ConnectionRefusedError:
            return Failure(f"connection refused by {target.authority}")
        except socket.gaierror:
            return Failure(f"cannot resolve host {target.host}")
        except http.client.HTTPException as exc:
            return Failure(f"broken HTTP answer ({type(exc).__name__})")
        except OSError as exc:
            return Failure(f"cannot connect to {target.authority}: {exc.strerror or type(exc).__name__}")
        finally:
            connection.close()

    def _connection(self, target: Target) -> http.client.HTTPConnection:
        if target.scheme == "https" and target.server_name:
            return _NamedHTTPSConnection(target.host, target.port, server_name=target.server_name,
                                         timeout=self.timeout, context=self._context)
        if target.scheme == "https":
            return http.client.HTTPSConnection(target.host, target.port, timeout=self.timeout,
                                               context=self._context)
        return http.client.HTTPConnection(target.host, target.port, timeout=self.timeout)

    def _reply(self, response: http.client.HTTPResponse, what: str) -> Reply | Failure:
        content_type = (response.getheader("Content-Type") or "").split(";", 1)[0].strip().lower()
        length = response.getheader("Content-Length")
        if length and length.isdigit() and int(length) > self.max_bytes:
            return Failure(f"answer of {int(length)} bytes is larger than the {self._limit()} limit")
        data = self._read_bounded(response)
        if isinstance(data, Failure):
            return data
        body = _json_or_none(data) if content_type != "text/html" else None
        if 200 <= response.status < 300 and body is None:
            if content_type and "json" not in content_type:
                return Failure(f"answered {content_type}, not JSON: is this {what}?")
            return Failure(f"answered something that is not JSON: is this {what}?")
        return Reply(response.status, body)

    def _read_bounded(self, response: http.client.HTTPResponse) -> bytes | Failure:
        deadline = time.monotonic() + WHOLE_ANSWER_FACTOR * self.timeout
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read(_CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                return Failure(f"answer larger than the {self._limit()} limit: not read")
            if time.monotonic() > deadline:
                return Failure(f"answer not complete after {WHOLE_ANSWER_FACTOR * self.timeout:g} s")
            chunks.append(chunk)
        return b"".join(chunks)

    def _limit(self) -> str:
        return f"{self.max_bytes // (1024 * 1024)} MiB" if self.max_bytes >= 1024 * 1024 \
            else f"{self.max_bytes} bytes"


class _NamedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to ``host`` whose certificate is verified against ``server_name``
    (sent as SNI): the chain against the same CAs, the name against the one
    given instead of the address dialled. Verification stays on."""

    def __init__(self, host: str, port: int, *, server_name: str, timeout: float,
                 context: ssl.SSLContext | None) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._server_name = server_name
        self._verifying = context or ssl.create_default_context()

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)  # the TCP connection to host:port
        self.sock = self._verifying.wrap_socket(self.sock, server_hostname=self._server_name)


def _json_or_none(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None
