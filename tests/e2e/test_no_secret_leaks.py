"""No credential value reaches any output: terminal, JSON, JUnit, HTML, stderr."""

from __future__ import annotations

import base64
import html
import json
import random
import string
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from tests.support import FIXTURES, write

#: Values planted in fixtures and below, as literals and inside Secrets.
SECRETS = ["s3cr3t-mysql-pw", "r00tpassw0rd", "n0t-in-any-report", "kong-pg-s3cret",
           "plain-string-data-pw", "base64-only-pw"]


@pytest.mark.parametrize("jobs", ["1", "2"])  # 2: workers scrub and pre-encode JSON
def test_no_secret_value_in_any_report(tmp_path: Path, jobs: str) -> None:
    write(tmp_path / "in" / "secret.yaml", f"""\
apiVersion: v1
kind: Secret
metadata: {{name: system-database}}
stringData:
  DB_PASSWORD: plain-string-data-pw
data:
  OTHER: {base64.b64encode(b"base64-only-pw").decode()}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: leaky}}
spec:
  template:
    spec:
      containers:
      - name: app
        image: "app:${{base64-only-pw}}"
        env:
        - {{name: API_TOKEN, value: base64-only-pw}}
        - {{name: DB_PASSWORD, value: plain-string-data-pw}}
""")
    # A rule that quotes a value: the mismatch message names the database, here
    # equal to a Secret's password, so only the scrubber stands between them.
    write(tmp_path / "in" / "kong-values.yaml",
          "image: {repository: kong, tag: '3.5'}\nenv: {role: data_plane, "
          "database: plain-string-data-pw}\n")
    inputs = [FIXTURES / "3scale", FIXTURES / "kubernetes" / "plaintext-credential-env",
              tmp_path / "in"]
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "checks.cli", "scan", *map(str, inputs), "--fail-on", "info",
         "--json", str(out / "r.json"), "--junit", str(out / "r.xml"),
         "--html", str(out / "r.html"), "--jobs", jobs], capture_output=True, text=True,
        timeout=120)
    assert proc.returncode == 1
    texts = {"stdout": proc.stdout, "stderr": proc.stderr,
             **{p.name: p.read_text() for p in out.iterdir()}}
    # The finding is there, with the value redacted:
    assert ("role 'data_plane' needs database 'off' but database is '<redacted>'"
            in texts["stdout"])
    leaks = [(name, secret) for name, text in texts.items() for secret in SECRETS
             if secret in text]
    assert leaks == []


def _random_secrets(seed: int, count: int) -> list[str]:
    """Credential-like values with the characters that need encoding in URLs
    and base64 (``@``, ``/``, ``+``, ``%``, space) and a letter to start and end."""
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + "@/+%:!-_."
    return [rng.choice(string.ascii_letters)
            + "".join(rng.choice(alphabet) for _ in range(rng.randint(6, 18)))
            + rng.choice(string.digits) for _ in range(count)]


def _forms(secret: str) -> dict[str, str]:
    raw = secret.encode()
    return {"plain": secret, "base64": base64.b64encode(raw).decode().rstrip("="),
            "url-encoded": urllib.parse.quote(secret, safe="")}


def _scan(tmp_path: Path, jobs: str, *inputs: Path, extra: tuple[str, ...] = ()
          ) -> dict[str, str]:
    """Every output of one scan: stdout, stderr, JSON, JUnit and HTML."""
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "checks.cli", "scan", *map(str, inputs), *extra, "--fail-on", "info",
         "--json", str(out / "r.json"), "--junit", str(out / "r.xml"),
         "--html", str(out / "r.html"), "--jobs", jobs], capture_output=True, text=True,
        timeout=120)
    assert proc.returncode == 1, proc.stderr
    return {"stdout": proc.stdout, "stderr": proc.stderr,
            **{p.name: p.read_text() for p in out.iterdir()}}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_planted_secrets_never_appear_plain_base64_or_url_encoded(tmp_path: Path,
                                                                   jobs: str) -> None:
    """Random Secret values, each also quoted by a check in its plain, base64
    and URL-encoded form (a Kong values file whose ``database`` holds it), in
    none of the five outputs."""
    secrets = _random_secrets(seed=11, count=4)
    data = "".join(f"  K{i}: {base64.b64encode(s.encode()).decode()}\n"
                   for i, s in enumerate(secrets))
    write(tmp_path / "in" / "secret.yaml",
          f"apiVersion: v1\nkind: Secret\nmetadata: {{name: planted}}\ndata:\n{data}")
    for i, secret in enumerate(secrets):
        for form, text in _forms(secret).items():
            write(tmp_path / "in" / f"kong-{i}-{form}.yaml",
                  "image: {repository: kong, tag: '3.5'}\n"
                  f"env: {{role: data_plane, database: '{text}'}}\n")
    texts = _scan(tmp_path, jobs, tmp_path / "in")
    assert texts["stdout"].count("but database is '<redacted>'") == 3 * len(secrets)
    leaks = [(name, form, secret) for name, text in texts.items() for secret in secrets
             for form, value in _forms(secret).items() if value in text]
    assert leaks == []


