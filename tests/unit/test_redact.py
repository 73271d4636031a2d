"""Credential values found anywhere in the scan are scrubbed from results."""

from __future__ import annotations

import base64
import random
import string
import tracemalloc
from pathlib import Path

from checks.engine.redact import (
    REDACTED,
    Credentials,
    Scrubber,
    _identity,
    _Indexed,
    _placed,
    credential_at,
    looks_like_credential,
    url_host,
    url_quote,
)
from checks.model import Origin, Outcome, Resource
from tests.support import REPO, scan


def res(kind: str, body: dict, chart: str | None = None) -> Resource:  # type: ignore[type-arg]
    return Resource("v1", kind, "x", body, Origin("f.yaml", 1, 1), chart=chart)


def test_secret_data_decoded_and_string_data_are_scrubbed() -> None:
    secret = res("Secret", {"data": {"DB_PASSWORD": base64.b64encode(b"hunter22").decode()},
                            "stringData": {"URL": "mysql2://root:rootpw99@db/system"}})
    scrub = Scrubber.from_resources([secret])
    assert scrub.text("pw is hunter22 and url mysql2://root:rootpw99@db/system") == \
        f"pw is {REDACTED} and url {REDACTED}"
    assert scrub.text("in hunter22x, x-hunter22 and db.hunter22.svc: not a whole token") == \
        "in hunter22x, x-hunter22 and db.hunter22.svc: not a whole token"


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


def _reference_scrub(secrets: list[str], text: str) -> str:
    """What the scrubber must do, in plain Python: at each position, the longest
    value that stands as a whole token there (not continuing a word, nor a
    word joined by ``-`` or ``.``) is replaced."""
    import re

    def continues(before: str) -> bool:  # does ``before`` end inside a token?
        return bool(re.search(r"\w$|\w[.-]$", before))

    def continued(after: str) -> bool:  # does ``after`` continue a token?
        return bool(re.match(r"\w|[.-]\w", after))

    values = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)
    out, i = [], 0
    while i < len(text):
        for v in values:
            if text.startswith(v, i) and not (
                    re.match(r"\w", v[0]) and continues(text[:i])) and not (
                    re.match(r"\w", v[-1]) and continued(text[i + len(v):])):
                out.append("<redacted>")
                i += len(v)
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _as_is(value: str) -> _Indexed:
    """``value`` indexed as it is, without its encodings."""
    identity = _identity(value)
    return _Indexed(identity, identity, *_placed(value, identity))


def test_token_lookup_replaces_what_a_longest_whole_token_match_replaces() -> None:
    """The scrubber looks tokens up in a hash (linear in the text, not in the
    number of secrets); it must redact exactly what the plain definition says,
    for short values and for long ones (kept as digests)."""
    rng = random.Random(7)
    alphabet = "ab$.*(x- "  # few letters: many shared prefixes; metacharacters; separators
    for round_ in range(600):
        longest = 9 if round_ % 2 else 90  # odd rounds: values past the digest length
        secrets = ["".join(rng.choice(alphabet) for _ in range(rng.randint(4, longest))).strip()
                   for _ in range(rng.randint(1, 12))]
        secrets += [s + "".join(rng.choice(alphabet) for _ in range(3)) for s in secrets[:3]]
        text = "".join(rng.choice(alphabet) for _ in range(60)) + secrets[0] + secrets[-1]
        scrubber = Scrubber([])
        scrubber._index(_as_is(s) for s in secrets if len(s) >= 4)
        assert scrubber._scrubbed(text) == _reference_scrub(secrets, text), (secrets, text)


def test_url_encoding_is_urllibs() -> None:
    """The scrubber's fast URL encoding gives what ``urllib.parse`` gives."""
    import urllib.parse

    rng = random.Random(3)
    alphabet = string.printable + "é€\u2028😀"
    for _ in range(500):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert url_quote(value) == urllib.parse.quote(value, safe="")
        assert url_quote(value, plus=True) == urllib.parse.quote_plus(value)


