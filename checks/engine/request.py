"""Command-line options -> ScanRequest, shared by both front ends.

``upgrade-lint scan`` and ``pytest --upgrade-lint`` accept the same options;
building the request in one place keeps their validation and messages the
same. Problems raise ``ValueError`` with the message users see.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from checks.engine.installations import InstallationMap
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
                  exclude: Sequence[str] = ()) -> ScanRequest:
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
        baseline=baseline or None, gate_all=bool(gate_all), exclude=list(exclude))
