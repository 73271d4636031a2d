"""Credential values found anywhere in the scan are scrubbed from results."""

from __future__ import annotations

import base64

from checks.engine.redact import REDACTED, Scrubber, looks_like_credential
from checks.model import Origin, Resource


def res(kind: str, body: dict, chart: str | None = None) -> Resource:  # type: ignore[type-arg]
    return Resource("v1", kind, "x", body, Origin("f.yaml", 1, 1), chart=chart)


def test_secret_data_decoded_and_string_data_are_scrubbed() -> None:
    secret = res("Secret", {"data": {"DB_PASSWORD": base64.b64encode(b"hunter22").decode()},
                            "stringData": {"URL": "mysql2://root:rootpw99@db/system"}})
    scrub = Scrubber.from_resources([secret])
    assert scrub.text("pw is hunter22 and url mysql2://root:rootpw99@db/system") == \
        f"pw is {REDACTED} and url {REDACTED}"


def test_credential_env_and_helm_values_are_scrubbed() -> None:
    deploy = res("Deployment", {"spec": {"template": {"spec": {"containers": [{"env": [
        {"name": "MYSQL_PASSWORD", "value": "lit-pass"}, {"name": "LOG_LEVEL", "value": "debug"}]}]}}}})
    values = res("HelmValues", {"dashboard_configuration": {"database": {
        "dsn": "postgres://api7ee:changeme@db:5432/api7ee"}}}, chart="api7ee3")
    scrub = Scrubber.from_resources([deploy, values])
    assert scrub.value({"a": ["lit-pass", "debug"], "b": "postgres://api7ee:changeme@db:5432/api7ee"}) \
        == {"a": [REDACTED, "debug"], "b": REDACTED}


def test_credential_names() -> None:
    assert all(map(looks_like_credential, ["MYSQL_PASSWORD", "api_token", "TLS_KEY", "dsn"]))
    assert not any(map(looks_like_credential, ["MYSQL_USER", "KEYCLOAK_URL_PATH", "role"]))


def test_trie_scrubbing_replaces_what_a_longest_first_alternation_replaces() -> None:
    """The scrubber's regex is a trie (linear in the text, not in the number of
    secrets); it must redact exactly what the plain alternation would."""
    import random
    import re

    rng = random.Random(7)
    alphabet = "ab$.*(x"  # few letters: many shared prefixes; regex metacharacters
    for _ in range(300):
        secrets = ["".join(rng.choice(alphabet) for _ in range(rng.randint(4, 9)))
                   for _ in range(rng.randint(1, 12))]
        secrets += [s + "".join(rng.choice(alphabet) for _ in range(3)) for s in secrets[:3]]
        text = "".join(rng.choice(alphabet + " ") for _ in range(60)) + secrets[0]
        flat = re.compile("|".join(re.escape(s) for s in sorted(set(secrets), key=len,
                                                                  reverse=True)))
        assert Scrubber(secrets).text(text) == flat.sub("<redacted>", text), (secrets, text)


def test_scrubbing_a_long_secret_and_many_nested_ones() -> None:
    long_secret = "k" * 5000
    nested = ["n" * length for length in range(4, 1200)]
    scrubber = Scrubber([long_secret, *nested])
    assert scrubber.text(f"a {long_secret} b") == "a <redacted> b"
    assert scrubber.text("x nnnnnnnnnn y") == "x <redacted> y"


def test_a_secret_key_reference_in_helm_values_is_not_a_secret() -> None:
    # env.pg_password.valueFrom.secretKeyRef.key names a key of a Secret: scrubbing
    # "password" would mangle every message that says "password".
    values = res("HelmValues", {"env": {"pg_password": {"valueFrom": {
        "secretKeyRef": {"name": "kong-pg", "key": "password"}}}}}, chart="kong")
    scrub = Scrubber.from_resources([values])
    assert scrub.text("env.pg_password is a literal") == "env.pg_password is a literal"


def test_the_password_of_a_credential_url_is_scrubbed_on_its_own() -> None:
    deploy = res("Deployment", {"spec": {"template": {"spec": {"containers": [{"env": [
        {"name": "DATABASE_URL", "value": "postgres://kong:pg-s3cret@db/kong"}]}]}}}})
    scrub = Scrubber.from_resources([deploy])
    assert scrub.text("password pg-s3cret rejected") == f"password {REDACTED} rejected"
