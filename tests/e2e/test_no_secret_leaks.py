"""No credential value reaches any output: terminal, JSON, JUnit, HTML, stderr."""

from __future__ import annotations

import base64
import subprocess
import sys
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
