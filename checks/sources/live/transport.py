"""GET requests to the Kubernetes API through the ``kubernetes`` client's
ApiClient (its configuration: TLS, CA bundle, proxy, bearer token, exec and
OIDC users), with our own bounded retries and JSON decoding.

Why not the client's typed API: deserializing every object into models costs
more than the whole scan, and the rules want the JSON as the server sent it.
Why our own retries: urllib3's would also retry read timeouts (multiplying a
slow server's wait) and know nothing of ``Retry-After``.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

#: First backoff between retries (seconds), doubled per retry, each wait at
#: most MAX_WAIT; all waits of one request together at most MAX_TOTAL_WAIT
#: (a Retry-After beyond what is left ends the retries).
BACKOFF_BASE = 0.5
MAX_WAIT = 8.0
MAX_TOTAL_WAIT = 30.0
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
#: How much of an error body is kept for a reason (Status messages are short).
_MAX_ERROR_BODY = 64 * 1024


@dataclass(frozen=True)
class Failure:
    """A request that did not give a usable answer. ``status`` is None when no
    HTTP answer came (timeout, connection refused, TLS failure)."""

    status: int | None
    #: One line: the Status ``message``, or what went wrong on the wire.
    detail: str
    retries: int = 0
    #: The Status object of an error answer, when it was JSON.
    body: Mapping[str, Any] | None = None


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date)."""
    value = (headers or {}).get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _status_failure(status: int, data: bytes, retries: int) -> Failure:
    body: Mapping[str, Any] | None = None
    detail = ""
    try:
        decoded = json.loads(data[:_MAX_ERROR_BODY])
    except ValueError:
        decoded = None
    if isinstance(decoded, dict):
        body = decoded
        detail = str(decoded.get("message") or decoded.get("reason") or "")
    elif data:
        detail = data[:300].decode("utf-8", "replace")
    return Failure(status, _one_line(detail), retries, body)


class KubeHttp:
    """Counts every request; each request is retried on 429, 5xx and
    connection failures with bounded exponential backoff."""

    def __init__(self, api: ApiClient, connect_timeout: float, read_timeout: float,
                 retries: int, sleep: Callable[[float], None] = time.sleep) -> None:
        self.api = api
        self.timeout = (connect_timeout, read_timeout)
        self.retries = max(0, retries)
        self.requests = 0
        self._sleep = sleep

    def get(self, path: str, query: list[tuple[str, str]] | None = None) -> Any | Failure:
        """The decoded JSON answer of ``GET path?query``, or why there is none."""
        waited = 0.0
        attempt = 0
        while True:
            result, retry_after = self._attempt(path, query or [], attempt)
            retryable = retry_after is not None
            if not retryable or attempt >= self.retries:
                return result
            wait = min(MAX_WAIT, BACKOFF_BASE * (2 ** attempt))
            if retry_after:
                wait = max(wait, retry_after)
            if waited + wait > MAX_TOTAL_WAIT:
                return result
            self._sleep(wait)
            waited += wait
            attempt += 1

    def _attempt(self, path: str, query: list[tuple[str, str]],
                 attempt: int) -> tuple[Any | Failure, float | None]:
        """One request: (result, None) when final, (failure, Retry-After or 0.0)
        when worth retrying."""
        try:  # an exec or OIDC user's token is refreshed here, and that can fail
            method, url, headers, _, _ = self.api.param_serialize(
                "GET", path, query_params=query, header_params={"Accept": "application/json"},
                auth_settings=["BearerToken"])
        except (ConfigException, OSError) as exc:
            return Failure(None, _one_line(f"credentials could not be refreshed "
                                           f"({type(exc).__name__})"), attempt), None
        self.requests += 1
        try:
            response = self.api.call_api(method, url, header_params=headers,
                                         _request_timeout=self.timeout)
            data: bytes = response.read()  # type: ignore[no-untyped-call]
        except urllib3.exceptions.ReadTimeoutError:
            return Failure(None, f"no answer within the read timeout of {self.timeout[1]:g} s",
                           attempt), None
        except (urllib3.exceptions.ConnectTimeoutError, urllib3.exceptions.NewConnectionError,
                urllib3.exceptions.ProtocolError, urllib3.exceptions.ProxyError,
                urllib3.exceptions.MaxRetryError, ConnectionError) as exc:
            return Failure(None, _connection_detail(exc, self.timeout[0]), attempt), 0.0
        except ApiException as exc:  # TLS failures: retrying does not help
            return Failure(None, _one_line(f"TLS: {exc.reason}"), attempt), None
        except urllib3.exceptions.HTTPError as exc:
            return Failure(None, _one_line(f"{type(exc).__name__}: {exc}"), attempt), None
        status = response.status
        if 200 <= status <= 299:
            try:
                return json.loads(data), None
            except ValueError:
                return Failure(status, "the answer is not JSON", attempt), None
        failure = _status_failure(status, data, attempt)
        if status in RETRIED_STATUSES:
            return failure, _retry_after(response.headers) or 0.0
        return failure, None


def _connection_detail(exc: BaseException, connect_timeout: float) -> str:
    reason = getattr(exc, "reason", None) or exc
    # NewConnectionError subclasses ConnectTimeoutError (urllib3 2): ask it first.
    if isinstance(reason, urllib3.exceptions.NewConnectionError):
        return "connection refused or host unreachable"
    if isinstance(reason, urllib3.exceptions.ConnectTimeoutError):
        return f"no connection within the connect timeout of {connect_timeout:g} s"
    if isinstance(reason, urllib3.exceptions.ProtocolError):
        return "connection reset by the server"
    return _one_line(f"connection failed ({type(reason).__name__})")
