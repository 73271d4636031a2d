"""The DataPower peering probe against real HTTPS doubles of the REST
management interface, one per gateway pod (127.0.0.1, .2, .3, same port)."""

from __future__ import annotations

import base64

import pytest
import trustme

from checks.model import Origin
from checks.sources.live.model import PROBE_GROUP, LiveRead, Unavailable
from checks.sources.live.probes import ProbeOptions, run_probes
from tests.probes.doubles import PEERING_PATH, datapower_pods, datapower_route, peering_entries
from tests.probes.support import CONTEXT, PASSWORD, SECRET, USERNAME, FakeSecrets, admin_secret, pod

IPS = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
PODS = [pod("gwv6-0", IPS[0]), pod("gwv6-1", IPS[1]), pod("gwv6-2", IPS[2])]
KIND = "DataPowerPeeringStatus"
SECRET_OPTION = "/".join(SECRET)


def options(port: int, **kw: object) -> ProbeOptions:
    settings: dict[str, object] = {"datapower_secret": SECRET_OPTION, "datapower_port": port, "timeout": 2.0}
    settings.update(kw)
    return ProbeOptions(**settings)  # type: ignore[arg-type]


def route(status: object, **kw: object) -> object:
    return datapower_route(status, username=USERNAME, password=PASSWORD, **kw)  # type: ignore[arg-type]


def assert_no_credential(read: LiveRead) -> None:
    text = repr(read)
    basic = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    assert PASSWORD not in text and basic not in text


def test_one_object_per_statefulset_with_every_pods_entries_as_returned(
        cert: trustme.LeafCert, ca_bundle: str) -> None:
    entries = peering_entries(IPS, primary=IPS[1])
    with datapower_pods([route(entries)] * 3, cert) as servers:
        secrets = admin_secret()
        read = run_probes(PODS, options(servers[0].port, ca_bundle=ca_bundle), secrets)

    assert secrets.reads == [SECRET]  # one Secret read for every pod
    assert read.unavailable == []
    assert read.requests == 3
    assert [server.paths() for server in servers] == [[PEERING_PATH]] * 3
    [status] = read.resources
    assert (status.api_version, status.kind, status.name, status.namespace) == (
        "probes.upgrade-lint.io/v1", KIND, "gwv6", "apic")
    assert status.origin == Origin(path=f"cluster://{CONTEXT}/apic/{KIND}/gwv6", line=0)
    assert status.body == {
        "apiVersion": "probes.upgrade-lint.io/v1",
        "kind": KIND,
        "metadata": {"name": "gwv6", "namespace": "apic", "labels": {}},
        "statefulSet": "gwv6",
        "pods": [{"name": "gwv6-0", "ip": IPS[0], "ordinal": 0},
                 {"name": "gwv6-1", "ip": IPS[1], "ordinal": 1},
                 {"name": "gwv6-2", "ip": IPS[2], "ordinal": 2}],
        "peers": [{"pod": "gwv6-0", "entries": entries},
                  {"pod": "gwv6-1", "entries": entries},
                  {"pod": "gwv6-2", "entries": entries}],
    }
    assert_no_credential(read)


def test_single_object_answer_becomes_a_one_item_list(cert: trustme.LeafCert, ca_bundle: str) -> None:
    [entry] = peering_entries(IPS[:1], primary=IPS[0], objects=["gwd"])
    with datapower_pods([route(entry)], cert) as servers:
        read = run_probes(PODS[:1], options(servers[0].port, ca_bundle=ca_bundle), admin_secret())
    assert read.resources[0].body["peers"] == [{"pod": "gwv6-0", "entries": [entry]}]


def test_pods_are_grouped_by_statefulset_ordered_by_ordinal_and_carry_the_installation_label(
        cert: trustme.LeafCert, ca_bundle: str) -> None:
    # No ownerReferences: the StatefulSet is the pod name minus its ordinal.
    pods = [pod("gw-b-0", IPS[2], owner=None), pod("gw-a-1", IPS[1], owner=None, installation="prod"),
            pod("gw-a-0", IPS[0], owner=None, installation="prod")]
    entries = peering_entries(IPS, primary=IPS[0])
    with datapower_pods([route(entries)] * 3, cert) as servers:
        read = run_probes(pods, options(servers[0].port, ca_bundle=ca_bundle), admin_secret())
    assert [(r.name, r.body["metadata"]["labels"], [p["name"] for p in r.body["pods"]])
            for r in read.resources] == [
        ("gw-a", {"upgrade-lint.io/installation": "prod"}, ["gw-a-0", "gw-a-1"]),
        ("gw-b", {}, ["gw-b-0"])]
    assert read.requests == 3


