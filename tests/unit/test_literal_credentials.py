"""Which literal values are credentials, and how they may be shown."""

from __future__ import annotations

import pytest

from checks.products.literal_credentials import Literal, classify, shown


@pytest.mark.parametrize(("value", "kind"), [
    ("kong-pg-s3cret", Literal.SECRET),
    ("-----BEGIN PRIVATE KEY-----\nMIIE", Literal.SECRET),
    ("/etc/secrets/kong-cluster-cert/tls.key", Literal.NOT_SECRET),
    ("file:///etc/secrets/tls.key", Literal.NOT_SECRET),
    ("./certs/tls.key", Literal.NOT_SECRET),
    ("https://idp.example.com/oauth2/token", Literal.NOT_SECRET),
    ("https://client@idp.example.com/token", Literal.NOT_SECRET),  # a user, no password
    ("postgres://kong:pw@db/kong", Literal.URL_WITH_PASSWORD),
    ("redis://:pw@redis:6379/0", Literal.URL_WITH_PASSWORD),
    ("postgres://kong:pw@[bad/kong", Literal.URL_WITH_PASSWORD),  # unparsable host
    ("{{ .Values.password }}", Literal.NOT_SECRET),
    ("${ADMIN_TOKEN}", Literal.NOT_SECRET),
    ("$(PG_PASSWORD)", Literal.NOT_SECRET),
    ("{vault://env/kong-pg-password}", Literal.NOT_SECRET),
    ("", Literal.NOT_SECRET),
    ("   ", Literal.NOT_SECRET),
    (None, Literal.NOT_SECRET),
    ({"valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}, Literal.NOT_SECRET),
])
def test_classify(value: object, kind: Literal) -> None:
    assert classify(value) is kind


def test_a_url_is_shown_without_its_userinfo_path_or_query() -> None:
    url = "postgres://kong:pw-s3cret@db.kong.svc:5432/kong?password=pw-s3cret"
    assert shown(url, Literal.URL_WITH_PASSWORD) == "postgres://<redacted>@db.kong.svc:5432"
    assert shown("pw-s3cret", Literal.SECRET) == "<redacted>"
