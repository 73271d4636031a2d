"""The live-source options, declared once for both front ends.

``upgrade-lint scan --cluster ...`` (argparse) and ``pytest --upgrade-cluster
...`` (pytest's parser, argparse underneath) take the same options with the
same help; only the plugin's names carry the ``--upgrade-`` prefix. Each
front end adds them with its own ``add`` function and reads them back by
field name.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from checks.engine.request import LiveOptions

TITLE = "live cluster"
DESCRIPTION = ("the cluster is the current state, manifests the planned one; every request "
               "is a read (get/list); a live scan runs in one process")


def nonempty_path(text: str) -> str:
    """A file name: an empty one (an unset CI variable) must not silently
    write or read nothing."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expects a file name, or - for standard output")
    return text


#: (option without "--", LiveOptions field, argparse keywords).
OPTIONS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("cluster", "cluster", {
        "action": "store_true",
        "help": "read the cluster of the kubeconfig (the kinds the rules read; the "
                "least-privilege role: 'upgrade-lint rbac')"}),
    ("kubeconfig", "kubeconfig", {
        "metavar": "FILE", "help": "kubeconfig (default: KUBECONFIG, ~/.kube/config, in-cluster)"}),
    ("context", "context", {"metavar": "NAME", "help": "kubeconfig context"}),
    ("namespace", "namespaces", {
        "action": "append", "default": [], "metavar": "NS",
        "help": "read only this namespace (repeatable; default: all)"}),
    ("exclude-namespace", "exclude_namespaces", {
        "action": "append", "default": [], "metavar": "NS",
        "help": "leave out this namespace (repeatable)"}),
    ("connect-timeout", "connect_timeout", {
        "metavar": "SECONDS", "help": "connect timeout for the cluster (default 10)"}),
    ("read-timeout", "read_timeout", {
        "metavar": "SECONDS", "help": "read timeout for the cluster (default 60)"}),
    ("record", "record", {
        "metavar": "FILE", "type": nonempty_path,
        "help": "save what was read as a snapshot (.gz: gzip'd; Secrets are recorded as key "
                "names only)"}),
    ("snapshot", "snapshot", {
        "metavar": "FILE", "type": nonempty_path,
        "help": "replay a recorded snapshot instead of reading a cluster (findings point to "
                "snapshot://FILE/...)"}),
    ("datapower-secret", "datapower_secret", {
        "metavar": "NS/NAME",
        "help": "Secret with keys username/password for the DataPower REST management "
                "interface (gateway peering status)"}),
    ("datapower-tls-server-name", "datapower_tls_server_name", {
        "metavar": "NAME",
        "help": "the name the gateway pods' REST management certificate carries: verified "
                "instead of the pod IP (like kubectl's --tls-server-name)"}),
    ("kong-admin-url", "kong_admin_urls", {
        "action": "append", "default": [], "metavar": "URL",
        "help": "Kong control-plane Admin API, [NAMESPACE=]URL (repeatable; token from the "
                "KONG_ADMIN_TOKEN environment variable)"}),
    ("api7-dashboard-url", "api7_dashboard_urls", {
        "action": "append", "default": [], "metavar": "URL",
        "help": "API7 dashboard, [NAMESPACE=]URL (repeatable; token from API7_TOKEN)"}),
    ("ca-bundle", "ca_bundle", {
        "metavar": "FILE", "help": "CA certificates for the product APIs (verification stays on)"}),
)


def add_live_options(add: Callable[..., Any], prefix: str = "") -> None:
    """Declare every live option through ``add`` (``ArgumentGroup.add_argument``
    or pytest's ``OptionGroup.addoption``), named ``--{prefix}{option}``."""
    for option, _, keywords in OPTIONS:
        add(f"--{prefix}{option}", **keywords)


def read_live_options(value: Callable[[str], Any], prefix: str = "",
                      named_rules: tuple[str, ...] = ()) -> LiveOptions:
    """The options back from a parsed command line: ``value`` gets the dest
    argparse derived (``upgrade_kong_admin_url``)."""
    fields: dict[str, Any] = {}
    for option, field, keywords in OPTIONS:
        given = value((prefix + option).replace("-", "_"))
        fields[field] = tuple(given or ()) if keywords.get("action") == "append" else given
    fields["cluster"] = bool(fields["cluster"])
    return LiveOptions(**fields, named_rules=named_rules)
