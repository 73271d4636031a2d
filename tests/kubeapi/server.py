"""A faithful test Kubernetes API server: fixture objects over real HTTPS on 127.0.0.1.

It answers what a read-only scanner (the `kubernetes` Python client, kubectl) sends, the way
kube-apiserver v1.36 does in the recordings under tests/data/k8s-api-recorded/: discovery (legacy and
aggregated), GET and LIST (namespaced and all-namespaces) with selectors and `limit`/`continue`,
410/400 for expired/malformed continue tokens, bearer-token authentication and per-verb/resource
authorization (401/403 with the RBAC wording), SelfSubjectAccessReview, the Table format, and
injected faults (429/5xx, slow answers). Every other write is refused and recorded in `writes`.
This module is the test-facing side (setup, lifecycle, controls, logs); handler.py answers.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from tests.kubeapi.auth import Grant
from tests.kubeapi.catalog import BUILTIN_TYPES, CRD, Catalog, ResourceType
from tests.kubeapi.handler import APIHandler, APIHTTPServer
from tests.kubeapi.records import Fault, RequestRecord, RequestSlot
from tests.kubeapi.store import ObjectStore


@cache
def _authority() -> Any:
    """One throwaway CA per test process (trustme.CA): signs the server's and the clients' certificates."""
    import trustme

    return trustme.CA(organization_name="upgrade-lint test API server")


@cache
def _certificates() -> tuple[bytes, bytes, bytes]:
    """(CA PEM, server certificate chain PEM, server key PEM)."""
    leaf = _authority().issue_cert("127.0.0.1", "localhost")
    chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
    return _authority().cert_pem.bytes(), chain, leaf.private_key_pem.bytes()


@cache
def client_certificate(user: str, groups: tuple[str, ...] = ()) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) of a client certificate for `user` (CN) in `groups` (O), as kubeadm
    issues them; the test API server authenticates it as that user."""
    leaf = _authority().issue_cert(
        "client.kubeapi.invalid", common_name=user, organization_name=",".join(groups) or None
    )
    return leaf.cert_chain_pems[0].bytes(), leaf.private_key_pem.bytes()


