"""The cluster reader: what a live scan reads from a Kubernetes/OpenShift cluster.

``read_cluster`` connects with the ``kubernetes`` client's configuration
(kubeconfig files, ``KUBECONFIG`` with several files, contexts, token, client
certificate, exec and OIDC users, proxies and CA bundles; the pod's service
account when run in a cluster), discovers which of the wanted kinds the
cluster serves, and makes one paginated LIST per (served kind, namespace
scope). It never writes and never raises for what the API refused: every read
that did not happen is an ``Unavailable`` with the reason. Secret values are
dropped as each page is decoded; only key names reach the scan.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import quote

import yaml
from kubernetes import config as kube_config
from kubernetes.client import ApiClient, Configuration

from checks.sources.live.discovery import Served, Unauthorized, discover, refused_reason
from checks.sources.live.kinds import wanted_kinds
from checks.sources.live.model import LiveRead, Unavailable, WantedKind
from checks.sources.live.paging import Lister
from checks.sources.live.transport import Failure, KubeHttp

__all__ = ["ClusterConfigError", "ClusterOptions", "ClusterSecretReader", "SecretReader",
           "SecretValues", "connect", "read_cluster", "wanted_kinds"]

# The client's configuration loaders carry no type annotations.
_list_contexts = cast(Callable[..., Any], kube_config.list_kube_config_contexts)
_load_kube_config = cast(Callable[..., None], kube_config.load_kube_config)
_load_incluster_config = cast(Callable[..., None], kube_config.load_incluster_config)

#: The context name of in-cluster (service account) configuration.
IN_CLUSTER_CONTEXT = "in-cluster"


@dataclass(frozen=True)
class ClusterOptions:
    kubeconfig: str | None = None          # else KUBECONFIG, else ~/.kube/config, else in-cluster
    context: str | None = None
    namespaces: tuple[str, ...] = ()       # empty: all namespaces (one cluster-wide LIST per kind)
    exclude_namespaces: tuple[str, ...] = ()
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    page_size: int = 500
    retries: int = 4                       # 429/5xx/connection errors, bounded backoff, Retry-After


class ClusterConfigError(Exception):
    """No usable cluster configuration (bad kubeconfig, unknown context, none
    at all): the message is one line, the CLI exits 2."""


class SecretReader(Protocol):
    """One GET of one Secret, for probes that need credentials (DataPower admin)."""

    def read(self, namespace: str, name: str) -> Mapping[str, bytes] | Unavailable: ...


class SecretValues(Mapping[str, bytes]):
    """A Secret's decoded values. Its repr names the keys only, so a value
    never reaches a log or a traceback by accident."""

    def __init__(self, values: Mapping[str, bytes]) -> None:
        self._values = dict(values)

    def __getitem__(self, key: str) -> bytes:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"SecretValues(keys={sorted(self._values)})"


class ClusterSecretReader:
    """``SecretReader`` over the scan's own connection. Its GETs happen after
    ``read_cluster`` returned (the probes ask for credentials): each one is
    added to the requests of the scan's ``LiveRead`` as it is made, so the
    reports count every request the cluster saw."""

    def __init__(self, http: KubeHttp, counted: LiveRead | None = None) -> None:
        self._http = http
        self._counted = counted

    @property
    def requests(self) -> int:
        return self._http.requests

    def read(self, namespace: str, name: str) -> Mapping[str, bytes] | Unavailable:
        path = f"/api/v1/namespaces/{quote(namespace, safe='')}/secrets/{quote(name, safe='')}"
        before = self._http.requests
        answer = self._http.get(path)
        if self._counted is not None:
            self._counted.requests += self._http.requests - before
        if isinstance(answer, Failure):
            if answer.status == 404:
                reason = f"Secret {namespace}/{name} not found (404)"
            else:
                reason = refused_reason(answer, "get", f"secrets/{name} in namespace {namespace}")
            return Unavailable("", "Secret", namespace, reason)
        values: dict[str, bytes] = {}
        data = answer.get("data") if isinstance(answer, dict) else None
        for key, value in (data or {}).items() if isinstance(data, dict) else ():
            try:
                values[str(key)] = base64.b64decode(str(value or ""), validate=True)
            except (binascii.Error, ValueError):
                return Unavailable("", "Secret", namespace,
                                   f"Secret {namespace}/{name}: key {key} is not base64")
        return SecretValues(values)


def _kubeconfig_path(options: ClusterOptions) -> str | None:
    """--kubeconfig, else KUBECONFIG (several files joined by the path
    separator), else ~/.kube/config when it exists, else None (in-cluster).
    KUBECONFIG is read now, not when the client was imported."""
    if options.kubeconfig:
        return options.kubeconfig
    env = os.environ.get("KUBECONFIG", "")
    if env.strip(os.pathsep):
        return env
    home = Path("~/.kube/config").expanduser()
    return str(home) if home.is_file() else None


def _first_current_context(path: str) -> str | None:
    """kubectl's rule for KUBECONFIG with several files: the first file that
    sets current-context decides (the Python client's merger takes the last)."""
    for part in path.split(os.pathsep):
        if not part:
            continue
        try:
            with open(os.path.expanduser(part), encoding="utf-8") as handle:
                doc = yaml.safe_load(handle)
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            return None  # the client's loader reports it
        current = doc.get("current-context") if isinstance(doc, dict) else None
        if current:
            return str(current)
    return None


def _config_error(path: str, exc: Exception) -> ClusterConfigError:
    """One line that names the file and never quotes it (a YAML error's
    snippet could hold a token)."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        return ClusterConfigError(f"kubeconfig {path}{where}: not valid YAML ({exc.problem})")
    if isinstance(exc, OSError):
        return ClusterConfigError(f"kubeconfig {path}: cannot read it ({exc.strerror})")
    detail = " ".join(str(exc).split())[:200] or type(exc).__name__
    return ClusterConfigError(f"kubeconfig {path}: {detail}")


def connect(options: ClusterOptions) -> tuple[ApiClient, str]:
    """The API client and the context name, or ClusterConfigError."""
    configuration = Configuration()
    path = _kubeconfig_path(options)
    if path is not None:
        try:
            contexts, active = _list_contexts(path)
            context = options.context
            if context is None and os.pathsep in path:
                context = _first_current_context(path)
            context = context or (active or {}).get("name")
            if context and context not in {c.get("name") for c in contexts}:
                raise ClusterConfigError(f"kubeconfig {path}: no context named {context!r}")
            _load_kube_config(config_file=path, context=context,
                             client_configuration=configuration, persist_config=False)
        except ClusterConfigError:
            raise
        except Exception as exc:  # the client's loader raises anything on bad input
            raise _config_error(path, exc) from None
        if not context:
            raise ClusterConfigError(f"kubeconfig {path}: no current context; give --context")
        context = str(context)
    elif os.environ.get("KUBERNETES_SERVICE_HOST"):
        if options.context:
            raise ClusterConfigError("--context needs a kubeconfig; in a pod the service "
                                     "account's in-cluster configuration is used")
        try:
            _load_incluster_config(client_configuration=configuration)
        except Exception as exc:
            detail = " ".join(str(exc).split())[:200]
            raise ClusterConfigError(f"in-cluster configuration: {detail}") from None
        context = IN_CLUSTER_CONTEXT
    else:
        raise ClusterConfigError("no cluster configuration: give --kubeconfig, set KUBECONFIG, "
                                 "create ~/.kube/config, or run in a pod")
    configuration.retries = False  # ours honour Retry-After and never repeat a read timeout
    return ApiClient(configuration=configuration), context


def _scopes(served: Served, options: ClusterOptions) -> list[str | None]:
    """Namespace scopes of a kind's LISTs: None is cluster-wide (all namespaces,
    or a cluster-scoped kind, listed once)."""
    if not served.namespaced or not options.namespaces:
        return [None]
    excluded = set(options.exclude_namespaces)
    return [ns for ns in dict.fromkeys(options.namespaces) if ns not in excluded]


def read_cluster(options: ClusterOptions,
                 wanted: Sequence[WantedKind]) -> tuple[LiveRead, SecretReader]:
    """Discovery, then one paginated LIST per (wanted kind the cluster serves,
    namespace scope). Raises only ClusterConfigError (before any request)."""
    api, context = connect(options)
    http = KubeHttp(api, options.connect_timeout, options.read_timeout, options.retries)
    uri_context = quote(context, safe=":@")
    read = LiveRead(source=f"cluster://{uri_context}")
    kinds = sorted(set(wanted))
    done: set[WantedKind] = set()
    excluded = frozenset(options.exclude_namespaces)
    lister = Lister(http, uri_context, options.page_size, keep=lambda ns: ns not in excluded)
    try:
        version = http.get("/version")
        if isinstance(version, Failure):
            if version.status == 401:
                raise Unauthorized(version)
            if version.status is None:  # nothing answers: do not retry every request
                reason = f"cluster unreachable: {refused_reason(version, 'get', '/version')}"
                read.unavailable = [Unavailable(w.group, w.kind, None, reason) for w in kinds]
                return read, ClusterSecretReader(http, read)
        elif isinstance(version, dict) and version.get("gitVersion"):
            read.server_version = str(version["gitVersion"])
        found = discover(http, kinds)
        read.unavailable.extend(found.unavailable)
        done.update(u.wanted for u in found.unavailable)
        for served in found.served:
            for namespace in _scopes(served, options):
                listed = lister.read_list(served, namespace)
                read.notes.extend(listed.notes)
                if listed.refused is not None:
                    read.unavailable.append(Unavailable(
                        served.wanted.group, served.wanted.kind,
                        namespace if served.namespaced else None, listed.refused))
                read.resources.extend(listed.resources)
            done.add(served.wanted)
    except Unauthorized as exc:
        reason = refused_reason(exc.failure, "", "")
        read.unavailable.extend(Unavailable(w.group, w.kind, None, reason)
                                for w in kinds if w not in done)
    finally:
        read.requests = http.requests
    return read, ClusterSecretReader(http, read)