def test_a_pod_that_does_not_answer_is_an_error_peer_the_others_still_count(
        cert: trustme.LeafCert, ca_bundle: str) -> None:
    entries = peering_entries(IPS, primary=IPS[0])
    with datapower_pods([route(entries), route(entries, delay=1.5), route(entries)], cert) as servers:
        read = run_probes(PODS, options(servers[0].port, ca_bundle=ca_bundle, timeout=0.3), admin_secret())
    assert read.unavailable == []
    assert read.resources[0].body["peers"] == [
        {"pod": "gwv6-0", "entries": entries},
        {"pod": "gwv6-1", "error": "timed out after 0.3 s"},
        {"pod": "gwv6-2", "entries": entries}]
    assert read.requests == 3


@pytest.mark.parametrize(("answer", "error"), [
    ({"status": [], "html": True},
     "answered text/html, not JSON: is this the DataPower REST management interface?"),
    ({"status": [], "delay": 1.5}, "timed out after 0.3 s"),
])
def test_no_pod_answering_makes_the_statefulset_unavailable(
        answer: dict[str, object], error: str, cert: trustme.LeafCert, ca_bundle: str) -> None:
    with datapower_pods([route(**answer)] * 2, cert) as servers:  # type: ignore[arg-type]
        read = run_probes(PODS[:2], options(servers[0].port, ca_bundle=ca_bundle, timeout=0.3),
                          admin_secret())
    assert read.resources == []
    assert read.unavailable == [Unavailable(
        PROBE_GROUP, KIND, "apic", "the DataPower REST management interface of gateway StatefulSet apic/gwv6 "
        f"did not answer (gwv6-0: {error}; gwv6-1: {error})")]
    assert read.requests == 2


def test_refused_credentials(cert: trustme.LeafCert, ca_bundle: str) -> None:
    wrong = FakeSecrets({SECRET: {"username": b"admin", "password": b"not-it"}})
    with datapower_pods([route([])], cert) as servers:
        read = run_probes(PODS[:1], options(servers[0].port, ca_bundle=ca_bundle), wrong)
    assert [u.reason for u in read.unavailable] == [
        "the DataPower REST management interface of gateway StatefulSet apic/gwv6 did not answer "
        "(gwv6-0: unauthorized (401): the credentials of --datapower-secret were refused)"]
    assert "not-it" not in repr(read)


@pytest.mark.parametrize("bundle", [None, "other"])
def test_tls_is_verified_by_default_and_against_the_given_ca_only(
        bundle: str | None, cert: trustme.LeafCert, other_ca_bundle: str) -> None:
    with datapower_pods([route([])], cert) as servers:
        read = run_probes(PODS[:1], options(servers[0].port, ca_bundle=bundle and other_ca_bundle),
                          admin_secret())
    [unavailable] = read.unavailable
    assert unavailable.reason.startswith(
        "the DataPower REST management interface of gateway StatefulSet apic/gwv6 did not answer "
        "(gwv6-0: TLS verification failed (")
    assert "give the CA that signed the server's certificate with --ca-bundle; DataPower's REST management " \
        "interface usually presents a self-signed certificate" in unavailable.reason
    assert servers[0].seen == []  # the handshake failed: no request (and no credentials) was sent


def test_a_certificate_that_does_not_name_the_pod_ip_is_refused(ca: trustme.CA, ca_bundle: str) -> None:
    only_first = ca.issue_cert("127.0.0.1")
    with datapower_pods([route([]), route([])], only_first) as servers:
        read = run_probes(PODS[:2], options(servers[0].port, ca_bundle=ca_bundle), admin_secret())
    peers = read.resources[0].body["peers"]
    assert peers[0] == {"pod": "gwv6-0", "entries": []}
    assert peers[1]["error"].startswith("TLS verification failed (")
    assert peers[1]["error"].endswith("): the server's certificate does not name 127.0.0.2")