class KubeAPIServer:
    """Start with `with KubeAPIServer(objects, tokens) as server:`; see tests/kubeapi/README.md."""

    def __init__(
        self,
        objects: Iterable[Mapping[str, Any]] = (),
        tokens: Mapping[str, Grant] | None = None,
        crds: Iterable[ResourceType] = (),
        *,
        client_certs: Mapping[str, Grant] | None = None,
        allow_anonymous: bool = False,
        synthesize_namespaces: bool = True,
        git_version: str = "v1.36.2",
        resource_version: int | None = None,
    ) -> None:
        object_list = [dict(o) for o in objects]
        self.catalog = Catalog(BUILTIN_TYPES)
        for crd in crds:
            self.catalog.add(crd)
        for obj in object_list:
            self._imply_crd(obj)
        self.tokens: dict[str, Grant] = dict(tokens or {})
        # Client-certificate users by common name; a valid certificate of another name is a user
        # without permissions (as RBAC without bindings would treat it).
        self.client_certs: dict[str, Grant] = dict(client_certs or {})
        self.allow_anonymous = allow_anonymous
        self.git_version = git_version
        self.store = ObjectStore(
            self.catalog,
            object_list + self._crd_objects(),
            synthesize_namespaces=synthesize_namespaces,
            resource_version=resource_version,
        )
        self._lock = threading.Lock()
        # One slot per request in arrival order; the handler fills in the answer (status 0 until then).
        self._slots: list[RequestSlot] = []
        self._faults: list[Fault] = []
        self._stopping = threading.Event()
        self._httpd: APIHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    # ------------------------------------------------------------------ setup
    def _imply_crd(self, obj: Mapping[str, Any]) -> None:
        """An object of a kind nobody declared implies its CRD (guessed plural, scope from namespace)."""
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str):
            raise ValueError(f"test API server: an object needs apiVersion and kind: {obj!r:.200}")
        group, _, version = api_version.rpartition("/")
        if self.catalog.by_kind(group, kind) is not None:
            return
        if not group:
            raise ValueError(
                f"test API server: {kind} is not a built-in v1 kind it serves; add it to "
                "BUILTIN_TYPES in tests/kubeapi/catalog.py"
            )
        namespaced = bool((obj.get("metadata") or {}).get("namespace"))
        self.catalog.add(CRD(group, version, kind, namespaced=namespaced))

    def _crd_objects(self) -> list[dict[str, Any]]:
        """CustomResourceDefinition objects for the served CRDs, as `kubectl get crd` lists them."""
        by_name: dict[str, dict[str, Any]] = {}
        for rtype in self.catalog.types:
            if not rtype.custom:
                continue
            name = f"{rtype.plural}.{rtype.group}"
            crd = by_name.setdefault(
                name,
                {
                    "apiVersion": "apiextensions.k8s.io/v1",
                    "kind": "CustomResourceDefinition",
                    "metadata": {"name": name},
                    "spec": {
                        "group": rtype.group,
                        "names": {
                            "kind": rtype.kind,
                            "listKind": rtype.list_kind,
                            "plural": rtype.plural,
                            "singular": rtype.singular,
                            **({"shortNames": list(rtype.short_names)} if rtype.short_names else {}),
                        },
                        "scope": "Namespaced" if rtype.namespaced else "Cluster",
                        "versions": [],
                    },
                    "status": {
                        "acceptedNames": {
                            "kind": rtype.kind,
                            "listKind": rtype.list_kind,
                            "plural": rtype.plural,
                            "singular": rtype.singular,
                        },
                        "conditions": [
                            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted"}
                        ],
                        "storedVersions": [rtype.version],
                    },
                },
            )
            crd["spec"]["versions"].append(
                {
                    "name": rtype.version,
                    "served": True,
                    "storage": not crd["spec"]["versions"],
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                    "subresources": {"status": {}},
                }
            )
        return list(by_name.values())

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> KubeAPIServer:
        ca_pem, chain, key = _certificates()
        self._tmp = tempfile.TemporaryDirectory(prefix="kubeapi-")
        tmp = Path(self._tmp.name)
        (tmp / "ca.crt").write_bytes(ca_pem)
        (tmp / "tls.crt").write_bytes(chain)
        (tmp / "tls.key").write_bytes(key)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tmp / "tls.crt", tmp / "tls.key")
        context.verify_mode = ssl.CERT_OPTIONAL  # client certificates authenticate, bearer tokens too
        context.load_verify_locations(cadata=ca_pem.decode())
        self._stopping.clear()
        self._httpd = APIHTTPServer(("127.0.0.1", 0), APIHandler, self, context)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="kubeapi-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.close_connections()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._tmp is not None:
            self._tmp.cleanup()
        self._httpd = self._thread = self._tmp = None

    def __enter__(self) -> KubeAPIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ client side
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("test API server is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_pem(self) -> bytes:
        return _certificates()[0]

    @property
    def ca_file(self) -> str:
        if self._tmp is None:
            raise RuntimeError("test API server is not started")
        return str(Path(self._tmp.name) / "ca.crt")

    def kubeconfig_dict(
        self,
        token: str | None = None,
        *,
        context: str = "kubeapi-test",
        namespace: str | None = None,
        embed_ca: bool = True,
        client_cert: str | None = None,
        exec_token: bool = False,
    ) -> dict[str, Any]:
        """One cluster, user and context named `context`; merge several dicts for several contexts.

        The user holds `token`, or a client certificate for the user name `client_cert`, or with
        `exec_token=True` an exec credential plugin (client.authentication.k8s.io/v1) that prints
        `token`; no credentials at all when none is given. `embed_ca=False` names the CA file
        (`certificate-authority`) instead of embedding it, the other form kubeconfigs use.
        """
        user: dict[str, Any] = {}
        if client_cert is not None:
            cert, key = client_certificate(client_cert)
            user = {
                "client-certificate-data": base64.b64encode(cert).decode(),
                "client-key-data": base64.b64encode(key).decode(),
            }
        elif token is not None and exec_token:
            credential = {
                "apiVersion": "client.authentication.k8s.io/v1",
                "kind": "ExecCredential",
                "status": {"token": token},
            }
            user = {
                "exec": {
                    "apiVersion": "client.authentication.k8s.io/v1",
                    "command": sys.executable,
                    "args": ["-c", f"print({json.dumps(json.dumps(credential))})"],
                    "interactiveMode": "Never",
                    "provideClusterInfo": False,
                }
            }
        elif token is not None:
            user = {"token": token}
        ctx: dict[str, Any] = {"cluster": context, "user": context}
        if namespace:
            ctx["namespace"] = namespace
        cluster: dict[str, Any] = {"server": self.url}
        if embed_ca:
            cluster["certificate-authority-data"] = base64.b64encode(self.ca_pem).decode()
        else:
            cluster["certificate-authority"] = self.ca_file
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": {},
            "clusters": [{"name": context, "cluster": cluster}],
            "users": [{"name": context, "user": user}],
            "contexts": [{"name": context, "context": ctx}],
            "current-context": context,
        }

    def write_kubeconfig(
        self,
        path: str | Path,
        token: str | None = None,
        *,
        context: str = "kubeapi-test",
        namespace: str | None = None,
        embed_ca: bool = True,
        client_cert: str | None = None,
        exec_token: bool = False,
    ) -> Path:
        """A kubeconfig for kubectl or kubernetes.config (see kubeconfig_dict); JSON is YAML."""
        target = Path(path)
        document = self.kubeconfig_dict(
            token,
            context=context,
            namespace=namespace,
            embed_ca=embed_ca,
            client_cert=client_cert,
            exec_token=exec_token,
        )
        target.write_text(json.dumps(document, indent=2))
        return target

    def client_configuration(self, token: str | None = None) -> Any:
        """A kubernetes.client.Configuration for this server (CA verification on)."""
        from kubernetes import client

        config = client.Configuration()
        config.host = self.url
        config.ssl_ca_cert = self.ca_file
        config.verify_ssl = True
        if token is not None:
            config.api_key = {"authorization": f"Bearer {token}"}
        return config

    # ------------------------------------------------------------------ test controls
    def inject(
        self,
        path_regex: str,
        status: int | None = None,
        *,
        times: int | None = 1,
        retry_after: float | None = None,
        delay: float = 0.0,
        method: str | None = "GET",
        body: str | None = None,
        content_type: str = "application/json",
        drop: bool = False,
    ) -> Fault:
        """Answer the next `times` matching requests (None: all) with `status` after `delay` seconds.

        `status=None` with a delay makes a slow but otherwise normal answer. `body` replaces the
        Status JSON (e.g. an HTML error page with content_type="text/html"). `drop=True` closes the
        connection without any answer (a connection reset, as from a restarting apiserver or proxy).
        """
        fault = Fault(
            re.compile(path_regex), status, times, retry_after, delay, method, body, content_type, drop
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def expire_continue_tokens(self) -> None:
        """Every continue token issued so far answers 410 Expired (as after an etcd compaction)."""
        self.store.expire_continue_tokens()

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request in arrival order; one still waiting for its answer has status 0."""
        with self._lock:
            return [slot.record for slot in self._slots]

    @property
    def writes(self) -> list[RequestRecord]:
        """Requests that tried to change the cluster (every POST/PUT/PATCH/DELETE but access reviews)."""
        with self._lock:
            return [slot.record for slot in self._slots if slot.write]

    def lists(self, resource: str | None = None) -> list[RequestRecord]:
        """The LIST requests (every page counts), optionally of one resource (plural)."""
        return [
            r for r in self.requests if r.is_list and (resource is None or _resource_of(r.path) == resource)
        ]

    def assert_read_only(self) -> None:
        writes = self.writes
        assert not writes, "the client sent writes: " + ", ".join(f"{w.method} {w.path}" for w in writes)

    def reset_log(self) -> None:
        with self._lock:
            self._slots = []

    # ------------------------------------------------------------------ used by the handler
    def _arrived(self, record: RequestRecord, *, write: bool) -> RequestSlot:
        slot = RequestSlot(record, write)
        with self._lock:
            self._slots.append(slot)
        return slot

    def _answered(self, slot: RequestSlot, record: RequestRecord) -> None:
        with self._lock:
            slot.record = record

    def _take_fault(self, method: str, target: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, target):
                    fault.hits += 1
                    return fault
        return None


def _resource_of(path: str) -> str | None:
    parts = [p for p in path.split("/") if p]
    rest = parts[2:] if parts[:1] == ["api"] else parts[3:]
    if rest[:1] == ["namespaces"] and len(rest) > 2:
        rest = rest[2:]
    return rest[0] if rest else None
