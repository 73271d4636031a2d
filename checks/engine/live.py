"""Live sources in a scan: the cluster (and product APIs) as the current state.

A scan may read a cluster (``--cluster``) or replay a recorded snapshot
(``--snapshot``); ``--record`` saves what was read. The objects read join the
manifests (the planned state) as follows:

- a live object that is also a manifest (same API group, kind, namespace and
  name) is not evaluated: the manifest is what will be applied; the live copy
  still says which version runs now (``checks.engine.upgrade_path``);
- rules of mode ``live`` look at live objects only; ``both`` at both;
- a read the cluster refused or does not serve (``Unavailable``) makes the
  rules that read that kind *not evaluated*, with the reason.

The cluster reader and the product probes are imported only when a cluster is
read: a snapshot replay needs neither the Kubernetes client nor the network.
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from checks.engine.catalog import Catalog, Rule
from checks.model import Resource
from checks.sources.live.kinds import is_not_served_reason
from checks.sources.live.model import LiveRead, Unavailable
from checks.sources.live.origins import is_live_origin
from checks.sources.live.snapshot import SnapshotError, read_snapshot, write_snapshot

if TYPE_CHECKING:  # imported for real only when a cluster is read (module docstring)
    from checks.sources.live.kube import ClusterOptions, SecretReader
    from checks.sources.live.model import WantedKind
    from checks.sources.live.probes import ProbeOptions

    ReadCluster = Callable[[ClusterOptions, Sequence[WantedKind]],
                           tuple[LiveRead, SecretReader]]
    RunProbes = Callable[[Sequence[Resource], ProbeOptions, SecretReader | None], LiveRead]


class LiveSourceError(Exception):
    """A live source that cannot be used at all (bad kubeconfig, unreadable
    snapshot): one line, exit 2."""


def _module(name: str) -> Any:
    """A live-source module, imported when first needed (see module docstring).
    Untyped here; each caller binds what it uses to the real types."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise LiveSourceError(f"--cluster: this build of upgrade-lint has no cluster reader "
                              f"({exc.name or name} is missing)") from None


def cluster_options(**options: Any) -> ClusterOptions:
    """A ``checks.sources.live.kube.ClusterOptions`` from the command line's values."""
    made: ClusterOptions = _module("checks.sources.live.kube").ClusterOptions(**options)
    return made


def probe_options(**options: Any) -> ProbeOptions:
    """A ``checks.sources.live.probes.ProbeOptions`` from the command line's values."""
    made: ProbeOptions = _module("checks.sources.live.probes").ProbeOptions(**options)
    return made


def read_live(catalog: Catalog, cluster: ClusterOptions | None = None,
              probes: ProbeOptions | None = None,
              snapshot: str | None = None, record: str | None = None,
              named_rules: Sequence[str] = ()) -> LiveRead | None:
    """The live read of the scan (None without a live source), recorded to
    ``record`` when asked. ``named_rules``: rule ids the user named (``-k``),
    which list their kinds even when they usually judge what others list."""
    if snapshot is not None:
        try:
            read: LiveRead | None = read_snapshot(snapshot)
        except SnapshotError as exc:
            raise LiveSourceError(str(exc)) from None
    elif cluster is not None:
        read = _read_cluster(catalog, cluster, probes, named_rules)
    else:
        read = None
    if read is not None and record is not None:
        try:
            write_snapshot(read, record)
        except SnapshotError as exc:
            raise LiveSourceError(str(exc)) from None
    return read


def _read_cluster(catalog: Catalog, options: ClusterOptions,
                  probe_opts: ProbeOptions | None, named_rules: Sequence[str] = ()) -> LiveRead:
    kube = _module("checks.sources.live.kube")
    read_cluster: ReadCluster = kube.read_cluster
    wanted: list[WantedKind] = kube.wanted_kinds(catalog.rules, named_rules)
    config_error: type[Exception] = kube.ClusterConfigError
    try:
        read, secrets = read_cluster(options, wanted)
    except config_error as exc:
        raise LiveSourceError(" ".join(str(exc).split()) or "--cluster: no usable "
                              "cluster configuration") from None
    probes = _module("checks.sources.live.probes")
    run_probes: RunProbes = probes.run_probes
    chosen = probe_opts if probe_opts is not None else probe_options()
    read.extend(run_probes(read.resources, chosen, secrets))
    return read


def object_key(resource: Resource) -> tuple[str, str, str, str]:
    """What makes a manifest and a live object the same object."""
    return resource.group, resource.kind, resource.namespace or "", resource.name


def superseded(manifests: Sequence[Resource], live: Sequence[Resource]) -> set[int]:
    """ids of the live objects a manifest stands for (the planned state wins)."""
    planned = {object_key(r) for r in manifests if r.chart is None}
    return {id(r) for r in live if object_key(r) in planned}


def is_live(resource: Resource) -> bool:
    return is_live_origin(resource.origin.path)


def _group_matches(selector_api_version: str | None, group: str) -> bool:
    if selector_api_version is None:
        return True
    wanted_group = (selector_api_version.rpartition("/")[0]
                    if "/" in selector_api_version else "")
    return fnmatch.fnmatchcase(group, wanted_group)


@dataclass
class LiveScope:
    """What the evaluator needs to know about the scan's live sources."""

    #: A live source was read (a cluster or a snapshot).
    present: bool = False
    unavailable: list[Unavailable] = field(default_factory=list)
    #: ids of the live objects a manifest stands for: ``both`` rules judge the
    #: manifest; ``live`` rules still judge the live object (what runs).
    superseded: set[int] = field(default_factory=set)
    #: API groups of the live objects read (a product with objects is installed).
    present_groups: set[str] = field(default_factory=set)

    def reads_a_served_kind(self, rule: Rule) -> bool:
        """Does the cluster serve at least one of the kinds ``rule`` reads? Then
        the kinds it does not serve only mean that no such objects exist (an
        OpenShift kind on Kubernetes, the optional APIConnectCluster beside a
        ManagementCluster): they leave nothing unread."""
        missing = [item for item in self.unavailable if is_not_served_reason(item.reason)]
        for selector in rule.applies_to:
            if selector.chart is not None:
                continue
            for kind in selector.kinds:
                if not any(item.kind == kind and _group_matches(selector.api_version, item.group)
                           for item in missing):
                    return True
        return False

    def refused_for(self, rule: Rule) -> list[Unavailable]:
        """The reads that did not happen of the kinds ``rule`` looks at."""
        out = []
        for item in self.unavailable:
            if any(item.kind in selector.kinds and _group_matches(selector.api_version,
                                                                    item.group)
                   for selector in rule.applies_to if selector.chart is None):
                out.append(item)
        return out
