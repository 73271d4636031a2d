"""The rule catalog: rule files loaded with ruamel.yaml and validated twice.

Stage 1 validates each file against ``rule.schema.json``; stage 2 validates
its ``params`` against the schema of the check template it names. Problems
are collected across the whole catalog and reported at once as
``path:line: $.json.path: message``, so a broken catalog is fixed in one pass.
ruamel.yaml is used here (and not the fast manifest loader) because its
round-trip nodes remember the line of every key for those messages; the
catalog is small, so its cost does not matter.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml as pyyaml

from checks.engine.registry import get_template
from checks.engine.upgrade_path import PathCondition
from checks.engine.versions import VersionError, VersionRange
from checks.model import Reference, Resource, Severity, format_json_path
from checks.objects import resource_repositories

_FAST_LOADER = getattr(pyyaml, "CSafeLoader", pyyaml.SafeLoader)


class CatalogError(Exception):
    """The catalog cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class Selector:
    api_version: str | None = None
    kinds: tuple[str, ...] = ()
    name: str | None = None
    chart: str | None = None
    images: tuple[str, ...] = ()

    def picks_all_candidates(self) -> bool:
        """Does every object of the selector's kinds (or chart, or every object
        when it names neither) match? Then the index alone answers."""
        return self.api_version is None and self.name is None and not self.images and (
            self.chart is None or not self.kinds)

    def matches(self, resource: Resource) -> bool:
        if self.chart is not None and resource.chart != self.chart:
            return False
        if self.kinds and resource.kind not in self.kinds:
            return False
        if self.images and resource_repositories(resource).isdisjoint(self.images):
            return False
        if self.api_version is not None and not fnmatch.fnmatchcase(resource.api_version,
                                                                     self.api_version):
            return False
        return self.name is None or fnmatch.fnmatchcase(resource.name, self.name)

    def describe(self) -> str:
        if self.chart:
            return f"Helm values of chart {self.chart}"
        text = "/".join(self.kinds) or "object"
        if self.name:
            text += f" named {self.name}"
        if self.images:
            text += f" running {', '.join(self.images)}"
        return text


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    product: str
    severity: Severity
    mode: str
    applies_to: tuple[Selector, ...]
    check: str
    params: Mapping[str, Any]
    description: str
    rationale: str
    remediation: str
    references: tuple[Reference, ...]
    when: PathCondition | None = None
    tags: tuple[str, ...] = ()
    source: str = ""
    #: When the rule applies (RULES.md, "When rules apply"): ``blocking-state``
    #: (unless no upgrade is planned), ``upgrade-evidence`` (only when one is),
    #: ``migration`` (when current and target are in ``when``'s ranges).
    applicability: str = "blocking-state"
    #: More specific rules this one leaves a field to (see checks.engine.dedup).
    defer_to: tuple[str, ...] = ()

    def applies(self, resource: Resource) -> bool:
        return any(s.matches(resource) for s in self.applies_to)

    def scope_description(self) -> str:
        parts = [s.describe() for s in self.applies_to]
        separator = "; " if any(", " in p for p in parts) else ", "
        return separator.join(parts)


@dataclass(frozen=True)
class Catalog:
    rules: tuple[Rule, ...]
    digest: str
    root: str
    by_id: Mapping[str, Rule] = field(default_factory=dict)

    def get(self, rule_id: str) -> Rule | None:
        return self.by_id.get(rule_id)


#: The installed ``checks`` package (a directory: the wheel is not zip-safe).
_PACKAGE = Path(__file__).resolve().parents[1]


def default_rules_dir() -> Path:
    """Rules ship in the wheel as ``checks/_rules``; a source checkout has ``rules/``."""
    packaged = _PACKAGE / "_rules"
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / "rules"


@cache
def _rule_validator() -> Any:
    import jsonschema  # only when a catalog needs validating (see module docstring)

    text = (_PACKAGE / "engine" / "rule.schema.json").read_text("utf-8")
    return jsonschema.Draft202012Validator(json.loads(text))


def _params_validator(schema: Mapping[str, Any]) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(schema)


