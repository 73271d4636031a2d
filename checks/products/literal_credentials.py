"""Which literal values are credentials, and where Helm values hold them.

A credential-looking name is not enough: ``KONG_SSL_CERT_KEY=/etc/...`` names
a file and ``*_TOKEN_ENDPOINT=https://...`` an address, and neither is a
secret. A URL is a credential only when its userinfo carries a password
(``postgres://kong:PASS@db/kong``); then it is one whatever its name, and it
is shown with the userinfo masked. References that are not literals (Helm
templates, ``${VAR}``, Kubernetes ``$(VAR)``, Kong ``{vault://...}``) and
empty values are nothing to report: the value lives elsewhere.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from checks.engine.redact import REDACTED, url_host
from checks.model import JsonPath
from checks.objects import is_mapping

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
#: Helm templates, shell/envsubst and Kubernetes variable references, and Kong
#: vault references ("{vault://env/pg-password}", Kong Gateway Secrets Management).
_REFERENCE = re.compile(r"\{\{|\$\{|\$\(|^\{vault://")
_PATH_PREFIXES = ("/", "./", "../", "~/", "file:")


class Literal(enum.Enum):
    NOT_SECRET = "not a secret"  # empty, a reference, a file path, a URL without password
    SECRET = "a literal value"
    URL_WITH_PASSWORD = "a URL with a password in it"


def classify(value: object) -> Literal:
    """What a literal setting holds, judged by its value alone."""
    if not isinstance(value, str):
        return Literal.NOT_SECRET  # a mapping (valueFrom), a number, a boolean
    return _classify_text(value)


@functools.lru_cache(maxsize=8192)
def _classify_text(value: str) -> Literal:
    """(Memoised: the same settings, ``"true"``, ``"8080"``, recur in every workload.)"""
    text = value.strip()
    if not text or _REFERENCE.search(text) or text.startswith(_PATH_PREFIXES):
        return Literal.NOT_SECRET
    if _URL.match(text):
        return Literal.URL_WITH_PASSWORD if _url_password(text) else Literal.NOT_SECRET
    return Literal.SECRET


def _url_password(url: str) -> bool:
    try:
        return bool(urlsplit(url).password)
    except ValueError:  # a malformed port or bracket: judge the userinfo by hand
        userinfo = url.split("://", 1)[1].split("/", 1)[0].rpartition("@")[0]
        return ":" in userinfo and bool(userinfo.partition(":")[2])


def shown(value: str, kind: Literal) -> str:
    """How a credential value may appear in a message: never the secret."""
    if kind is not Literal.URL_WITH_PASSWORD:
        return REDACTED
    return url_host(value)


#: Keys that name where a credential is kept, not the credential.
_NAMES_A_REFERENCE = re.compile(r"secret|name$|file$|path$|ref$", re.IGNORECASE)


def values_credentials(node: Any, key_matches: Callable[[str], bool],
                       env_name_matches: Callable[[str], bool], path: JsonPath = (),
                       in_credentials: bool = False
                       ) -> Iterator[tuple[JsonPath, Literal, str]]:
    """(path, kind, value) of every credential in a Helm values tree.

    A credential is a secret literal under a credential-looking key
    (``env.pg_password``), under a mapping with such a key
    (``admin.credentials.admin``), or as the ``value`` of an env-var-like list
    item with a credential-looking ``name`` (``extraEnvVars``); and any URL
    with a password, whatever its key."""
    if is_mapping(node):
        env_name = node.get("name")
        if isinstance(env_name, str) and "value" in node and env_name_matches(env_name):
            kind = classify(node["value"])
            if kind is not Literal.NOT_SECRET:
                yield (*path, "value"), kind, str(node["value"])
                return
        items: Iterator[tuple[str | int, Any]] = ((str(k), v) for k, v in node.items())
    elif isinstance(node, list):
        items = iter(enumerate(node))
    else:
        return
    for key, value in items:
        here = (*path, key)
        named = isinstance(key, str) and key_matches(key)
        if isinstance(value, (Mapping, list)):
            yield from values_credentials(value, key_matches, env_name_matches, here,
                                          named and is_mapping(value))
            continue
        kind = classify(value)
        credential_key = named or (in_credentials and not _NAMES_A_REFERENCE.search(str(key)))
        if kind is Literal.URL_WITH_PASSWORD or (kind is Literal.SECRET and credential_key):
            yield here, kind, str(value)
