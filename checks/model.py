"""Frozen data shared by sources, engine and reports.

Everything that crosses a layer boundary is defined here so that no layer has
to import another one sideways: sources build ``Resource`` and ``InputError``,
the engine turns them into ``Result``, reports only read ``Result``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

JsonPathPart = str | int
JsonPath = tuple[JsonPathPart, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_json_path(parts: JsonPath) -> str:
    """Render a path the way users read it: ``$.spec.template[0].name``.

    Keys that are not plain identifiers (``cert-manager.io/issuer``) are
    bracketed and quoted so the path stays unambiguous.
    """
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _PLAIN_KEY.match(part):
            out.append(f".{part}")
        else:
            escaped = part.replace("\\", "\\\\").replace("'", "\\'")
            if not escaped.isprintable():
                # A key with a newline or an escape sequence must not forge a
                # line or recolour a log: written as \\uXXXX, unambiguous.
                escaped = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped)
            out.append(f"['{escaped}']")
    return "".join(out)


def yaml_type(value: Any) -> str:
    """What a value is, in the words of YAML rather than Python: a message
    reads "is a string, not a mapping", never "is a str"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, (set, frozenset)):
        return "set"
    if isinstance(value, (bytes, bytearray)):
        return "binary value"
    return "timestamp" if hasattr(value, "isoformat") else "value"


def a_yaml_type(value: Any) -> str:
    """``yaml_type`` with its article: "an integer", "a mapping"."""
    name = yaml_type(value)
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


class Severity(enum.IntEnum):
    """Ordered so that ``severity >= fail_on`` is the gating test."""

    INFO = 1
    WARNING = 2
    ERROR = 3
    BLOCKER = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of {names})") from None


class Outcome(str, enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    WAIVED = "waived"
    NOT_APPLICABLE = "not-applicable"
    NOT_EVALUATED = "not-evaluated"
    INVALID_INPUT = "invalid-input"


def gates(outcome: Outcome, severity: Severity, fail_on: Severity,
          require_evaluated: bool = False) -> bool:
    """Does an outcome of this severity fail the run at threshold ``fail_on``?

    Findings and unreadable input do, from ``fail_on`` up. A readiness gate
    (``require_evaluated``) also fails on a blocker or error rule that could
    not be evaluated: "unknown" is not "ready"."""
    if outcome in (Outcome.FAILED, Outcome.INVALID_INPUT):
        return severity >= fail_on
    return (require_evaluated and outcome is Outcome.NOT_EVALUATED
            and severity >= max(fail_on, Severity.ERROR))


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a Resource came from.

    ``prefix`` is the JSON path of the object inside its YAML document: empty
    for a plain manifest, ``("objects", 3)`` for the fourth object of an
    OpenShift Template, ``("items", 0)`` for a ``kind: List``. Line lookup for
    a finding walks ``prefix + json_path`` in document ``doc_index``.
    """

    path: str
    line: int
    doc_index: int = 0
    prefix: JsonPath = ()


class ObjectRef(NamedTuple):
    """Which object a result is about. A named tuple: cheap to build and to pickle."""

    api_version: str
    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        parts = [self.api_version, self.kind]
        if self.namespace:
            parts.append(self.namespace)
        parts.append(self.name)
        return "/".join(parts)


@dataclass(frozen=True, eq=False)
class Resource:
    """One object a rule can look at: a Kubernetes object or a Helm values set.

    ``body`` holds the values exactly as Kubernetes would decode them (YAML 1.1
    scalars). ``chart`` is set for Helm values documents (``kong``,
    ``api7ee3``, ``api7-gateway``). ``unresolved`` lists the JSON paths whose
    value still holds an OpenShift Template placeholder without a default;
    ``defaulted`` the paths whose value came from the chart's defaults, not
    from the user's file.
    """

    api_version: str
    kind: str
    name: str
    body: Mapping[str, Any]
    origin: Origin
    namespace: str | None = None
    chart: str | None = None
    unresolved: frozenset[JsonPath] = frozenset()
    defaulted: frozenset[JsonPath] = frozenset()
    #: Derived views (containers, images) computed once by ``checks.objects``:
    #: thirty rules ask for them, the body never changes.
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def ref(self) -> ObjectRef:
        """One per resource: every result about it shares it (and reports cache by it)."""
        return ObjectRef(self.api_version, self.kind, self.namespace, self.name)

    def is_defaulted(self, path: JsonPath) -> bool:
        """Did the value at ``path`` (or a parent of it) come from chart defaults?"""
        return any(path[:n] in self.defaulted for n in range(1, len(path) + 1))

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0] if "/" in self.api_version else ""


@dataclass(frozen=True)
class InputError:
    """A file or document that could not be read: always reported, never fatal."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class Skipped:
    """A file or document that is well formed but not something the rules read
    (a CI pipeline, a chart template, another chart's values): listed in every
    report with the reason, never a finding and never gating."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class Violation:
    """What a check template found wrong.

    ``resource`` is only set by whole-scan (set) checks, which must say which
    object the violation belongs to. ``observed`` must already be redacted by
    the check when it is a credential.
    """

    message: str
    path: JsonPath = ()
    observed: Any = None
    expected: Any = None
    resource: Resource | None = None
    #: Overrides the rule's severity for this finding (a rule that is an
    #: error in general but only a warning in a milder case).
    severity: Severity | None = None
    #: For a field holding an embedded document (a ConfigMap's YAML file):
    #: the line inside that text, 1-based, so the finding points into it.
    inner_line: int | None = None


@dataclass(frozen=True)
class NotEvaluated:
    """A check could not decide (placeholder, unknown version, ...): said why."""

    reason: str
    path: JsonPath = ()
    resource: Resource | None = None


Verdict = Violation | NotEvaluated


@dataclass(frozen=True)
class Reference:
    title: str
    url: str


class Result(NamedTuple):
    """One (rule x object) outcome, or a rule-level outcome when ``obj`` is None.

    A named tuple, not a dataclass: a large scan makes tens of thousands, and
    a tuple is built 3x faster and crosses a process boundary as plain data
    (see ``pack_results``).
    """

    rule_id: str
    product: str
    severity: Severity
    outcome: Outcome
    message: str
    title: str = ""
    obj: ObjectRef | None = None
    path: str | None = None
    line: int | None = None
    json_path: str | None = None
    remediation: str = ""
    observed: Any = None
    expected: Any = None
    #: The installation (one running instance of a product) the result is
    #: about; None for results about the whole scan (see engine.installations).
    installation: str | None = None
    #: The merge request's base (``--base``) or a baseline report already had
    #: this finding: reported, but it does not fail the gate.
    existing: bool = False

    @property
    def location(self) -> str:
        if self.path is None:
            return "-"
        return f"{self.path}:{self.line}" if self.line else self.path


def pack_results(results: Iterable[Result]) -> list[tuple[Any, ...]]:
    """Results as plain tuples for a pipe: pickle handles a tuple subclass through
    its constructor, one Python call per result; plain tuples it rebuilds in C."""
    return list(map(tuple, results))


def unpack_results(packed: Iterable[tuple[Any, ...]]) -> list[Result]:
    return list(map(Result._make, packed))