def _line_of(data: Any, path: Iterable[str | int]) -> int:
    """Line (1-based) of the deepest existing key on ``path`` in ruamel data."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    line = 1
    node = data
    for part in path:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _plain(value: Any) -> Any:
    """ruamel's round-trip types -> plain dict/list/str for the engine."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _schema_problems(validator: Any, instance: Any, data: Any,
                     display: str, prefix: tuple[str | int, ...] = ()) -> list[str]:
    problems = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path))):
        path = prefix + tuple(error.absolute_path)
        problems.append(f"{display}:{_line_of(data, path)}: {format_json_path(path)}: "
                        f"{error.message}")
    return problems


def _build_rule(raw: Mapping[str, Any], source: str) -> Rule:
    selectors = tuple(
        Selector(
            api_version=s.get("apiVersion"),
            kinds=tuple([s["kind"]] if isinstance(s.get("kind"), str) else s.get("kind", ())),
            name=s.get("name"), chart=s.get("chart"), images=tuple(s.get("image", ())),
        )
        for s in raw["applies_to"]
    )
    when = None
    if raw.get("when"):
        w = raw["when"]
        when = PathCondition(
            raw["product"],
            VersionRange(w["from"], raw["product"]) if "from" in w else None,
            VersionRange(w["to"], raw["product"]) if "to" in w else None,
        )
    return Rule(
        id=raw["id"], title=raw["title"], product=raw["product"],
        severity=Severity.parse(raw["severity"]), mode=raw["mode"], applies_to=selectors,
        check=raw["check"], params=raw.get("params", {}), description=raw["description"].strip(),
        rationale=raw["rationale"].strip(), remediation=raw["remediation"].strip(),
        references=tuple(Reference(r["title"], r["url"]) for r in raw["references"]),
        when=when, tags=tuple(raw.get("tags", ())), source=source, applicability=raw["applies"],
        defer_to=tuple(raw.get("defer_to", ())),
    )


def _fast_read(raw: bytes) -> Any:
    """Plain data of a rule file, or None when the careful reader must look."""
    try:
        return pyyaml.load(raw.decode("utf-8"), Loader=_FAST_LOADER)
    except (UnicodeDecodeError, pyyaml.YAMLError):
        return None


def _problems_fast(plain: Any, path: Path) -> bool:
    """Does this (quickly read) rule have any problem? Then re-read with lines."""
    if not isinstance(plain, dict) or any(_rule_validator().iter_errors(plain)):
        return True
    if plain.get("id") != path.stem or plain.get("product") != path.parent.name:
        return True
    template = get_template(plain["check"])
    if template is None or any(_params_validator(template.params_schema)
                               .iter_errors(plain.get("params", {}))):
        return True
    for key in ("from", "to"):
        text = plain.get("when", {}).get(key)
        try:
            if text is not None:
                VersionRange(text, plain["product"]).validate()
        except (VersionError, ValueError):
            return True
    return False


