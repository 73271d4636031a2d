"""Keeping credential values out of every output.

Checks already avoid putting values of credential fields into messages; this
is the safety net behind them. Before results leave the engine, every text is
scrubbed of the credential values found in the scan: Secret ``data`` (decoded)
and ``stringData``, literal env values whose name looks like a credential, and
credential-looking keys of Helm values.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from checks.model import Resource

REDACTED = "<redacted>"
CREDENTIAL_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|_KEY$|^KEY$|APIKEY|API_KEY|CREDENTIAL"
                             r"|PRIVATE|DSN|CONNECTION_STRING|^URL$|DATABASE_URL",
                             re.IGNORECASE)
#: Shorter values would mangle ordinary words in messages.
MIN_SECRET_LENGTH = 4


def looks_like_credential(name: str) -> bool:
    return bool(CREDENTIAL_NAME.search(name))


def _pod_specs(body: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    spec = body.get("spec")
    if not isinstance(spec, Mapping):
        return
    yield spec
    for path in (("template", "spec"), ("jobTemplate", "spec", "template", "spec")):
        node: Any = spec
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping):
            yield node


def _container_env_values(body: Mapping[str, Any]) -> Iterator[str]:
    for pod in _pod_specs(body):
        for group in ("containers", "initContainers"):
            containers = pod.get(group)
            if not isinstance(containers, list):
                continue
            for container in containers:
                env = container.get("env") if isinstance(container, Mapping) else None
                for var in env if isinstance(env, list) else []:
                    if (isinstance(var, Mapping) and isinstance(var.get("name"), str)
                            and looks_like_credential(var["name"])
                            and isinstance(var.get("value"), str)):
                        yield var["value"]


def _values_credentials(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if isinstance(value, str) and looks_like_credential(str(key)):
                yield value
            else:
                yield from _values_credentials(value)
    elif isinstance(node, list):
        for item in node:
            yield from _values_credentials(item)


def _secret_values(body: Mapping[str, Any]) -> Iterator[str]:
    data = body.get("data")
    if isinstance(data, Mapping):
        for value in data.values():
            if not isinstance(value, str):
                continue
            yield value
            with contextlib.suppress(binascii.Error, UnicodeDecodeError, ValueError):
                yield base64.b64decode(value, validate=True).decode("utf-8")
    string_data = body.get("stringData")
    if isinstance(string_data, Mapping):
        yield from (v for v in string_data.values() if isinstance(v, str))


def secret_values(resources: Iterable[Resource]) -> list[str]:
    """Every credential value the scanned objects hold (to be scrubbed)."""
    found: list[str] = []
    for resource in resources:
        if resource.chart is not None:
            found.extend(_values_credentials(resource.body))
        elif resource.kind == "Secret":
            found.extend(_secret_values(resource.body))
        else:
            found.extend(_container_env_values(resource.body))
    return found


class Scrubber:
    def __init__(self, secrets: Iterable[str]) -> None:
        values = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH and "${" not in s}
        # Longest first so a secret containing another is replaced whole.
        self._values = sorted(values, key=len, reverse=True)
        self._pattern = (re.compile("|".join(re.escape(v) for v in self._values))
                         if self._values else None)

    @classmethod
    def from_resources(cls, resources: Iterable[Resource]) -> Scrubber:
        return cls(secret_values(resources))

    def text(self, value: str) -> str:
        return self._pattern.sub(REDACTED, value) if self._pattern else value

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value