def test_common_word_secret_values_do_not_mangle_names(tmp_path: Path) -> None:
    """A Secret whose values are ``mysql``, ``3scale`` and ``kong``: names such as
    ``system-mysql``, the product keys and catalog text survive in every output,
    while a value quoted on its own is still redacted."""
    write(tmp_path / "in" / "secret.yaml", """\
apiVersion: v1
kind: Secret
metadata: {name: common-words}
stringData: {DB_USER: mysql, NS: 3scale, ROLE: kong, PW: kong-pg-s3cret}
""")
    write(tmp_path / "in" / "kong-values.yaml",
          "image: {repository: kong, tag: '3.5'}\nenv: {role: data_plane, "
          "database: kong-pg-s3cret}\n")
    # A control plane being upgraded from 3.4: its backup rule names --backup kong=PATH.
    write(tmp_path / "in" / "kong-cp-values.yaml",
          "image: {repository: kong, tag: '3.5'}\nenv: {role: control_plane, "
          "database: postgres}\n")
    texts = _scan(tmp_path, "1", FIXTURES / "3scale" / "3scale-mysql-plaintext-credentials",
                  tmp_path / "in", extra=("--from", "kong=3.4.0"))
    for name in ("r.json", "r.xml", "r.html", "stdout"):
        text = html.unescape(texts[name])
        assert "container 'system-mysql'" in text, name
        assert "--backup kong=PATH" in text, name
        assert "-<redacted>" not in text and "<redacted>-" not in text, name
        assert "kong-pg-s3cret" not in text, name
    assert "but database is '<redacted>'" in texts["stdout"]


#: One distinctive canary per place a credential can live (issue 9).
CANARIES = {
    "secret-data": "cnry-data-7Hq2",
    "secret-string-data": "cnry-strdata-9Kp",
    "env-value": "cnry-env-4Ty8",
    "env-url-userinfo": "cnry-dsn-6Wq3",
    "helm-value": "cnry-helm-3Wz1",
    "etcd-userinfo": "cnry-etcd-5Rb6",
    "kong-database-userinfo": "cnry-pg-2Lm4",
    "userinfo-with-at-and-slash": "cnry@at/sl-8Pz",
    "annotation": "cnry-annot-8Vc3",
    "template-parameter": "cnry-tmpl-6Np5",
    "dockerconfigjson": "cnry-docker-1Qs9",
    "finding-value": "cnry-finding-0Dx7",
    "template-default": "cnry-default-3Jf5",
    "dollar-credential": "cnry-dollar-4Gh6",
    "long-secret": "cnry-long-" + "Lq7" * 100 + "9",
}


