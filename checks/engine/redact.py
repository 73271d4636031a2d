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
import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeGuard

from checks.model import Resource

REDACTED = "<redacted>"
CREDENTIAL_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|_KEY$|^KEY$|APIKEY|API_KEY|CREDENTIAL"
                             r"|PRIVATE|DSN|CONNECTION_STRING|^URL$|DATABASE_URL",
                             re.IGNORECASE)
#: Shorter values would mangle ordinary words in messages.
MIN_SECRET_LENGTH = 4


@functools.lru_cache(maxsize=8192)
def looks_like_credential(name: str) -> bool:
    """(Cached: a scan asks about the same few hundred env names tens of
    thousands of times.)"""
    return bool(CREDENTIAL_NAME.search(name))


def _is_map(node: Any) -> TypeGuard[Mapping[str, Any]]:
    return node.__class__ is dict or isinstance(node, Mapping)  # dicts skip the ABC check


def _pod_specs(body: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    spec = body.get("spec")
    if not _is_map(spec):
        return
    yield spec
    for path in (("template", "spec"), ("jobTemplate", "spec", "template", "spec")):
        node: Any = spec
        for key in path:
            node = node.get(key) if _is_map(node) else None
        if _is_map(node):
            yield node


def _container_env_values(body: Mapping[str, Any]) -> Iterator[str]:
    for pod in _pod_specs(body):
        for group in ("containers", "initContainers"):
            containers = pod.get(group)
            if not isinstance(containers, list):
                continue
            for container in containers:
                env = container.get("env") if _is_map(container) else None
                for var in env if isinstance(env, list) else ():
                    if not _is_map(var):
                        continue
                    name, value = var.get("name"), var.get("value")
                    if (isinstance(value, str) and isinstance(name, str)
                            and looks_like_credential(name)):
                        yield value


def _values_credentials(node: Any) -> Iterator[str]:
    if _is_map(node):
        for key, value in node.items():
            if key == "valueFrom":
                continue  # a reference: its secretKeyRef.key names a Secret key, no secret
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


#: The password of a URL's userinfo: ``scheme://user:PASSWORD@host``.
_URL_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/@:\s]*:([^/@\s]+)@")


def secret_values(resources: Iterable[Resource]) -> list[str]:
    """Every credential value the scanned objects hold (to be scrubbed), and
    the password alone of those that are URLs (a message may quote it apart)."""
    found: list[str] = []
    for resource in resources:
        if resource.chart is not None:
            found.extend(_values_credentials(resource.body))
        elif resource.kind == "Secret":
            found.extend(_secret_values(resource.body))
        else:
            found.extend(_container_env_values(resource.body))
    found.extend(m.group(1) for value in found if (m := _URL_PASSWORD.match(value)))
    return found


class Scrubber:
    def __init__(self, secrets: Iterable[str]) -> None:
        values = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH and "${" not in s}
        self._values = sorted(values)
        self._pattern = _alternation(self._values) if self._values else None

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


def _alternation(values: list[str]) -> re.Pattern[str]:
    """One regex for every value, as a trie: ``pass(?:word|phrase)?``.

    A flat ``a|b|c`` makes the regex engine try every value at every position
    of every text: scrubbing grew with findings x secrets (25x the time for 5x
    the documents). Factored by prefix, each position costs at most one branch
    per distinct next character. Greedy optional tails keep the longest value
    at a position, so a secret containing another is replaced whole.
    """
    trie: dict[str, Any] = {}
    for value in values:
        node = trie
        for char in value:
            node = node.setdefault(char, {})
        node[""] = True  # a value ends here
    try:
        return re.compile(_trie_regex(trie))
    except (RecursionError, re.error):  # pathological nesting: the slow, sure way
        return re.compile("|".join(re.escape(v) for v in sorted(values, key=len,
                                                                 reverse=True)))


def _trie_regex(node: dict[str, Any]) -> str:
    branches = []
    for char, child in sorted(node.items()):
        if char == "":
            continue
        chain = [char]
        while len(child) == 1 and "" not in child:  # a run with no choice: a literal
            (char, child), = child.items()
            chain.append(char)
        branches.append(re.escape("".join(chain)) + _trie_regex(child))
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if "" in node:
        return f"(?:{body})?" if len(branches) == 1 else body + "?"
    return body
