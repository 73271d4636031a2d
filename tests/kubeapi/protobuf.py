"""Just enough of the Kubernetes protobuf encoding to read a SelfSubjectAccessReview request.

`kubectl auth can-i` sends its review as `application/vnd.kubernetes.protobuf` (the apiserver
accepts it), so the test server has to read it: the `k8s\\0` magic, then a runtime.Unknown
envelope whose field 2 holds the SelfSubjectAccessReview message (generated.proto of
k8s.io/api/authorization/v1); a SelfSubjectRulesReview's spec is just a namespace.
"""

from __future__ import annotations

from typing import Any

MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    """Bytes that are not the protobuf message expected."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result, shift = 0, 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def fields(data: bytes) -> dict[int, list[bytes | int]]:
    """Field number -> values (bytes for length-delimited fields, int for varints)."""
    found: dict[int, list[bytes | int]] = {}
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: bytes | int
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ProtobufError("truncated field")
            value, pos = data[pos : pos + length], pos + length
        elif wire == 1:
            value, pos = int.from_bytes(data[pos : pos + 8], "little"), pos + 8
        elif wire == 5:
            value, pos = int.from_bytes(data[pos : pos + 4], "little"), pos + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        found.setdefault(number, []).append(value)
    return found


def _text(values: dict[int, list[bytes | int]], number: int) -> str:
    value = values.get(number, [b""])[-1]
    return value.decode() if isinstance(value, bytes) else str(value)


def _message(values: dict[int, list[bytes | int]], number: int) -> dict[int, list[bytes | int]] | None:
    value = values.get(number, [None])[-1]  # type: ignore[list-item]
    return fields(value) if isinstance(value, bytes) else None


def review_spec(body: bytes, *, rules: bool = False) -> dict[str, Any]:
    """The `spec` of a protobuf SelfSubjectAccessReview (or SelfSubjectRulesReview), JSON-spelled."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing the k8s protobuf magic")
    envelope = fields(body[len(MAGIC) :])
    raw = envelope.get(2, [b""])[-1]
    if not isinstance(raw, bytes):
        raise ProtobufError("no raw message")
    spec = _message(fields(raw), 2) or {}
    if rules:
        return {"namespace": _text(spec, 1)} if 1 in spec else {}
    result: dict[str, Any] = {}
    resource = _message(spec, 1)
    if resource is not None:
        names = {
            1: "namespace",
            2: "verb",
            3: "group",
            4: "version",
            5: "resource",
            6: "subresource",
            7: "name",
        }
        result["resourceAttributes"] = {
            name: _text(resource, num) for num, name in names.items() if num in resource
        }
    non_resource = _message(spec, 2)
    if non_resource is not None:
        result["nonResourceAttributes"] = {"path": _text(non_resource, 1), "verb": _text(non_resource, 2)}
    return result
