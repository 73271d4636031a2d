"""The API7 dashboard probe against a real HTTPS double of the dashboard API."""

from __future__ import annotations

import pytest
import trustme

from checks.model import Origin
from checks.sources.live.model import PROBE_GROUP, Unavailable
from checks.sources.live.probes import ProbeOptions, run_probes
from tests.probes.doubles import Answer, DoubleServer, Seen, api7_instance, api7_route

TOKEN = "a7ee-token-never-shown"
KIND = "API7DashboardStatus"
INSTANCES = [api7_instance(1), api7_instance(2), api7_instance(3, version="3.6.2", status="Lost Connection")]


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API7_TOKEN", TOKEN)


def test_version_and_every_page_of_instances(cert: trustme.LeafCert, ca_bundle: str) -> None:
    with DoubleServer(api7_route("3.7.3", INSTANCES, token=TOKEN), cert=cert) as dashboard:
        option = f"api7/{dashboard.url}"
        read = run_probes([], ProbeOptions(api7_dashboard_urls=(option,), ca_bundle=ca_bundle), None)
    assert read.unavailable == []
    assert dashboard.paths() == ["/api/version", "/api/instances?page=1&page_size=100",
                                 "/api/instances?page=2&page_size=100"]
    assert read.requests == 3
    assert all(seen.headers["X-API-KEY"] == TOKEN for seen in dashboard.seen)
    [status] = read.resources
    body = dict(status.body)
    assert body.pop("probedAt").endswith("Z")
    authority = f"127.0.0.1:{dashboard.port}"
    assert body == {"apiVersion": "probes.upgrade-lint.io/v1", "kind": KIND,
                    "metadata": {"name": authority, "namespace": "api7"}, "url": dashboard.url,
                    "version": "3.7.3", "gateways": INSTANCES}
    assert (status.name, status.namespace, status.origin) == (authority, "api7", Origin(dashboard.url, 0))
    assert TOKEN not in repr(read)


def test_an_instances_answer_that_is_a_bare_list_is_taken_whole(
        cert: trustme.LeafCert, ca_bundle: str) -> None:
    def route(seen: Seen) -> Answer:
        return Answer(200, {"value": "3.7.3"} if seen.route == "/api/version" else INSTANCES)
    with DoubleServer(route, cert=cert) as dashboard:
        read = run_probes([], ProbeOptions(api7_dashboard_urls=(dashboard.url,), ca_bundle=ca_bundle), None)
    assert read.resources[0].body["gateways"] == INSTANCES
    assert read.requests == 2


@pytest.mark.parametrize(("route", "reason"), [
    (api7_route("3.7.3", INSTANCES, token="another"),
     "GET /api/version unauthorized (401): the token in API7_TOKEN was refused"),
    (lambda seen: Answer(200, {"message": "ok"}),
     "GET /api/version answered JSON without a version value: is this the API7 dashboard?"),
    (lambda seen: Answer(200, raw=b"<html>API7 Dashboard</html>", content_type="text/html"),
     "GET /api/version: answered text/html, not JSON: is this the API7 dashboard?"),
    (lambda seen: Answer(200, {"value": "3.7.3"}) if seen.route == "/api/version" else Answer(403, {}),
     "GET /api/instances forbidden (403): the token in API7_TOKEN was not allowed to read it"),
])
def test_a_dashboard_that_cannot_answer(route: object, reason: str, cert: trustme.LeafCert,
                                        ca_bundle: str) -> None:
    with DoubleServer(route, cert=cert) as dashboard:  # type: ignore[arg-type]
        read = run_probes([], ProbeOptions(api7_dashboard_urls=(dashboard.url,), ca_bundle=ca_bundle), None)
    assert read.resources == []
    assert read.unavailable == [
        Unavailable(PROBE_GROUP, KIND, None, f"the API7 dashboard {dashboard.url}: {reason}")]
    assert TOKEN not in repr(read)
