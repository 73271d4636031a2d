"""The Kong control-plane probe against a real HTTPS double of the Admin API."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import trustme

from checks.model import Origin
from checks.sources.live.model import PROBE_GROUP, Unavailable, is_api_path, is_live_path
from checks.sources.live.probes import ProbeOptions, run_probes
from tests.probes.doubles import DoubleServer, data_plane, kong_root, kong_route

TOKEN = "kong-admin-token-never-shown"
KIND = "KongClusterStatus"
PLANES = [data_plane(n) for n in range(1, 6)] + [data_plane(6, version="3.4.3.12",
                                                            sync_status="kong_version_incompatible")]


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KONG_ADMIN_TOKEN", TOKEN)


def test_node_and_every_page_of_data_planes(cert: trustme.LeafCert, ca_bundle: str) -> None:
    before = datetime.now(timezone.utc).replace(microsecond=0)
    with DoubleServer(kong_route(kong_root(), PLANES, token=TOKEN, page_limit=2), cert=cert) as kong:
        read = run_probes([], ProbeOptions(kong_admin_urls=(f"kong=https://127.0.0.1:{kong.port}",),
                                           ca_bundle=ca_bundle), None)
    after = datetime.now(timezone.utc)

    assert read.unavailable == []
    assert read.requests == 4  # GET / and three pages of two
    assert kong.paths() == ["/", "/clustering/data-planes?size=1000",
                            "/clustering/data-planes?offset=2&size=2",
                            "/clustering/data-planes?offset=4&size=2"]
    assert all(seen.headers["Kong-Admin-Token"] == TOKEN for seen in kong.seen)
    [status] = read.resources
    body = dict(status.body)
    probed_at = datetime.strptime(body.pop("probedAt"), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert before <= probed_at <= after
    authority = f"127.0.0.1:{kong.port}"
    assert body == {
        "apiVersion": "probes.upgrade-lint.io/v1",
        "kind": KIND,
        "metadata": {"name": authority, "namespace": "kong"},
        "url": f"https://{authority}",
        "node": {"version": "3.9.0.1", "edition": "enterprise", "role": "control_plane",
                 "database": "postgres"},
        "dataPlanes": PLANES,
    }
    assert (status.kind, status.name, status.namespace) == (KIND, authority, "kong")
    assert status.origin == Origin(path=f"https://{authority}", line=0)
    assert is_api_path(status.origin.path) and not is_live_path(status.origin.path)
    assert TOKEN not in repr(read)


def test_a_node_that_is_not_a_control_plane(cert: trustme.LeafCert, ca_bundle: str) -> None:
    root = kong_root(role="traditional")
    with DoubleServer(kong_route(root, PLANES, token=TOKEN), cert=cert) as kong:
        read = run_probes([], ProbeOptions(kong_admin_urls=(kong.url,), ca_bundle=ca_bundle), None)
    assert read.resources == []
    assert read.unavailable == [Unavailable(PROBE_GROUP, KIND, None, f"the Kong Admin API {kong.url}: "
                                            "this Admin API is not a control plane (role traditional)")]
    assert read.requests == 2


@pytest.mark.parametrize(("token", "refused"), [
    (None, "no token was sent (KONG_ADMIN_TOKEN is not set), so the request was refused"),
    ("wrong-token-never-shown", "the token in KONG_ADMIN_TOKEN was refused"),
])
def test_unauthorized(token: str | None, refused: str, cert: trustme.LeafCert, ca_bundle: str,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    if token is None:
        monkeypatch.delenv("KONG_ADMIN_TOKEN")
    else:
        monkeypatch.setenv("KONG_ADMIN_TOKEN", token)
    with DoubleServer(kong_route(kong_root(), PLANES, token=TOKEN), cert=cert) as kong:
        read = run_probes([], ProbeOptions(kong_admin_urls=(kong.url,), ca_bundle=ca_bundle), None)
    assert [u.reason for u in read.unavailable] == [
        f"the Kong Admin API {kong.url}: GET / unauthorized (401): {refused}"]
    assert read.requests == 1
    assert "never-shown" not in repr(read)


def test_userinfo_is_used_as_basic_auth_and_never_shown(cert: trustme.LeafCert, ca_bundle: str) -> None:
    with DoubleServer(kong_route(kong_root(), PLANES[:1], token=TOKEN), cert=cert) as kong:
        url = f"https://ops:userinfo-secret@127.0.0.1:{kong.port}/?apikey=query-secret"
        read = run_probes([], ProbeOptions(kong_admin_urls=(url,), ca_bundle=ca_bundle), None)
    assert read.resources[0].body["url"] == kong.url
    assert kong.seen[0].headers["Authorization"].startswith("Basic ")
    assert "secret" not in repr(read)


def test_an_html_page_is_not_the_admin_api(cert: trustme.LeafCert, ca_bundle: str) -> None:
    from tests.probes.doubles import Answer
    manager = DoubleServer(lambda seen: Answer(200, raw=b"<!doctype html><title>Kong Manager</title>",
                                               content_type="text/html"), cert=cert)
    with manager:
        read = run_probes([], ProbeOptions(kong_admin_urls=(manager.url,), ca_bundle=ca_bundle), None)
    assert [u.reason for u in read.unavailable] == [
        f"the Kong Admin API {manager.url}: answered text/html, not JSON: is this the Kong Admin API?"]


def test_tls_is_verified_by_default(cert: trustme.LeafCert) -> None:
    with DoubleServer(kong_route(kong_root(), PLANES, token=TOKEN), cert=cert) as kong:
        read = run_probes([], ProbeOptions(kong_admin_urls=(kong.url,)), None)
    assert read.unavailable[0].reason.startswith(f"the Kong Admin API {kong.url}: TLS verification failed (")
    assert kong.seen == []


def test_plain_http_with_a_token_is_noted(ca_bundle: str) -> None:
    with DoubleServer(kong_route(kong_root(), PLANES[:1], token=TOKEN), cert=None) as kong:
        read = run_probes([], ProbeOptions(kong_admin_urls=(kong.url,)), None)
    assert read.notes == [f"Kong Admin API {kong.url} is plain HTTP: KONG_ADMIN_TOKEN was sent unencrypted"]
    assert len(read.resources) == 1


def test_a_next_page_on_another_host_is_not_followed(cert: trustme.LeafCert, ca_bundle: str) -> None:
    from tests.probes.doubles import Answer, Seen

    def route(seen: Seen) -> Answer:
        if seen.route == "/":
            return Answer(200, kong_root())
        return Answer(200, {"data": PLANES[:1], "next": "https://127.0.0.2:8444/clustering/data-planes?offset=1"})
    with DoubleServer(route, cert=cert) as kong:
        read = run_probes([], ProbeOptions(kong_admin_urls=(kong.url,), ca_bundle=ca_bundle), None)
    assert [u.reason for u in read.unavailable] == [
        f"the Kong Admin API {kong.url}: GET /clustering/data-planes: its next page is not on the same "
        "Admin API: not followed"]
    assert read.requests == 2


def test_an_unreachable_admin_api(ca_bundle: str) -> None:
    with DoubleServer(kong_route(kong_root(), [], token=None), cert=None) as closed:
        url = f"https://127.0.0.1:{closed.port}"
    read = run_probes([], ProbeOptions(kong_admin_urls=(url,), ca_bundle=ca_bundle), None)
    assert [u.reason for u in read.unavailable] == [
        f"the Kong Admin API {url}: connection refused by 127.0.0.1:{closed.port}"]


@pytest.mark.parametrize(("option", "namespace", "reason"), [
    ("kong-cp:8001", None, "not an http(s) URL with a host: kong-cp:8001"),
    ("kong/ftp://user:pw@kong-cp", "kong", "not an http(s) URL with a host: ftp://kong-cp"),
    ("https://kong-cp:99999", None, "not a valid URL: https://kong-cp:99999"),
])
def test_a_bad_url_option(option: str, namespace: str | None, reason: str) -> None:
    read = run_probes([], ProbeOptions(kong_admin_urls=(option,)), None)
    assert read.unavailable == [Unavailable(PROBE_GROUP, KIND, namespace, reason)]
    assert read.requests == 0