def _check_file(path: Path, raw_bytes: bytes, display: str, trusted: bool = False
                ) -> tuple[Rule | None, list[str]]:
    plain = _fast_read(raw_bytes)
    # Even a trusted rule resolves its template: that also imports the product
    # packages, whose upgrade-path declarations the scan needs.
    if (plain is not None and get_template(plain.get("check", "")) is not None
            and (trusted or not _problems_fast(plain, path))):
        return _build_rule(plain, display), []
    # Imported here: only a file with a problem needs ruamel.yaml's line numbers.
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="rt")
    try:
        data = yaml.load(raw_bytes.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return None, [f"{display}:1: not valid UTF-8 ({exc.reason})"]
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = " ".join(str(getattr(exc, "problem", exc)).split())
        return None, [f"{display}:{line}: YAML error: {problem}"]
    plain = _plain(data)
    problems = _schema_problems(_rule_validator(), plain, data, display)
    if problems:
        return None, problems
    if plain["id"] != path.stem:
        problems.append(f"{display}:{_line_of(data, ['id'])}: $.id: {plain['id']!r} must match "
                        f"the file name {path.stem!r}")
    if plain["product"] != path.parent.name:
        problems.append(f"{display}:{_line_of(data, ['product'])}: $.product: "
                        f"{plain['product']!r} must match the folder {path.parent.name!r}")
    template = get_template(plain["check"])
    if template is None:
        problems.append(f"{display}:{_line_of(data, ['check'])}: $.check: unknown check template "
                        f"{plain['check']!r}")
    else:
        validator = _params_validator(template.params_schema)
        problems += _schema_problems(validator, plain.get("params", {}), data, display, ("params",))
    for key in ("from", "to"):
        text = plain.get("when", {}).get(key)
        if text is None:
            continue
        try:
            VersionRange(text, plain["product"]).validate()
        except (VersionError, ValueError) as exc:
            problems.append(f"{display}:{_line_of(data, ['when', key])}: $.when.{key}: {exc}")
    problems.sort(key=lambda text: int(text[len(display) + 1:].split(":", 1)[0]))
    return (None if problems else _build_rule(plain, display)), problems


def load_catalog(root: Path | None = None, trust_validated: bool = True) -> Catalog:
    """Load and validate every ``<product>/<rule-id>.yaml`` below ``root``.

    With ``trust_validated`` (the default) a catalog whose digest matches
    ``VALIDATED`` skips schema validation; without it every check runs.
    """
    root = root or default_rules_dir()
    if not root.is_dir():
        raise CatalogError([f"{root}: rule directory not found"])
    files = sorted(root.glob("*/*.yaml"))
    if not files:
        raise CatalogError([f"{root}: no rule files (<product>/<rule-id>.yaml)"])
    problems: list[str] = []
    rules: list[Rule] = []
    raws = [path.read_bytes() for path in files]
    digest = _digest(root, files, raws)
    trusted = trust_validated and _validated_digest(root) == digest
    seen: dict[str, str] = {}
    for path, raw in zip(files, raws, strict=True):
        display = str(path.relative_to(root.parent)) if root.parent in path.parents else str(path)
        rule, file_problems = _check_file(path, raw, display, trusted)
        problems += file_problems
        if rule is None:
            continue
        if rule.id in seen:
            problems.append(f"{display}:1: $.id: duplicate rule id {rule.id!r} (also in "
                            f"{seen[rule.id]})")
            continue
        seen[rule.id] = display
        rules.append(rule)
    problems += _deference_problems(rules)
    if problems:
        raise CatalogError(problems)
    ordered = tuple(sorted(rules, key=lambda r: (r.product, r.id)))
    return Catalog(ordered, digest, str(root), {r.id: r for r in ordered})


def _deference_problems(rules: Sequence[Rule]) -> list[str]:
    """``defer_to`` names other rules that see one object at a time (the
    evaluator re-asks them about the object at hand; see checks.engine.dedup).
    Checked even for a trusted catalog: it is a relation between files."""
    by_id = {rule.id: rule for rule in rules}
    problems = []
    for rule in rules:
        for other_id in rule.defer_to:
            other = by_id.get(other_id)
            template = get_template(other.check) if other is not None else None
            if other_id == rule.id:
                why = "a rule cannot defer to itself"
            elif other is None or template is None:
                why = f"unknown rule {other_id!r}"
            elif template.scope != "object":
                why = f"rule {other_id!r} looks at the whole scan; only object rules can be deferred to"
            else:
                continue
            problems.append(f"{rule.source}:1: $.defer_to: {why}")
    return problems


def _digest(root: Path, files: Sequence[Path], raws: Sequence[bytes]) -> str:
    digest = hashlib.sha256()
    for path, raw in zip(files, raws, strict=True):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + raw + b"\0")
    return f"sha256:{digest.hexdigest()[:16]}"


def _validated_digest(root: Path) -> str | None:
    try:
        return (root / "VALIDATED").read_text("utf-8").strip()
    except OSError:
        return None


def validate_fully(root: Path | None = None) -> Catalog:
    """Load with every check, ignoring ``VALIDATED`` (for tests and the digest)."""
    return load_catalog(root, trust_validated=False)
