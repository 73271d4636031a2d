"""labelSelector and fieldSelector as the apiserver parses them (the subset clients send).

Label selectors: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, comma-joined.
Field selectors: `path=v`, `path==v`, `path!=v`, comma-joined, on the fields the type supports
(`metadata.name`, `metadata.namespace`, plus per-type labels such as `status.phase` for pods);
anything else is the apiserver's 400 `field label not supported`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Predicate = Callable[[Mapping[str, Any]], bool]


class SelectorError(ValueError):
    """A selector the apiserver would refuse with 400 BadRequest."""


_LABEL_KEY = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return labels if isinstance(labels, Mapping) else {}


def _check_key(key: str, requirement: str) -> str:
    if not _LABEL_KEY.match(key):
        raise SelectorError(f"unable to parse requirement: invalid label key {key!r} in {requirement!r}")
    return key


def _label_requirement(text: str) -> Predicate:
    set_match = re.fullmatch(r"([^\s!=()]+)\s+(in|notin)\s+\((.*)\)", text)
    if set_match:
        key = _check_key(set_match.group(1), text)
        values = {v.strip() for v in set_match.group(3).split(",") if v.strip()}
        if set_match.group(2) == "in":
            return lambda obj: _labels(obj).get(key) in values
        return lambda obj: _labels(obj).get(key) not in values
    op_match = re.fullmatch(r"([^\s!=()]+)\s*(==|!=|=)\s*([^\s!=(),]*)", text)
    if op_match:
        key, op, value = _check_key(op_match.group(1), text), op_match.group(2), op_match.group(3)
        if op == "!=":
            return lambda obj: _labels(obj).get(key) != value
        return lambda obj: _labels(obj).get(key) == value
    if text.startswith("!"):
        key = _check_key(text[1:].strip(), text)
        return lambda obj: key not in _labels(obj)
    key = _check_key(text, text)
    return lambda obj: key in _labels(obj)


def label_selector(text: str) -> Predicate:
    requirements = [_label_requirement(part) for part in _split_top_level(text)]
    return lambda obj: all(req(obj) for req in requirements)


def _field_value(obj: Mapping[str, Any], path: str) -> str:
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def field_selector(text: str, supported: tuple[str, ...]) -> Predicate:
    """Parse a fieldSelector against the field labels this resource supports."""
    allowed = ("metadata.name", "metadata.namespace", *supported)
    checks: list[Predicate] = []
    for part in _split_top_level(text):
        match = re.fullmatch(r"([^=!]+?)\s*(==|!=|=)\s*(.*)", part)
        if not match:
            raise SelectorError(f"invalid selector: '{part}'; can't understand '{part}'")
        path, op, value = match.group(1).strip(), match.group(2), match.group(3).strip()
        if path not in allowed:
            raise SelectorError(f"field label not supported: {path}")
        if op == "!=":
            checks.append(lambda obj, p=path, v=value: _field_value(obj, p) != v)
        else:
            checks.append(lambda obj, p=path, v=value: _field_value(obj, p) == v)
    return lambda obj: all(check(obj) for check in checks)