def test_a_certificate_for_a_service_name_is_verified_with_the_tls_server_name(
        ca: trustme.CA, ca_bundle: str, other_ca_bundle: str) -> None:
    """The REST management certificate names gw.example, not the pod IPs: by
    IP it fails with the name-mismatch reason; with
    --datapower-tls-server-name gw.example the chain and that name are
    verified while the pod IP is dialled. Verification stays on: a wrong name
    or an untrusted CA still fails."""
    service_cert = ca.issue_cert("gw.example")
    entries = peering_entries(IPS[:2], primary=IPS[0])
    with datapower_pods([route(entries)] * 2, service_cert) as servers:
        port = servers[0].port
        by_ip = run_probes(PODS[:2], options(port, ca_bundle=ca_bundle), admin_secret())
        named = run_probes(PODS[:2], options(port, ca_bundle=ca_bundle,
                                             datapower_tls_server_name="gw.example"),
                           admin_secret())
        wrong = run_probes(PODS[:1], options(port, ca_bundle=ca_bundle,
                                             datapower_tls_server_name="other.example"),
                           admin_secret())
        untrusted = run_probes(PODS[:1], options(port, ca_bundle=other_ca_bundle,
                                                 datapower_tls_server_name="gw.example"),
                               admin_secret())
        seen = [server.paths() for server in servers]
    [refused] = by_ip.unavailable
    assert refused.reason.startswith("the DataPower REST management interface of gateway "
                                     "StatefulSet apic/gwv6 did not answer (gwv6-0: TLS "
                                     "verification failed (")
    assert "): the server's certificate does not name 127.0.0.1; gwv6-1: TLS" in refused.reason
    assert named.unavailable == []
    assert [peer["entries"] for peer in named.resources[0].body["peers"]] == [entries, entries]
    assert seen == [[PEERING_PATH], [PEERING_PATH]]  # only the named probe got through
    [mismatch] = wrong.unavailable
    assert mismatch.reason.endswith("): the server's certificate does not name other.example)")
    [unknown_ca] = untrusted.unavailable
    assert "give the CA that signed the server's certificate with --ca-bundle" in unknown_ca.reason
    for read in (by_ip, named, wrong, untrusted):
        assert_no_credential(read)


@pytest.mark.parametrize(("secrets", "option", "reason"), [
    (admin_secret(), None, "no credentials for the DataPower REST management interface: give the Secret "
     "holding them with --datapower-secret NAMESPACE/NAME (keys username and password)"),
    (admin_secret(), "gateway-admin-secret",
     "--datapower-secret 'gateway-admin-secret' is not NAMESPACE/NAME"),
    (None, SECRET_OPTION,
     "Secret apic/gateway-admin-secret cannot be read: no cluster connection to read it from"),
    (FakeSecrets({}), SECRET_OPTION, 'Secret apic/gateway-admin-secret with the DataPower credentials: '
     'secrets "gateway-admin-secret" not found (404)'),
    (FakeSecrets({SECRET: {"username": b"admin"}}), SECRET_OPTION,
     "Secret apic/gateway-admin-secret has no key 'password' (or it is empty)"),
    (FakeSecrets({SECRET: {"username": b"\xff", "password": b"x"}}), SECRET_OPTION,
     "Secret apic/gateway-admin-secret: the value of key 'username' is not UTF-8 text"),
])
def test_without_credentials_no_request_is_made(
        secrets: FakeSecrets | None, option: str | None, reason: str, cert: trustme.LeafCert) -> None:
    with datapower_pods([route([])], cert) as servers:
        read = run_probes([*PODS[:1], pod("gw-0", IPS[1], namespace="apic-2", owner="gw")],
                          options(servers[0].port, datapower_secret=option), secrets)
    assert read.resources == []
    assert read.unavailable == [Unavailable(PROBE_GROUP, KIND, "apic", reason),
                                Unavailable(PROBE_GROUP, KIND, "apic-2", reason)]
    assert read.requests == 0 and servers[0].seen == []
    assert_no_credential(read)


def test_no_running_datapower_pod_means_no_probe_at_all() -> None:
    secrets = admin_secret()
    cluster = [pod("gwv6-0", IPS[0], phase="Pending"), pod("web-0", IPS[1], datapower=False),
               pod("gwv6-1", IPS[1], phase="Succeeded")]
    read = run_probes(cluster, ProbeOptions(datapower_secret=SECRET_OPTION), secrets)
    assert (read.resources, read.unavailable, read.requests, read.notes) == ([], [], 0, [])
    assert secrets.reads == []


def test_a_running_pod_without_an_ip_is_an_error_peer_without_a_request(
        cert: trustme.LeafCert, ca_bundle: str) -> None:
    with datapower_pods([route([])], cert) as servers:
        read = run_probes([PODS[0], pod("gwv6-1", None)], options(servers[0].port, ca_bundle=ca_bundle),
                          admin_secret())
    assert read.resources[0].body["pods"][1] == {"name": "gwv6-1", "ip": None, "ordinal": 1}
    assert read.resources[0].body["peers"][1] == {"pod": "gwv6-1",
                                                  "error": "the pod has no IP address in its status"}
    assert read.requests == 1


def test_an_answer_without_peering_status_names_what_it_had(cert: trustme.LeafCert, ca_bundle: str) -> None:
    with datapower_pods([route(None)], cert) as servers:
        # {"GatewayPeeringStatus": null}
        read = run_probes(PODS[:1], options(servers[0].port, ca_bundle=ca_bundle), admin_secret())
    assert read.unavailable[0].reason.endswith(
        "(gwv6-0: the answer has no GatewayPeeringStatus (it has: GatewayPeeringStatus, _links))")
