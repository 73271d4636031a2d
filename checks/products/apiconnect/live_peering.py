"""DataPower gateway peering, as the gateways report it.

The probes ask each Running gateway pod's REST management interface for
``GatewayPeeringStatus`` and record the answers in one
``DataPowerPeeringStatus`` object per gateway StatefulSet: the pods (name, IP,
ordinal) and, per pod, the entries it returned (or why it did not answer).
An entry is one (peer member x peering object): ``Address`` is the member it
is about, ``Name`` the peering object, ``Primary`` "yes"/"no", ``LinkStatus``
and ``PendingUpdates`` the link's state. A member's entry about itself
(``Address`` = its own pod IP) is the authority on whether it is primary;
another member's view of it is used only when it did not answer. DataPower
returns a single object instead of a list when there is one entry: both
forms are read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from checks.engine.registry import Params, object_check
from checks.engine.upgrade_path import UpgradeContext
from checks.model import JsonPath, NotEvaluated, Resource, Severity, Verdict, Violation


@dataclass(frozen=True)
class _Entry:
    reporter: str
    self_report: bool
    name: str
    address: str
    primary: bool
    link: Any
    pending: Any
    path: JsonPath


@dataclass(frozen=True)
class _Peering:
    pods: list[Mapping[str, Any]]
    by_ip: dict[str, str]
    entries: list[_Entry]
    #: (pod, reason, path) of the pods that did not answer usefully.
    silent: list[tuple[str, str, JsonPath]]


def _entries_of(answer: Any, at: JsonPath) -> list[tuple[Any, JsonPath]]:
    """The entries of one pod's answer, each with its JSON path: a list, the
    REST envelope (``{"_links": ..., "GatewayPeeringStatus": ...}``) kept
    whole, or a single object (DataPower's form for one entry)."""
    if isinstance(answer, Mapping) and "GatewayPeeringStatus" in answer:
        return _entries_of(answer["GatewayPeeringStatus"], (*at, "GatewayPeeringStatus"))
    if isinstance(answer, Mapping):
        return [(answer, at)]
    return [(entry, (*at, j)) for j, entry in enumerate(answer)] \
        if isinstance(answer, list) else []


def _read(resource: Resource) -> _Peering:
    pods = [p for p in resource.body.get("pods") or [] if isinstance(p, Mapping)]
    by_ip = {str(p.get("ip")): str(p.get("name")) for p in pods if p.get("ip")}
    ip_of = {name: ip for ip, name in by_ip.items()}
    entries: list[_Entry] = []
    silent: list[tuple[str, str, JsonPath]] = []
    for i, peer in enumerate(resource.body.get("peers") or []):
        if not isinstance(peer, Mapping):
            continue
        reporter = str(peer.get("pod", f"peers[{i}]"))
        if "entries" not in peer:
            silent.append((reporter, str(peer.get("error") or "no answer"), ("peers", i)))
            continue
        for entry, path in _entries_of(peer.get("entries"), ("peers", i, "entries")):
            if not isinstance(entry, Mapping) or not entry.get("Name"):
                continue
            address = str(entry.get("Address", ""))
            entries.append(_Entry(
                reporter, address == ip_of.get(reporter), str(entry["Name"]), address,
                str(entry.get("Primary", "")).strip().lower() == "yes",
                entry.get("LinkStatus"), entry.get("PendingUpdates"), path))
    return _Peering(pods, by_ip, entries, silent)


def _no_answer(peering: _Peering, resource: Resource) -> NotEvaluated:
    """Why there is nothing to judge: no pod answered, or none reports a peering object."""
    if len(peering.silent) < len(resource.body.get("peers") or []):
        return NotEvaluated("the gateway pods that answered report no gateway-peering object")
    reasons = "; ".join(f"{pod}: {why}" for pod, why, _ in peering.silent) or "no pod listed"
    return NotEvaluated(f"no gateway pod answered the peering status request ({reasons})")


def _ordinal_zero(pods: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    for pod in pods:
        if pod.get("ordinal") == 0 or (pod.get("ordinal") is None
                                       and str(pod.get("name", "")).endswith("-0")):
            return pod
    return None


@object_check("datapower-peering-primary", {"additionalProperties": False, "properties": {}})
def peering_primary(resource: Resource, params: Params, ctx: UpgradeContext
                    ) -> Iterator[Verdict]:
    """Every peering object has exactly one primary: the StatefulSet's ordinal-0 pod."""
    peering = _read(resource)
    if not peering.entries:
        yield _no_answer(peering, resource)
        return
    zero = _ordinal_zero(peering.pods)
    if zero is None:
        yield NotEvaluated(f"the ordinal-0 pod of {resource.name} is not among its Running "
                           "gateway pods, so the primary cannot be checked", ("pods",))
        return
    zero_name, zero_ip = str(zero.get("name")), str(zero.get("ip"))
    views: dict[str, dict[str, _Entry]] = {}
    for entry in peering.entries:
        about = views.setdefault(entry.name, {})
        known = about.get(entry.address)
        if known is None or (entry.self_report and not known.self_report):
            about[entry.address] = entry
    answered = {e.reporter for e in peering.entries}
    for name in sorted(views):
        primaries = [e for e in views[name].values() if e.primary]
        pods = ", ".join(peering.by_ip.get(e.address, e.address) for e in primaries)
        if len(primaries) == 1 and primaries[0].address == zero_ip:
            continue
        if len(primaries) == 1:
            only = primaries[0]
            yield Violation(f"peering object {name!r}: the primary is {pods} ({only.address}, "
                            f"as {only.reporter} reports), not {zero_name}, the ordinal-0 pod "
                            "the StatefulSet upgrades last; switch the primary to "
                            f"{zero_name} (gateway-peering-switch-primary {name})",
                            (*only.path, "Primary"), observed=pods, expected=zero_name)
        elif primaries:
            yield Violation(f"peering object {name!r} has {len(primaries)} primaries "
                            f"({pods}); exactly one, {zero_name}, must be primary",
                            (*primaries[0].path, "Primary"), observed=pods,
                            expected=zero_name)
        elif peering.silent and zero_name not in answered:
            yield NotEvaluated(f"peering object {name!r}: no answering pod is primary and "
                               f"{zero_name} did not answer ("
                               + "; ".join(f"{p}: {why}" for p, why, _ in peering.silent) + ")")
        else:
            first = next(iter(views[name].values()))
            yield Violation(f"peering object {name!r} has no primary (pods "
                            f"{', '.join(sorted(answered))} answered); {zero_name} must be "
                            "primary", first.path, observed=None, expected=zero_name)


@object_check("datapower-peering-health", {
    "additionalProperties": False,
    "properties": {"healthy": {"type": "string", "default": "ok"}},
})
def peering_health(resource: Resource, params: Params, ctx: UpgradeContext
                   ) -> Iterator[Verdict]:
    """Every peering link is ``ok`` (warning: updates still pending)."""
    peering = _read(resource)
    if not peering.entries:
        yield _no_answer(peering, resource)
        return
    healthy = params.get("healthy", "ok")
    for e in peering.entries:
        peer = peering.by_ip.get(e.address, e.address)
        if str(e.link).strip().lower() != healthy:
            yield Violation(f"peering object {e.name!r}: the link from {e.reporter} to {peer} "
                            f"is {e.link!r}, not {healthy!r}", (*e.path, "LinkStatus"),
                            observed=e.link, expected=healthy)
        elif isinstance(e.pending, (int, float)) and not isinstance(e.pending, bool) \
                and e.pending > 0:
            yield Violation(f"peering object {e.name!r}: {e.reporter} reports {e.pending} "
                            f"pending update(s) for {peer}; wait until replication has caught "
                            "up", (*e.path, "PendingUpdates"), observed=e.pending, expected=0,
                            severity=Severity.WARNING)
    for pod, why, path in peering.silent:
        yield NotEvaluated(f"{pod} did not answer the peering status request: {why}", path)