def test_scrubber_cost_does_not_grow_with_the_number_of_secrets() -> None:
    """2,000 credential values (a cluster export's Secrets): building the
    scrubber stays a small multiple of the values' own size in memory (one
    regex of every value took 270 times), and scrubbing a text costs about
    the same with 2,000 values as with 200."""
    import time

    rng = random.Random(5)
    secrets = ["".join(rng.choice(string.ascii_letters + string.digits + "+/=-_.")
                       for _ in range(rng.randint(8, 250))) for _ in range(2000)]
    size = sum(len(s) for s in secrets)
    tracemalloc.start()
    try:
        many = Scrubber(secrets)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 * size, peak / size
    few = Scrubber(secrets[:200])
    # The same text and the same replacements for both: only the hash differs.
    words = [secrets[i % 4] if i % 50 == 0 else f"word{i}-x.y" for i in range(20_000)]
    text = " ".join(words)

    def seconds(scrubber: Scrubber) -> float:
        best = float("inf")
        for _ in range(5):
            start = time.process_time()
            scrubber._scrubbed(text)
            best = min(best, time.process_time() - start)
        return best

    assert many._scrubbed(text).count(REDACTED) == text.count(" ") // 50 + 1
    assert few._scrubbed(text) == many._scrubbed(text)
    assert seconds(many) < 2 * seconds(few) + 0.01


def test_common_word_values_do_not_mangle_names() -> None:
    """A Secret holding ``mysql`` or ``3scale``: names that contain the word survive,
    the value standing alone does not."""
    secret = res("Secret", {"stringData": {"DB_USER": "mysql", "NS": "3scale", "PW": "s3cr3t"}})
    scrub = Scrubber.from_resources([secret])
    assert scrub.text("DeploymentConfig system-mysql in system-mysql.prod.svc, image "
                      "quay.io/prod/mysql-57:1 uses user mysql, 'mysql', password=s3cr3t.") == (
        "DeploymentConfig system-mysql in system-mysql.prod.svc, image quay.io/prod/mysql-57:1 "
        "uses user <redacted>, '<redacted>', password=<redacted>.")
    assert scrub.text("password=s3cr3t;user=mysql2") == "password=<redacted>;user=mysql2"
    # 3scale is a product key: never secret, whatever a Secret holds.
    assert scrub.text("pass --backup 3scale=PATH") == "pass --backup 3scale=PATH"


def test_values_reports_show_anyway_are_not_scrubbed() -> None:
    """Object names, container names, keys and the catalog's words are printed by
    every report (object references, titles): a Secret value equal to one of them
    is left to field redaction."""
    secret = res("Secret", {"stringData": {"HOST": "system-redis", "PW": "zq-9hidden"}})
    deploy = Resource("apps/v1", "Deployment", "backend-listener", {"spec": {"template": {
        "spec": {"containers": [{"name": "listener", "env": [{"name": "DB_USER"}]}]}}}},
        Origin("f.yaml", 1, 1))
    service = Resource("v1", "Service", "system-redis", {}, Origin("f.yaml", 9, 1))
    scrub = Scrubber.from_resources([secret, deploy, service])
    assert scrub.text("Service 'system-redis' and 'zq-9hidden'") == \
        "Service 'system-redis' and '<redacted>'"


def test_encoded_forms_and_url_passwords_are_scrubbed() -> None:
    pw = "p@ss w0rd/x"
    scrub = Scrubber([pw])
    b64 = base64.b64encode(pw.encode()).decode()
    assert scrub.text(f"a {pw} b {b64} c p%40ss%20w0rd%2Fx d p%40ss+w0rd%2Fx") == \
        "a <redacted> b <redacted>= c <redacted> d <redacted>"  # the padding is not secret
    assert Scrubber([]).text("dsn postgres://api7ee:changeme@db:5432/x and http://h/x@y") == \
        "dsn postgres://<redacted>@db:5432/x and http://h/x@y"


def test_scrubbing_is_linear_in_the_text() -> None:
    """16x the text costs about 16x the time (quadratic would be 256x), with many
    secrets sharing prefixes and near misses at every token."""
    import gc
    import time

    secrets = [f"secret-{i:05d}-value" for i in range(3000)]
    scrub = Scrubber(secrets)
    unit = "the secret-00042-valuex and secret-01234-value in system-secret-00001-value; "

    def cost(n: int) -> float:
        text = unit * n
        gc.disable()  # a collection of the rest of the test session's objects is not ours
        try:
            started = time.perf_counter()
            scrub.text(text)
            return time.perf_counter() - started
        finally:
            gc.enable()

    cost(10)
    ratios = []
    for _ in range(3):  # a shared machine's noise: one clean attempt is enough
        small, large = min(cost(200) for _ in range(5)), min(cost(3200) for _ in range(5))
        ratios.append(large / small)
        if ratios[-1] < 16 * 6:
            break
    # Linear is 16x (measured 18x alone, up to 70x beside a busy test session);
    # quadratic would be 256x.
    assert min(ratios) < 16 * 6, ratios


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


