"""DataPower gateway peering, read from each gateway pod's REST management
interface: which member is primary for each peering object, and whether the
links are healthy.

Gateway pods are the cluster's Running pods labelled
``crd.apiconnect.ibm.com/kind=datapower`` (the selection IBM's own API Connect
monitoring agent, apiconnect-trawler, makes). Each is asked
``GET https://<pod IP>:<port>/mgmt/status/apiconnect/GatewayPeeringStatus``
with the admin credentials of a Secret; the answer lists one entry per
(peer member x peering object), or is a single object when there is only one
entry. One ``DataPowerPeeringStatus`` object is made per gateway StatefulSet,
because the upgrade rolls a StatefulSet from its highest ordinal down and
its ordinal-0 pod must be the primary of every peering object.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from checks.model import Origin, Resource
from checks.sources.live.model import PROBE_API_VERSION, PROBE_GROUP, Unavailable
from checks.sources.live.probes.http import Failure, HttpClient, Target, basic_auth, status_reason
from checks.sources.live.probes.secrets import SecretReader

KIND = "DataPowerPeeringStatus"
POD_LABEL = "crd.apiconnect.ibm.com/kind"
POD_LABEL_VALUE = "datapower"
INSTALLATION_LABEL = "upgrade-lint.io/installation"
STATUS_PATH = "/mgmt/status/apiconnect/GatewayPeeringStatus"
WHAT = "the DataPower REST management interface"
SELF_SIGNED_HINT = ("; DataPower's REST management interface usually presents a self-signed certificate "
                    "or one issued by the installation's private CA")
_ORDINAL = re.compile(r"-(\d+)$")


@dataclass(frozen=True)
class GatewayPod:
    """A Running gateway pod, as far as peering is concerned."""

    name: str
    namespace: str
    ip: str | None
    ordinal: int | None
    stateful_set: str
    installation: str | None
    #: ``cluster://<context>`` part of the pod's origin: the probe object's origin is its sibling.
    cluster_uri: str


@dataclass
class PeeringRead:
    """What the DataPower probe made: objects and the reads that did not happen."""

    resources: list[Resource]
    unavailable: list[Unavailable]


def gateway_pods(cluster: Sequence[Resource]) -> list[GatewayPod]:
    """The Running DataPower pods among the cluster's objects."""
    pods = []
    for resource in cluster:
        if resource.kind != "Pod" or resource.api_version != "v1":
            continue
        body = resource.body
        metadata = _mapping(body.get("metadata"))
        labels = _mapping(metadata.get("labels"))
        status = _mapping(body.get("status"))
        if labels.get(POD_LABEL) != POD_LABEL_VALUE or status.get("phase") != "Running":
            continue
        namespace = resource.namespace or ""
        ip = status.get("podIP")
        installation = labels.get(INSTALLATION_LABEL)
        pods.append(GatewayPod(
            name=resource.name, namespace=namespace, ip=ip if isinstance(ip, str) and ip else None,
            ordinal=_ordinal(resource.name), stateful_set=_stateful_set(resource.name, metadata),
            installation=installation if isinstance(installation, str) else None,
            cluster_uri=_cluster_uri(resource, namespace)))
    return pods


def read_credentials(secret_option: str | None,
                     secrets: SecretReader | None) -> tuple[str, str] | str:
    """(username, password) from the Secret named by ``--datapower-secret``,
    or why there are none. The Secret's values never leave this function but
    as the credentials themselves."""
    if not secret_option:
        return ("no credentials for the DataPower REST management interface: give the Secret holding "
                "them with --datapower-secret NAMESPACE/NAME (keys username and password)")
    namespace, slash, name = secret_option.partition("/")
    if not slash or not namespace or not name or "/" in name:
        return f"--datapower-secret {secret_option!r} is not NAMESPACE/NAME"
    if secrets is None:
        return f"Secret {namespace}/{name} cannot be read: no cluster connection to read it from"
    data = secrets.read(namespace, name)
    if isinstance(data, Unavailable):
        return f"Secret {namespace}/{name} with the DataPower credentials: {data.reason}"
    values = []
    for key in ("username", "password"):
        value = data.get(key)
        if not value:
            return f"Secret {namespace}/{name} has no key {key!r} (or it is empty)"
        try:
            values.append(value.decode("utf-8"))
        except UnicodeDecodeError:
            return f"Secret {namespace}/{name}: the value of key {key!r} is not UTF-8 text"
    return values[0], values[1]


