"""The ``system-database`` Secret keys that the internal database reads.

3scale 2.5 moves ``system-mysql``'s credentials into the ``system-database``
Secret (keys ``DB_USER`` and ``DB_PASSWORD``). Only an installation that runs
the internal ``system-mysql`` needs them: the HA and external-database
templates have no ``system-mysql`` and a Secret that holds only the external
database's ``URL``. So the check looks at the Secret together with the
database workloads of the same installation (the same namespace; without one,
the same OpenShift Template, else the same directory), and, for a Secret
exported alone, at the host its ``URL`` names. Values are never reported: of
``URL`` only the host is read.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from checks.engine.registry import Params, set_check
from checks.engine.upgrade_path import UpgradeContext
from checks.model import NotEvaluated, Resource, Verdict, Violation

_URL_HOST = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^:/?#@]+)")
_WORKLOAD_KINDS = frozenset({"DeploymentConfig", "Deployment", "StatefulSet"})


def installation_key(resource: Resource) -> tuple[str, str]:
    """Which installation an object belongs to, as far as these objects tell.

    The namespace when the manifest names one; else the OpenShift Template the
    object was rendered from; else the directory of its file (namespace-less
    manifests of one installation are kept together)."""
    if resource.namespace:
        return "namespace", resource.namespace
    origin = resource.origin
    if origin.prefix[:1] == ("objects",):
        return "template", f"{origin.path}#{origin.doc_index}"
    return "directory", os.path.dirname(origin.path)


def _describe_installation(key: tuple[str, str]) -> str:
    kind, name = key
    if kind == "namespace":
        return f"namespace {name}"
    if kind == "template":
        return f"the Template in {name.rpartition('#')[0]}"
    return f"directory {name or '.'}"


def _url_text(secret: Resource, key: str) -> str | None:
    """The Secret's URL as text (``stringData`` wins, as the API server applies it)."""
    plain = secret.body.get("stringData")
    if isinstance(plain, Mapping) and isinstance(plain.get(key), str):
        return str(plain[key])
    data = secret.body.get("data")
    if isinstance(data, Mapping) and isinstance(data.get(key), str):
        try:
            return base64.b64decode(data[key], validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return None
    return None


def _names_reader(url: str, readers: Sequence[str]) -> bool:
    """Does the URL's host name one of the reader Services (``system-mysql``,
    ``system-mysql.3scale``, ``system-mysql.3scale.svc.cluster.local``)?"""
    match = _URL_HOST.match(url.strip())
    if match is None:
        return False
    labels = match.group(1).lower().split(".")
    return labels[0] in readers and (len(labels) <= 2 or labels[2] == "svc")


def _keys_present(secret: Resource) -> set[str]:
    present: set[str] = set()
    for section in ("data", "stringData"):
        block = secret.body.get(section)
        if isinstance(block, Mapping):
            present.update(str(k) for k in block)
    return present


def _missing_keys(secret: Resource, keys: Sequence[str], why: str) -> Iterator[Verdict]:
    present = _keys_present(secret)
    missing = [k for k in keys if k not in present]
    if not missing:
        return
    body: Mapping[str, Any] = secret.body
    anchor = ("data",) if "data" in body else (("stringData",) if "stringData" in body else ())
    yield Violation(f"Secret {secret.name!r} lacks key(s) {', '.join(missing)} (in data or "
                    f"stringData); {why}", anchor, observed=sorted(present),
                    expected=list(keys), resource=secret)


@set_check("secret-keys-for-readers", {
    "required": ["secret", "keys", "readers"],
    "additionalProperties": False,
    "properties": {
        "secret": {"type": "string", "description": "the Secret's name"},
        "keys": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "readers": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                    "description": "workloads (and their Services) that read the keys"},
        "url_key": {"type": "string", "default": "URL",
                    "description": "Secret key holding the database URL, whose host tells "
                                   "whether a reader is the database in use"},
    },
})
def secret_keys_for_readers(resources: Sequence[Resource], params: Params,
                            ctx: UpgradeContext) -> Iterator[Verdict]:
    """A Secret carries the keys that a workload of the same installation reads."""
    readers = list(params["readers"])
    secrets: dict[tuple[str, str], list[Resource]] = defaultdict(list)
    workloads: dict[tuple[str, str], list[Resource]] = defaultdict(list)
    for resource in resources:
        if resource.kind == "Secret" and resource.name == params["secret"]:
            secrets[installation_key(resource)].append(resource)
        elif resource.kind in _WORKLOAD_KINDS and resource.name in readers:
            workloads[installation_key(resource)].append(resource)
    for key, group in secrets.items():
        for secret in group:
            yield from _judge_secret(secret, workloads.get(key, []), params)
    for key, group in workloads.items():
        if key not in secrets:
            for workload in group:
                yield NotEvaluated(f"{workload.kind} {workload.name} reads Secret "
                                   f"{params['secret']!r}, which is not among the scanned objects "
                                   f"of {_describe_installation(key)}", resource=workload)


def _judge_secret(secret: Resource, workloads: Sequence[Resource],
                  params: Params) -> Iterator[Verdict]:
    keys = params["keys"]
    if workloads:
        reader = workloads[0]
        yield from _missing_keys(secret, keys, f"{reader.kind} {reader.name} of the same "
                                               "installation reads them")
        return
    url_key = params.get("url_key", "URL")
    url = _url_text(secret, url_key)
    if url is None:
        if not _keys_present(secret) >= set(keys):
            yield NotEvaluated(f"no {' or '.join(params['readers'])} among the scanned objects "
                               f"of {_describe_installation(installation_key(secret))} and no "
                               f"readable {url_key}: cannot tell whether the internal database "
                               "reads this Secret", resource=secret)
        return
    if _names_reader(url, params["readers"]):
        yield from _missing_keys(secret, keys, f"its {url_key} points at the installation's "
                                               "internal database, which reads them")
    # Otherwise the URL names an external database (or is the HA templates'
    # parameter): no internal database reads the keys, nothing to require.