def test_url_userinfo_is_masked_up_to_the_last_at_sign() -> None:
    """A password pasted as it is may hold ``@``, ``/`` and ``:``: none of it
    shows as the host (it did: ``http://<redacted>@ss``)."""
    scrub = Scrubber([])
    assert scrub.text("etcd http://root:PASSW0RD@etcd:2379, db postgres://kong:p@ss/w:rd@db/kong "
                      "and http://h/x@y") == (
        "etcd http://<redacted>@etcd:2379, db postgres://<redacted>@db/kong and http://h/x@y")
    assert url_host("https://adm:P@ss/w0rd@kong.example.com/x") == \
        "https://<redacted>@kong.example.com"


def test_literal_parts_of_templated_credentials_are_scrubbed() -> None:
    """A credential holding ``${...}`` or ``{{ ... }}``: its literal text and the
    defaults quoted in it are secret, its placeholder names are not."""
    values = res("HelmValues", {"env": {
        "pg_password": '{{ .Values.pw | default "TPLPW4242" }}',
        "admin_token": "${TOKEN_PREFIX}DOLLARPW77", "password": "${DB_PASSWORD}"}},
        chart="kong")
    scrub = Scrubber.from_resources([values])
    assert scrub.text("default 'TPLPW4242', tail DOLLARPW77, whole '${TOKEN_PREFIX}DOLLARPW77' "
                      "and ${DB_PASSWORD}") == (
        "default '<redacted>', tail <redacted>, whole '${TOKEN_PREFIX}<redacted>' "
        "and ${DB_PASSWORD}")


def test_long_values_are_replaced_as_whole_tokens_too() -> None:
    long = "k" + "x" * 400 + "9"
    scrub = Scrubber([long])
    assert scrub.text(f"'{long}' and {long}.") == "'<redacted>' and <redacted>."
    assert scrub.text(f"a-{long} and {long}z") == f"a-{long} and {long}z"
    assert scrub.value({"o": [long]}) == {"o": [REDACTED]}


def test_scrubber_memory_is_a_small_multiple_of_a_large_secret() -> None:
    """A 2 MB Secret value: the scrubber built from it and one scrubbed text
    stay under 20 times its size (the regex trie took 290 times); the value
    and its encodings are kept as digests, not copies."""
    rng = random.Random(1)
    secret = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(2_000_000))
    body = {"data": {"BIG": base64.b64encode(secret.encode()).decode()}}
    resource = res("Secret", body)
    tracemalloc.start()
    try:
        scrub = Scrubber.from_resources([resource])
        text = scrub.text(f"value {secret} and {secret[:300]}")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert text == f"value {REDACTED} and {secret[:300]}"
    assert peak < 20 * len(secret), peak / len(secret)


def test_the_credential_a_finding_field_holds_is_known_by_field() -> None:
    """Redaction by field: the value at a finding's path when that path is a
    Secret entry, a credential-named key or a credential env var's value."""
    secret = res("Secret", {"data": {"PW": base64.b64encode(b"kong").decode()},
                            "stringData": {"user": "admin-user"}})
    assert credential_at(secret, ("data", "PW")) == [base64.b64encode(b"kong").decode(), "kong"]
    assert credential_at(secret, ("stringData", "user")) == ["admin-user"]
    deploy = res("Deployment", {"spec": {"containers": [{"env": [
        {"name": "DB_PASSWORD", "value": "kong"}, {"name": "LOG_LEVEL", "value": "debug"}]}]}})
    env = ("spec", "containers", 0, "env")
    assert credential_at(deploy, (*env, 0, "value")) == ["kong"]
    assert credential_at(deploy, (*env, 1, "value")) == []
    assert credential_at(deploy, (*env, 5, "value")) == []
    values = res("HelmValues", {"env": {"pg_password": "kong", "database": "postgres"}},
                 chart="kong")
    assert credential_at(values, ("env", "pg_password")) == ["kong"]
    assert credential_at(values, ("env", "database")) == []


