"""Command-line options -> ScanRequest, shared by both front ends.

``upgrade-lint scan`` and ``pytest --upgrade-lint`` accept the same options;
building the request in one place keeps their validation and messages the
same. Problems raise ``ValueError`` with the message users see.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checks.engine.installations import InstallationMap
from checks.engine.live import LiveSourceError, cluster_options, probe_options
from checks.engine.parallel import EncodeResults, default_jobs
from checks.engine.scan import ScanRequest
from checks.engine.upgrade_path import parse_assignment
from checks.sources.backups import parse_duration
from checks.sources.files import unreadable_reason
from checks.sources.helm import CHARTS, canonical_chart


def product_pairs(values: Sequence[str], option: str) -> dict[str, str]:
    out = {}
    for text in values:
        product, value = parse_assignment(text, option)
        out[product] = value
    return out


def backup_pairs(values: Sequence[str]) -> dict[str, str]:
    """``--backup PRODUCT=PATH`` or ``PRODUCT@INSTALLATION=PATH`` (the backup of
    one installation, when the scan holds several of the product)."""
    out = {}
    for text in values:
        head, _, path = text.partition("=")
        product_text, at, name = head.partition("@")
        product, _ = parse_assignment(f"{product_text}={path}", "--backup")
        if at and not name.strip():
            raise ValueError(f"--backup expects PRODUCT[@INSTALLATION]=PATH, got {text!r}")
        out[f"{product}@{name.strip()}" if at else product] = path.strip()
    return out


def chart_values(values: Sequence[str]) -> dict[str, str]:
    out = {}
    for text in values:
        chart_name, sep, path = text.partition("=")
        chart = canonical_chart(chart_name)
        if not sep or not path or chart is None:
            raise ValueError(f"--values expects CHART=FILE with CHART one of "
                             f"{', '.join(CHARTS)}, got {text!r}")
        reason = unreadable_reason(path, directory_ok=False)
        if reason is not None:
            raise ValueError(f"--values {text}: {reason}")
        out[path] = chart
    return out


def parse_jobs(text: str) -> int:
    value = str(text).strip().lower()
    if value == "auto":
        return default_jobs()
    if value.isdigit() and int(value) > 0:
        return int(value)
    raise ValueError(f"--jobs expects a positive number or auto, got {value!r}")


def build_request(paths: Sequence[str], *, values: Sequence[str] = (),
                  targets: Sequence[str] = (), currents: Sequence[str] = (),
                  backups: Sequence[str] = (), rules: str | None = None,
                  max_file_bytes: int, max_backup_age: str = "24h", jobs: str = "1",
                  stdin_data: bytes | None = None, installations: Sequence[str] = (),
                  base: str | None = None, baseline: str | None = None, gate_all: bool = False,
                  encode_results: EncodeResults | None = None,
                  exclude: Sequence[str] = (), live: LiveOptions | None = None
                  ) -> ScanRequest:
    live = live or LiveOptions()
    if not paths and not live.cluster and live.snapshot is None:
        raise ValueError("nothing to scan: give PATH, --cluster or --snapshot FILE")
    try:
        max_age = parse_duration(max_backup_age)
    except ValueError as exc:
        raise ValueError(f"--max-backup-age: {exc}") from None
    if max_file_bytes <= 0:
        raise ValueError("--max-file-size must be a positive number of bytes")
    # A typo in a pipeline's path must stop it, not scan nothing and pass. A
    # path that exists but cannot be read (a FIFO, a device) is bad input of
    # the scan instead: listed in the reports like any unreadable file.
    missing = [f"{path} ({reason})" for path in paths if path != "-"
               and (reason := unreadable_reason(path)) is not None and not os.path.exists(path)]
    if missing:
        raise ValueError(f"cannot read {', '.join(missing)}")
    return ScanRequest(
        paths=list(paths), values=chart_values(values),
        targets=product_pairs(targets, "--target"), currents=product_pairs(currents, "--from"),
        rules_dir=Path(rules) if rules else None, max_file_bytes=max_file_bytes,
        stdin_data=stdin_data, backups=backup_pairs(backups),
        max_backup_age_seconds=max_age, jobs=parse_jobs(jobs), encode_results=encode_results,
        installations=InstallationMap.parse(installations), base=base or None,
        baseline=baseline or None, gate_all=bool(gate_all), exclude=list(exclude),
        **live.request_fields())


def _seconds(text: object, option: str) -> float:
    try:
        value = float(str(text))
    except ValueError:
        raise ValueError(f"{option} expects a number of seconds, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{option} expects a positive number of seconds, got {text!r}")
    return value


_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def _is_host_name(name: str) -> bool:
    """A DNS name a certificate can carry (``*.`` wildcards are the
    certificate's business, not the name asked for)."""
    labels = name.rstrip(".").split(".")
    return 0 < len(name) <= 253 and all(_HOST_LABEL.match(label) for label in labels)


@dataclass(frozen=True)
class LiveOptions:
    """The live-source options as given (``scan`` and the pytest plugin alike)."""

    cluster: bool = False
    kubeconfig: str | None = None
    context: str | None = None
    namespaces: Sequence[str] = ()
    exclude_namespaces: Sequence[str] = ()
    connect_timeout: str | float | None = None
    read_timeout: str | float | None = None
    record: str | None = None
    snapshot: str | None = None
    datapower_secret: str | None = None
    kong_admin_urls: Sequence[str] = ()
    api7_dashboard_urls: Sequence[str] = ()
    ca_bundle: str | None = None
    datapower_tls_server_name: str | None = None
    #: The words of ``-k``: rule ids among them are named explicitly.
    named_rules: Sequence[str] = ()

    def request_fields(self) -> dict[str, Any]:
        """ScanRequest's ``cluster``, ``snapshot``, ``record`` and ``probes``."""
        if self.cluster and self.snapshot is not None:
            raise ValueError("--cluster and --snapshot exclude each other: a scan reads the "
                             "cluster, or replays what was recorded from it")
        cluster_only = {"--kubeconfig": self.kubeconfig, "--context": self.context,
                        "--namespace": self.namespaces,
                        "--exclude-namespace": self.exclude_namespaces,
                        "--connect-timeout": self.connect_timeout,
                        "--read-timeout": self.read_timeout,
                        "--datapower-secret": self.datapower_secret,
                        "--kong-admin-url": self.kong_admin_urls,
                        "--api7-dashboard-url": self.api7_dashboard_urls,
                        "--ca-bundle": self.ca_bundle,
                        "--datapower-tls-server-name": self.datapower_tls_server_name}
        given = [name for name, value in cluster_only.items() if value]
        if given and not self.cluster:
            raise ValueError(f"{given[0]} needs --cluster")
        if self.record is not None and not self.cluster and self.snapshot is None:
            raise ValueError("--record needs --cluster (or --snapshot, to write it again)")
        for option, value in (("--record", self.record), ("--snapshot", self.snapshot)):
            if value is not None and not value.strip():
                raise ValueError(f"{option} expects a file name")
        if self.snapshot is not None and not os.path.isfile(self.snapshot):
            raise ValueError(f"--snapshot {self.snapshot}: no such file")
        if self.ca_bundle and not os.path.isfile(self.ca_bundle):
            raise ValueError(f"--ca-bundle {self.ca_bundle}: no such file")
        name = self.datapower_tls_server_name
        if name is not None and not _is_host_name(name):
            raise ValueError(f"--datapower-tls-server-name expects a DNS name, got {name!r}")
        if self.datapower_secret and self.datapower_secret.count("/") != 1:
            raise ValueError(f"--datapower-secret expects NAMESPACE/NAME, got "
                             f"{self.datapower_secret!r}")
        fields: dict[str, Any] = {"snapshot": self.snapshot, "record": self.record,
                                  "named_rules": tuple(self.named_rules)}
        if self.cluster:
            timeouts = {key: _seconds(value, option) for key, option, value in (
                ("connect_timeout", "--connect-timeout", self.connect_timeout),
                ("read_timeout", "--read-timeout", self.read_timeout)) if value is not None}
            try:
                fields["cluster"] = cluster_options(
                    kubeconfig=self.kubeconfig, context=self.context,
                    namespaces=tuple(self.namespaces),
                    exclude_namespaces=tuple(self.exclude_namespaces), **timeouts)
                fields["probes"] = probe_options(
                    datapower_secret=self.datapower_secret,
                    kong_admin_urls=tuple(self.kong_admin_urls),
                    api7_dashboard_urls=tuple(self.api7_dashboard_urls),
                    ca_bundle=self.ca_bundle, datapower_tls_server_name=name)
            except LiveSourceError as exc:
                raise ValueError(str(exc)) from None
        return fields
