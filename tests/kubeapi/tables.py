"""The server-side Table format (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`).

`kubectl get` without `-o json` asks for Tables and prints their cells. Columns follow the
apiserver's printers for the common built-in kinds and a CRD's additionalPrinterColumns (default:
Age), as recordings 50-55 show; every row carries the object's metadata (PartialObjectMetadata),
the whole object with `includeObject=Object`, or nothing with `includeObject=None`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from tests.kubeapi.catalog import PrinterColumn, ResourceType

NAME_DESCRIPTION = (
    "Name must be unique within a namespace. Is required when creating resources, although some resources "
    "may allow a client to request the generation of an appropriate name automatically. Name is primarily "
    "intended for creation idempotence and configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
AGE_DESCRIPTION = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
    "guaranteed to be set in happens-before order across separate operations. Clients may not set this "
    "value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null "
    "for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)

Cell = Callable[[Mapping[str, Any]], Any]


def human_age(timestamp: Any, now: dt.datetime | None = None) -> str:
    """kubectl's short duration ("81s", "5m12s", "3h", "12d") from a creationTimestamp."""
    if not isinstance(timestamp, str):
        return "<unknown>"
    try:
        created = dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return "<unknown>"
    seconds = int(((now or dt.datetime.now(dt.timezone.utc)) - created).total_seconds())
    if seconds < 0:
        return "<invalid>"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if hours < 3:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    return f"{days // 365}y"


def _get(obj: Mapping[str, Any], path: str) -> Any:
    node: Any = obj
    for part in path.strip(".").split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _age(obj: Mapping[str, Any]) -> str:
    return human_age(_get(obj, "metadata.creationTimestamp"))


def _pod_ready(obj: Mapping[str, Any]) -> str:
    statuses = _get(obj, "status.containerStatuses") or []
    containers = _get(obj, "spec.containers") or []
    ready = sum(1 for s in statuses if isinstance(s, Mapping) and s.get("ready"))
    return f"{ready}/{len(containers)}"


def _pod_restarts(obj: Mapping[str, Any]) -> int:
    statuses = _get(obj, "status.containerStatuses") or []
    return sum(int(s.get("restartCount", 0)) for s in statuses if isinstance(s, Mapping))


def _count_data(obj: Mapping[str, Any]) -> int:
    return len(obj.get("data") or {}) + len(obj.get("binaryData") or {})


def _replicas_ready(obj: Mapping[str, Any]) -> str:
    return f"{_get(obj, 'status.readyReplicas') or 0}/{_get(obj, 'spec.replicas') or 0}"


# (column name, type, priority, cell) per built-in resource; Name is always first.
_BUILTIN_COLUMNS: dict[str, list[tuple[str, str, int, Cell]]] = {
    "pods": [
        ("Ready", "string", 0, _pod_ready),
        ("Status", "string", 0, lambda o: _get(o, "status.phase") or ""),
        ("Restarts", "string", 0, _pod_restarts),
        ("Age", "string", 0, _age),
        ("IP", "string", 1, lambda o: _get(o, "status.podIP") or "<none>"),
        ("Node", "string", 1, lambda o: _get(o, "spec.nodeName") or "<none>"),
    ],
    "namespaces": [
        ("Status", "string", 0, lambda o: _get(o, "status.phase") or ""),
        ("Age", "string", 0, _age),
    ],
    "configmaps": [("Data", "string", 0, _count_data), ("Age", "string", 0, _age)],
    "secrets": [
        ("Type", "string", 0, lambda o: o.get("type") or "Opaque"),
        ("Data", "string", 0, _count_data),
        ("Age", "string", 0, _age),
    ],
    "deployments": [
        ("Ready", "string", 0, _replicas_ready),
        ("Up-to-date", "string", 0, lambda o: _get(o, "status.updatedReplicas") or 0),
        ("Available", "string", 0, lambda o: _get(o, "status.availableReplicas") or 0),
        ("Age", "string", 0, _age),
    ],
    "statefulsets": [("Ready", "string", 0, _replicas_ready), ("Age", "string", 0, _age)],
    "services": [
        ("Type", "string", 0, lambda o: _get(o, "spec.type") or "ClusterIP"),
        ("Cluster-IP", "string", 0, lambda o: _get(o, "spec.clusterIP") or "<none>"),
        ("Age", "string", 0, _age),
    ],
}
_DEFAULT_BUILTIN = [("Created At", "date", 0, lambda o: _get(o, "metadata.creationTimestamp"))]


def _crd_columns(rtype: ResourceType) -> list[tuple[str, str, int, Cell, str]]:
    columns = rtype.printer_columns or (PrinterColumn("Age", ".metadata.creationTimestamp", "date"),)
    result = []
    for col in columns:
        path = col.json_path

        def cell(obj: Mapping[str, Any], path: str = path, kind: str = col.type) -> Any:
            value = _get(obj, path)
            return human_age(value) if kind == "date" and value is not None else value

        description = f"Custom resource definition column (in JSONPath format): {path}"
        result.append((col.name, col.type, col.priority, cell, description))
    return result


def _columns(rtype: ResourceType) -> list[tuple[str, str, int, Cell, str]]:
    if rtype.custom:
        return _crd_columns(rtype)
    columns = _BUILTIN_COLUMNS.get(rtype.plural, _DEFAULT_BUILTIN)
    return [
        (name, kind, prio, cell, AGE_DESCRIPTION if name == "Age" else f"{name} of the {rtype.kind}")
        for name, kind, prio, cell in columns
    ]


def partial_metadata(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(obj.get("metadata") or {}),
    }


def table(
    rtype: ResourceType,
    objects: list[dict[str, Any]],
    metadata: dict[str, Any],
    include_object: str = "Metadata",
) -> dict[str, Any]:
    columns = _columns(rtype)
    definitions = [
        {"name": "Name", "type": "string", "format": "name", "description": NAME_DESCRIPTION, "priority": 0}
    ]
    definitions += [
        {"name": name, "type": kind, "format": "", "description": description, "priority": prio}
        for name, kind, prio, _, description in columns
    ]
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": [_get(obj, "metadata.name")] + [cell(obj) for *_, cell, _ in columns]}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = partial_metadata(obj)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": definitions,
        "rows": rows,
    }