def test_a_field_credential_is_scrubbed_even_where_the_scan_would_keep_it() -> None:
    """The scan's scrubber keeps words the reports show anyway (``kong``); the
    finding's own credential field is scrubbed from its message all the same."""
    scan_scrubber = Scrubber(["kong"], ["kong"])
    assert scan_scrubber.text("password 'kong'") == "password 'kong'"
    field = Scrubber(["kong"], then=Scrubber(["hunter22"]))
    assert field.text("password 'kong', other hunter22, url http://u:p@h") == \
        "password '<redacted>', other <redacted>, url http://<redacted>@h"


def test_a_check_that_quotes_a_credential_field_never_shows_its_value(tmp_path: Path) -> None:
    """Redaction by field in the engine: a rule quoting a credential-named field
    (here a team's own ``field-equals`` rule on a token) gets the value
    redacted in its message and ``observed``, although the value (``role``, a
    key the reports show anyway) is one the scan's scrubber keeps."""
    rule = (REPO / "rules" / "apiconnect" / "apic-license-not-accepted.yaml").read_text()
    rule = rule.replace("id: apic-license-not-accepted", "id: apic-token-quoted")
    rule = rule.replace("field: spec.license.accept", "field: spec.gateway.admin_token")
    rules = tmp_path / "rules" / "apiconnect"
    rules.mkdir(parents=True)
    (rules / "apic-token-quoted.yaml").write_text(rule)
    manifest = tmp_path / "in" / "gw.yaml"
    manifest.parent.mkdir()
    manifest.write_text("apiVersion: gateway.apiconnect.ibm.com/v1beta1\nkind: GatewayCluster\n"
                        "metadata: {name: gw}\nspec:\n  role: x\n  gateway: {admin_token: role}\n")
    failed = [r for r in scan(manifest, rules_dir=tmp_path / "rules").results
              if r.rule_id == "apic-token-quoted" and r.outcome is Outcome.FAILED]
    assert [(r.line, r.message, r.observed) for r in failed] == [
        (6, "spec.gateway.admin_token is the string '<redacted>'; it must be the boolean true",
         REDACTED)]


def test_a_default_inside_a_url_password_and_a_query_password_never_show() -> None:
    """Found by a reviewer's attack: a credential's literal part (``postgres://u:``)
    was scrubbed first and broke the URL up, so its ``${X:-default}`` password
    stayed; and a host shown for a URL kept its ``?password=`` query."""
    from checks.engine.redact import url_host

    value = "postgres://u:${X:-hunterDEF1}@db"
    scrub = Scrubber([value])
    text = scrub.text(f"database '{value}' is a postgres database")
    assert "hunterDEF1" not in text and "<redacted>" in text
    assert url_host("postgres://u:pw@db?password=PWQUERY6") == "postgres://<redacted>@db"
    assert url_host("https://u:pw@host:8443/path#frag") == "https://<redacted>@host:8443"


def test_merged_credentials_scrub_as_one_scrubber_of_every_value() -> None:
    """``--jobs`` workers index their own credential values, each knowing only
    its own public words; the merged scrubber must replace exactly what one
    scrubber of every value and every public word replaces: a value that is a
    public word of another share (short or digested) is left alone."""
    long_word = "x" * 70 + "-release-name"  # over 64 characters: kept as a digest
    one = Credentials(["hunter22-one", "kong-proxy", long_word, "shared-secret"], ["zzzz"])
    two = Credentials(["s3cr3t-two", "shared-secret"], ["kong-proxy", long_word])
    public = ["zzzz", "kong-proxy", long_word]
    merged = Scrubber.merged([one, two], public)
    alone = Scrubber(["hunter22-one", "kong-proxy", long_word, "shared-secret", "s3cr3t-two"],
                     public)
    text = (f"hunter22-one and s3cr3t-two, {base64.b64encode(b'shared-secret').decode()}, "
            f"service kong-proxy, release {long_word}")
    assert merged.text(text) == alone.text(text)
    assert merged.text(text).count(REDACTED) == 3
    assert "kong-proxy" in merged.text(text) and long_word in merged.text(text)