def probe_datapower(pods: Sequence[GatewayPod], client: HttpClient, port: int,
                    credentials: tuple[str, str] | str,
                    server_name: str | None = None) -> PeeringRead:
    """Ask every gateway pod for its peering status; one object per
    StatefulSet. A StatefulSet none of whose pods answered is Unavailable.
    ``server_name``: the name the pods' REST management certificate carries
    (``--datapower-tls-server-name``), verified instead of the pod IP."""
    read = PeeringRead([], [])
    groups: dict[tuple[str, str], list[GatewayPod]] = {}
    for pod in pods:
        groups.setdefault((pod.namespace, pod.stateful_set), []).append(pod)
    if isinstance(credentials, str):
        read.unavailable += [Unavailable(PROBE_GROUP, KIND, namespace, credentials)
                             for namespace in sorted({namespace for namespace, _ in groups})]
        return read
    headers = {"Authorization": basic_auth(*credentials)}
    for (namespace, stateful_set), members in sorted(groups.items()):
        members.sort(key=lambda pod: (pod.ordinal is None, pod.ordinal or 0, pod.name))
        peers = [_ask(pod, client, port, headers, server_name) for pod in members]
        if all("error" in peer for peer in peers):
            failures = "; ".join(f"{peer['pod']}: {peer['error']}" for peer in peers)
            read.unavailable.append(Unavailable(
                PROBE_GROUP, KIND, namespace,
                f"{WHAT} of gateway StatefulSet {namespace}/{stateful_set} did not answer ({failures})"))
            continue
        read.resources.append(_peering_object(namespace, stateful_set, members, peers))
    return read


def _ask(pod: GatewayPod, client: HttpClient, port: int, headers: Mapping[str, str],
         server_name: str | None = None) -> dict[str, Any]:
    """One pod's peering entries, or the error that stands for them."""
    if pod.ip is None:
        return {"pod": pod.name, "error": "the pod has no IP address in its status"}
    target = Target("https", pod.ip, port, STATUS_PATH, server_name=server_name)
    answer = client.get_json(target, headers=headers, what=WHAT)
    if isinstance(answer, Failure):
        return {"pod": pod.name, "error": answer.reason + (SELF_SIGNED_HINT if answer.tls else "")}
    if answer.status != 200:
        reason = status_reason(answer.status, "the credentials of --datapower-secret were")
        return {"pod": pod.name, "error": reason}
    body = answer.body
    entries = body.get("GatewayPeeringStatus") if isinstance(body, dict) else None
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        keys = ", ".join(sorted(str(k) for k in body)) if isinstance(body, dict) else type(body).__name__
        return {"pod": pod.name, "error": f"the answer has no GatewayPeeringStatus (it has: {keys})"}
    return {"pod": pod.name, "entries": entries}


def _peering_object(namespace: str, stateful_set: str, members: Sequence[GatewayPod],
                    peers: list[dict[str, Any]]) -> Resource:
    installation = next((pod.installation for pod in members if pod.installation), None)
    body = {
        "apiVersion": PROBE_API_VERSION,
        "kind": KIND,
        "metadata": {"name": stateful_set, "namespace": namespace,
                     "labels": {INSTALLATION_LABEL: installation} if installation else {}},
        "statefulSet": stateful_set,
        "pods": [{"name": pod.name, "ip": pod.ip, "ordinal": pod.ordinal} for pod in members],
        "peers": peers,
    }
    origin = Origin(path=f"{members[0].cluster_uri}/{namespace}/{KIND}/{stateful_set}", line=0)
    return Resource(PROBE_API_VERSION, KIND, stateful_set, body, origin, namespace)


def _stateful_set(name: str, metadata: Mapping[str, Any]) -> str:
    """The owning StatefulSet: from ownerReferences, else the name minus ``-N``."""
    owners = metadata.get("ownerReferences")
    for owner in owners if isinstance(owners, list) else []:
        owner_name = owner.get("name") if isinstance(owner, dict) else None
        if owner_name and isinstance(owner_name, str) and owner.get("kind") == "StatefulSet":
            return owner_name
    return _ORDINAL.sub("", name)


def _ordinal(name: str) -> int | None:
    match = _ORDINAL.search(name)
    return int(match.group(1)) if match else None


def _cluster_uri(pod: Resource, namespace: str) -> str:
    """``cluster://<context>`` of a pod whose origin is
    ``cluster://<context>/<ns>/Pod/<name>?resourceVersion=N`` (contexts may hold ``/``)."""
    path = pod.origin.path.split("?", 1)[0]
    suffix = f"/{namespace}/Pod/{pod.name}"
    if path.endswith(suffix):
        return path[: -len(suffix)]
    scheme, _, rest = path.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
