"""The probes' bounded HTTPS client: limits, redirects, and what it shows."""

from __future__ import annotations

import json

import pytest
import trustme

from checks.sources.live.probes import split_namespace
from checks.sources.live.probes.http import Failure, HttpClient, Reply, Target, parse_target, shown_url
from tests.probes.doubles import Answer, DoubleServer, Seen


def target(server: DoubleServer, path: str = "/") -> Target:
    parsed = parse_target(server.url + path)
    assert isinstance(parsed, Target)
    return parsed


@pytest.mark.parametrize("chunked", [False, True])
def test_an_answer_over_the_size_limit_is_not_read(
        chunked: bool, cert: trustme.LeafCert, ca_bundle: str) -> None:
    big = {"data": ["x" * 1000] * 100}
    with DoubleServer(lambda seen: Answer(200, big, chunked=chunked), cert=cert) as server:
        client = HttpClient(ca_bundle=ca_bundle, timeout=2, max_bytes=50_000)
        answer = client.get_json(target(server), headers={}, what="it")
        small = HttpClient(ca_bundle=ca_bundle, timeout=2, max_bytes=200_000)
        assert small.get_json(target(server), headers={}, what="it") == Reply(200, big)
    # With a Content-Length the answer is refused before it is read; without, when the limit is passed.
    assert answer == Failure(
        f"answer of {len(json.dumps(big))} bytes is larger than the 50000 bytes limit" if not chunked
        else "answer larger than the 50000 bytes limit: not read")
    assert client.requests == 1


def test_a_server_that_drips_its_answer_is_cut_off(cert: trustme.LeafCert, ca_bundle: str) -> None:
    big = {"data": ["x" * 1000] * 100}  # 25 chunks, one every 0.15 s: no single read waits 0.6 s
    with DoubleServer(lambda seen: Answer(200, big, chunked=True, drip=0.15), cert=cert) as server:
        client = HttpClient(ca_bundle=ca_bundle, timeout=0.6)
        answer = client.get_json(target(server), headers={}, what="it")
    assert answer == Failure("answer not complete after 1.8 s")


def test_same_host_redirects_are_followed_other_hosts_never(cert: trustme.LeafCert, ca_bundle: str) -> None:
    with DoubleServer(lambda seen: Answer(200, {"stolen": True}), cert=cert, host="127.0.0.2") as other:
        def route(seen: Seen) -> Answer:
            if seen.route == "/old":
                return Answer(301, {}, headers={"Location": "/new"})
            if seen.route == "/new":
                return Answer(200, {"here": True})
            return Answer(302, {}, headers={"Location": other.url + "/steal"})
        with DoubleServer(route, cert=cert) as server:
            client = HttpClient(ca_bundle=ca_bundle, timeout=2)
            moved = client.get_json(target(server, "/old"), headers={"Kong-Admin-Token": "t"}, what="it")
            away = client.get_json(target(server, "/away"), headers={"Kong-Admin-Token": "t"}, what="it")
    assert moved == Reply(200, {"here": True})
    assert server.paths() == ["/old", "/new", "/away"]
    assert server.seen[1].headers["Kong-Admin-Token"] == "t"
    assert away == Failure(f"redirected to another host ({other.url}): not followed")
    assert other.seen == []
    assert client.requests == 3


def test_a_credential_with_a_line_break_is_refused_without_quoting_it(
        cert: trustme.LeafCert, ca_bundle: str) -> None:
    with DoubleServer(lambda seen: Answer(200, {}), cert=cert) as server:
        client = HttpClient(ca_bundle=ca_bundle, timeout=2)
        answer = client.get_json(target(server), headers={"X-API-KEY": "tok-secret\r\nX-Evil: 1"}, what="it")
    assert answer == Failure("a credential holds characters an HTTP header cannot carry "
                             "(a line break, or text that is not Latin-1)")
    assert server.seen == []


def test_invalid_json_and_error_pages(cert: trustme.LeafCert, ca_bundle: str) -> None:
    def route(seen: Seen) -> Answer:
        if seen.route == "/broken":
            return Answer(200, raw=b'{"value": ')
        if seen.route == "/plain":
            return Answer(200, raw=b"OK", content_type="text/plain")
        return Answer(500, raw=b"<html>Internal Server Error</html>", content_type="text/html")
    with DoubleServer(route, cert=cert) as server:
        client = HttpClient(ca_bundle=ca_bundle, timeout=2)
        answers = [client.get_json(target(server, path), headers={}, what="the Admin API")
                   for path in ("/broken", "/plain", "/error")]
    assert answers == [Failure("answered something that is not JSON: is this the Admin API?"),
                       Failure("answered text/plain, not JSON: is this the Admin API?"),
                       Reply(500, None)]


def test_https_to_a_plain_http_port(ca_bundle: str) -> None:
    with DoubleServer(lambda seen: Answer(200, {}), cert=None) as server:
        client = HttpClient(ca_bundle=ca_bundle, timeout=2)
        answer = client.get_json(Target("https", "127.0.0.1", server.port, "/"), headers={}, what="it")
    assert isinstance(answer, Failure) and answer.reason.startswith("TLS handshake failed (")
    assert answer.reason.endswith("): does the port serve HTTPS?")


def test_an_unreadable_ca_bundle_fails_every_request_without_sending_it() -> None:
    client = HttpClient(ca_bundle="/nonexistent/ca.pem", timeout=2)
    answer = client.get_json(Target("https", "127.0.0.1", 1, "/"), headers={}, what="it")
    assert isinstance(answer, Failure)
    assert answer.reason.startswith("cannot use the CA bundle /nonexistent/ca.pem: ")
    assert client.requests == 0


@pytest.mark.parametrize(("text", "shown"), [
    ("https://user:pw@cp.example:8444/admin?token=x#f", "https://cp.example:8444/admin"),
    ("user:p@ss@cp.example/x", "cp.example/x"),
    ("https://cp.example", "https://cp.example"),
])
def test_shown_url_drops_userinfo_and_query(text: str, shown: str) -> None:
    assert shown_url(text) == shown


def test_parse_target() -> None:
    assert parse_target("https://u:p@[fd00::1]:8444/admin/?q=1") == Target(
        "https", "fd00::1", 8444, "/admin/?q=1", ("u", "p"))
    parsed = parse_target("http://kong-admin.kong.svc")
    assert isinstance(parsed, Target)
    assert (parsed.authority, parsed.shown, parsed.at("/status").path) == (
        "kong-admin.kong.svc:80", "http://kong-admin.kong.svc:80", "/status")
    ipv6 = parse_target("https://[fd00::1]:8444/admin/")
    assert isinstance(ipv6, Target)
    assert (ipv6.authority, ipv6.shown, ipv6.at("/").path) == ("[fd00::1]:8444", "https://[fd00::1]:8444/admin",
                                                               "/admin/")


@pytest.mark.parametrize(("option", "split"), [
    ("https://cp:8444", (None, "https://cp:8444")),
    ("kong=https://cp:8444/?a=b", ("kong", "https://cp:8444/?a=b")),
    ("kong/https://cp:8444/x/y", ("kong", "https://cp:8444/x/y")),
    ("cp:8444/x=y", (None, "cp:8444/x=y")),
])
def test_split_namespace(option: str, split: tuple[str | None, str]) -> None:
    assert split_namespace(option) == split
