"""What a live source (a cluster, a product API, a recorded snapshot) hands the engine.

A live read never raises for what the cluster refused or does not serve: each
read that did not happen is an ``Unavailable`` with the reason, and the rules
that needed it are *not evaluated* with that reason (never failed, never
passed). Objects come back as ordinary ``Resource``s whose origin is a URI
instead of a file: ``cluster://<context>/<namespace>/<Kind>/<name>`` (no
namespace segment for cluster-scoped objects) or ``snapshot://<file>/...``,
with ``?resourceVersion=N`` when the server gave one, and line 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checks.model import Resource

#: API group of the objects product probes make (DataPower peering status,
#: Kong cluster status, API7 dashboard status): never served by a cluster.
PROBE_GROUP = "probes.upgrade-lint.io"
PROBE_API_VERSION = f"{PROBE_GROUP}/v1"
#: URI schemes of live origins (``Origin.path``).
LIVE_SCHEMES = ("cluster://", "snapshot://")


def is_live_path(path: str) -> bool:
    """Does this origin path name a live object rather than a file?"""
    return path.startswith(LIVE_SCHEMES)


#: URI schemes of objects read from a product's own API (Kong Admin API, API7
#: dashboard): their origin is the URL probed, without userinfo or query.
API_SCHEMES = ("https://", "http://")


def is_api_path(path: str) -> bool:
    """Does this origin path name an object a product API answered (not a file)?"""
    return path.startswith(API_SCHEMES)


@dataclass(frozen=True, order=True)
class WantedKind:
    """A kind some selected rule reads: ``group`` is "" for the core API."""

    group: str
    kind: str

    def __str__(self) -> str:
        return f"{self.kind}.{self.group}" if self.group else self.kind


@dataclass(frozen=True)
class Unavailable:
    """A read that did not happen, and why, in words a user can act on:
    ``CRD gatewayclusters.gateway.apiconnect.ibm.com is not installed``,
    ``forbidden: list secrets in namespace apic (403)``,
    ``DataPower REST management interface of gw-0 unreachable: timed out``.

    ``namespace`` is None for a cluster-wide read (or a whole-cluster reason).
    """

    group: str
    kind: str
    namespace: str | None
    reason: str

    @property
    def wanted(self) -> WantedKind:
        return WantedKind(self.group, self.kind)


@dataclass
class LiveRead:
    """Everything one live source read: objects, refused reads, and bookkeeping
    the reports show (how many requests, what was retried)."""

    #: ``cluster://<context>`` or ``snapshot://<file>``.
    source: str
    resources: list[Resource] = field(default_factory=list)
    unavailable: list[Unavailable] = field(default_factory=list)
    #: HTTP requests made (asserted by tests: grows with kinds and pages,
    #: never with objects).
    requests: int = 0
    #: One line each, shown in the reports: "list of pods in apic restarted
    #: after 410 Gone (expired continue token)".
    notes: list[str] = field(default_factory=list)
    #: ``gitVersion`` of the API server, when known.
    server_version: str | None = None
    #: When the objects were read (RFC 3339 UTC; a snapshot's ``recordedAt``):
    #: ages (of backups) are judged against it, so a replay judges as the
    #: recording did. None: the scan's start.
    read_at: str | None = None

    def extend(self, other: LiveRead) -> None:
        """Add another source's reads (the probes' after the cluster's)."""
        self.resources.extend(other.resources)
        self.unavailable.extend(other.unavailable)
        self.requests += other.requests
        self.notes.extend(other.notes)