def _plant_canaries(root: Path) -> None:
    """The canaries in place. ``finding-value`` is a Secret's value that a Kong
    values file also holds as its ``database`` (quoted by a finding)."""
    c = CANARIES
    docker = json.dumps({"auths": {"registry.example.com": {
        "auth": base64.b64encode(f"robot:{c['dockerconfigjson']}".encode()).decode(),
        "password": c["dockerconfigjson"]}}})
    applied = json.dumps({"kind": "Secret", "stringData": {"PW": c["annotation"]}})
    write(root / "secrets.yaml", f"""\
apiVersion: v1
kind: Secret
metadata:
  name: app-credentials
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{applied}'
data:
  DB_PASSWORD: {base64.b64encode(c["secret-data"].encode()).decode()}
  LONG: {base64.b64encode(c["long-secret"].encode()).decode()}
stringData:
  API_KEY: {c["secret-string-data"]}
  KONG_PG_PASSWORD: {c["finding-value"]}
---
apiVersion: v1
kind: Secret
type: kubernetes.io/dockerconfigjson
metadata: {{name: pull}}
data:
  .dockerconfigjson: {base64.b64encode(docker.encode()).decode()}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  annotations: {{db-password: {c["annotation"]}}}
spec:
  template:
    spec:
      containers:
      - name: app
        image: "registry.example.com/app:1.0"
        env:
        - {{name: API_TOKEN, value: {c["env-value"]}}}
        - {{name: DSN, value: "postgres://app:{c["env-url-userinfo"]}@db:5432/app"}}
        - {{name: DB_PASSWORD, value: "${{PREFIX}}{c["dollar-credential"]}"}}
""")
    write(root / "template.yaml", f"""\
apiVersion: template.openshift.io/v1
kind: Template
metadata: {{name: app-template}}
parameters:
- {{name: APP_DB_PASSWORD, value: {c["template-parameter"]}}}
objects:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {{name: templated}}
  spec:
    template:
      spec:
        containers:
        - name: app
          image: "registry.example.com/app:1.0"
          env:
          - {{name: APP_DB_PASSWORD, value: "${{APP_DB_PASSWORD}}"}}
""")
    write(root / "kong-values.yaml", f"""\
image: {{repository: kong, tag: '3.5'}}
env:
  role: data_plane
  database: {c["finding-value"]}
  pg_password: '{{{{ .Values.pw | default "{c["template-default"]}" }}}}-x'
  admin_token: {c["helm-value"]}
""")
    write(root / "kong-url-values.yaml", f"""\
image: {{repository: kong, tag: '3.5'}}
env: {{role: data_plane, database: "postgres://kong:{c["kong-database-userinfo"]}@db/kong"}}
""")
    write(root / "kong-at-values.yaml", f"""\
image: {{repository: kong, tag: '3.5'}}
env: {{role: data_plane, database: "postgres://kong:{c["userinfo-with-at-and-slash"]}@db/kong"}}
""")
    write(root / "kong-long-values.yaml", f"""\
image: {{repository: kong, tag: '3.5'}}
env: {{role: data_plane, database: {c["long-secret"]}}}
""")
    write(root / "api7" / "values.yaml", f"""\
etcd:
  host: ["http://root:{c["etcd-userinfo"]}@etcd:2379"]
dashboard_configuration:
  database: {{dsn: "postgres://api7ee:{c["etcd-userinfo"]}@db:5432/api7ee"}}
""")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_canaries_in_every_place_a_credential_lives_never_reach_an_output(
        tmp_path: Path, jobs: str) -> None:
    """Each canary, plain, base64 or URL-encoded, in none of the terminal,
    standard error, JSON, JUnit or HTML; the findings that quote their
    fields are there, redacted."""
    _plant_canaries(tmp_path / "in")
    texts = _scan(tmp_path, jobs, tmp_path / "in",
                  extra=("--values", f"api7ee3={tmp_path / 'in' / 'api7' / 'values.yaml'}"))
    stdout = texts["stdout"]
    assert stdout.count("needs database 'off' but database is '<redacted>'") == 2
    assert "but database is 'postgres://<redacted>@db/kong'" in stdout
    assert ("env.pg_password holds an unrendered placeholder (<redacted>); render the template "
            "before scanning or committing") in stdout
    assert "etcd.host[0] is a URL with a password in it (http://<redacted>@etcd:2379)" in stdout
    assert "DSN of container 'app' is a URL with a password in it (postgres://<redacted>@db:5432)" \
        in stdout
    # A part of a canary leaks too: its distinctive tail must not appear either.
    leaks = [(output, place, form) for output, text in texts.items()
             for place, canary in CANARIES.items()
             for form, value in {**_forms(canary), "tail": canary[-6:]}.items() if value in text]
    assert leaks == []
