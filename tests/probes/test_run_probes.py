"""``run_probes`` as the engine calls it: every probe in one read, only those
whose inputs exist, requests counted, no credential anywhere in the read."""

from __future__ import annotations

import base64

import pytest
import trustme

from checks.sources.live.probes import ProbeOptions, run_probes
from tests.probes.doubles import (
    DoubleServer,
    api7_instance,
    api7_route,
    data_plane,
    datapower_pods,
    datapower_route,
    kong_root,
    kong_route,
    peering_entries,
)
from tests.probes.support import PASSWORD, SECRET, USERNAME, admin_secret, pod

KONG_TOKEN = "kong-token-for-the-whole-read"
API7_TOKEN = "api7-token-for-the-whole-read"


def test_all_probes_in_one_read(cert: trustme.LeafCert, ca_bundle: str,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KONG_ADMIN_TOKEN", KONG_TOKEN)
    monkeypatch.setenv("API7_TOKEN", API7_TOKEN)
    ips = ["127.0.0.1", "127.0.0.2"]
    entries = peering_entries(ips, primary=ips[0])
    pods = [pod("gwv6-0", ips[0]), pod("gwv6-1", ips[1]), pod("kong-cp-0", "127.0.0.3", datapower=False)]
    gateway = datapower_route(entries, username=USERNAME, password=PASSWORD)
    with datapower_pods([gateway, gateway], cert) as gateways, \
            DoubleServer(kong_route(kong_root(), [data_plane(1)], token=KONG_TOKEN), cert=cert) as kong, \
            DoubleServer(api7_route("3.7.3", [api7_instance(1)], token=API7_TOKEN), cert=cert) as api7:
        options = ProbeOptions(datapower_secret="/".join(SECRET), datapower_port=gateways[0].port,
                               kong_admin_urls=(f"kong={kong.url}",),
                               api7_dashboard_urls=(f"api7={api7.url}",),
                               ca_bundle=ca_bundle, timeout=5.0)
        read = run_probes(pods, options, admin_secret())

    assert [(r.kind, r.namespace) for r in read.resources] == [
        ("DataPowerPeeringStatus", "apic"), ("KongClusterStatus", "kong"), ("API7DashboardStatus", "api7")]
    assert read.unavailable == [] and read.notes == []
    assert read.requests == 2 + 2 + 2  # one per gateway pod; Kong / and one page; API7 version and one page
    assert all(seen.method == "GET" for server in (*gateways, kong, api7) for seen in server.seen)
    shown = repr(read)
    basic = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    assert not [secret for secret in (PASSWORD, basic, KONG_TOKEN, API7_TOKEN) if secret in shown]


def test_without_inputs_nothing_runs() -> None:
    read = run_probes([pod("web-0", "127.0.0.1", datapower=False)], ProbeOptions(), None)
    assert (read.resources, read.unavailable, read.requests, read.notes) == ([], [], 0, [])
