"""Evaluation: every rule over every object it applies to -> Results.

The engine evaluates everything first and the pytest items only report, so
the verdict never depends on how pytest selects, orders or distributes items.
Every (rule x object) pair gets exactly one outcome per violation, and rules
that could not run say so: nothing is dropped silently.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from checks.engine.catalog import Catalog, Rule
from checks.engine.dedup import OnePerField
from checks.engine.echo import cut_message
from checks.engine.installations import (
    group_by_installation,
    installation_of,
    namespace_installation,
)
from checks.engine.live import LiveScope, is_live
from checks.engine.redact import Scrubber, credential_at
from checks.engine.registry import get_template
from checks.engine.upgrade_path import ScanContext
from checks.model import (
    InputError,
    JsonPath,
    NotEvaluated,
    Outcome,
    Resource,
    Result,
    Severity,
    Verdict,
    Violation,
    format_json_path,
)
from checks.sources.live.kinds import (
    NOT_INSTALLED_ENDING,
    absent_vendor_domains,
    is_not_served_reason,
    platform_lacks,
    vendor_domain,
    wanted_kinds,
)

#: Lines for many (resource, JSON path) pairs at once: the locator composes each
#: file once for all of its findings instead of once per finding.
LinesOf = Callable[[Sequence[tuple[Resource, JsonPath]]], list[int]]


@dataclass(slots=True)
class _Pending:
    """A result waiting for its line (looked up in one batch at the end)."""

    rule: Rule
    outcome: Outcome
    message: str
    resource: Resource | None = None
    path: JsonPath = ()
    verdict: Violation | None = None
    #: Set for outcomes about a whole installation (the rule does not apply
    #: to it, or cannot be decided there); object results derive it.
    installation: str | None = None


class ResourceIndex:
    """Resources by kind and chart, so a rule only looks at its candidates."""

    def __init__(self, resources: Sequence[Resource]) -> None:
        self.resources = list(resources)
        self.position = {id(r): i for i, r in enumerate(self.resources)}
        self.by_kind: dict[str, list[Resource]] = defaultdict(list)
        self.by_chart: dict[str, list[Resource]] = defaultdict(list)
        for resource in self.resources:
            self.by_kind[resource.kind].append(resource)
            if resource.chart:
                self.by_chart[resource.chart].append(resource)

    def matching(self, rule: Rule) -> list[Resource]:
        found: dict[int, Resource] = {}
        for selector in rule.applies_to:
            if selector.chart is not None:
                candidates = self.by_chart.get(selector.chart, [])
            elif selector.kinds:
                candidates = [r for kind in selector.kinds for r in self.by_kind.get(kind, [])]
            else:
                candidates = self.resources
            if selector.picks_all_candidates():  # by kind or chart alone: no test left
                found.update((id(resource), resource) for resource in candidates)
                continue
            for resource in candidates:
                if id(resource) not in found and selector.matches(resource):
                    found[id(resource)] = resource
        return sorted(found.values(), key=lambda r: self.position[id(r)])


def _verdicts(rule: Rule, matched: Sequence[Resource], ctx: ScanContext,
              everything: Sequence[Resource]) -> dict[int, list[Verdict]]:
    """Each resource's verdicts. An object check sees one resource with its
    installation's context; a whole-scan check sees one installation at a
    time, and the rule's objects in the others (``everything``) as
    ``elsewhere``, for components whose installation lacks their reference."""
    template = get_template(rule.check)
    assert template is not None, "catalog validation guarantees the template exists"
    by_resource: dict[int, list[Verdict]] = defaultdict(list)
    if template.scope == "set":
        groups = group_by_installation(matched, ctx.mapping)
        everywhere = group_by_installation(everything, ctx.mapping)
        for name, group in groups.items():
            elsewhere = {other: found for other, found in everywhere.items() if other != name}
            for verdict in template.func(group, rule.params, replace(ctx.of(name),
                                                                      elsewhere=elsewhere)):
                owner = verdict.resource
                if owner is None:
                    raise RuntimeError(f"set check {rule.check!r} returned a verdict without a "
                                       "resource")
                by_resource[id(owner)].append(verdict)
    else:
        for resource in matched:
            by_resource[id(resource)].extend(
                template.func(resource, rule.params, ctx.for_resource(resource)))
    return by_resource


def installation_gate(rule: Rule, ctx: ScanContext, installation: str
                      ) -> tuple[Outcome, str] | None:
    """Whether ``rule`` applies to ``installation`` at all (RULES.md, "When rules
    apply"), or the outcome that stands for all of its objects there."""
    here = ctx.of(installation)
    if rule.applicability == "migration" and rule.when is not None:
        # A migration step belongs to an upgrade: one must be planned, on the path.
        cond = here.planned(rule.product)
        if cond.holds:
            cond = here.check(rule.when)
    elif rule.applicability == "upgrade-evidence":
        cond = here.planned(rule.product)
        if cond.holds is None and rule.when is None:
            # Unknown whether an upgrade is planned: the template decides per
            # object, since an object that needs no evidence (a DB-less node
            # whose configuration is in its values) passes either way; one that
            # would need it is not evaluated (see products.backups).
            return None
        if cond.holds and rule.when is not None:
            cond = here.check(rule.when)
    else:
        reason = here.not_planned(rule.product)
        return (Outcome.NOT_APPLICABLE, reason) if reason else None
    if cond.holds is None:
        return Outcome.NOT_EVALUATED, cond.reason
    return None if cond.holds else (Outcome.NOT_APPLICABLE, cond.reason)


class Evaluator:
    def __init__(self, catalog: Catalog, ctx: ScanContext, lines_of: LinesOf,
                 scrubber: Scrubber, live: LiveScope | None = None) -> None:
        self.catalog = catalog
        #: The scan's live sources (see checks.engine.live): none by default.
        self.live = live or LiveScope()
        self.ctx = ctx
        self.lines_of = lines_of
        self.scrub = scrubber
        #: Redaction by field: one scrubber per distinct credential value.
        self.by_field: dict[tuple[str, ...], Scrubber] = {}
        #: Vendor domains with no CRD installed in the cluster (computed once).
        self._absent: set[str] | None = None

    def absent_domains(self) -> set[str]:
        """Vendor domains of the catalog's kinds none of whose CRDs the cluster
        has (see ``kinds.absent_vendor_domains``)."""
        if self._absent is None:
            self._absent = absent_vendor_domains(
                wanted_kinds(self.catalog.rules), self.live.unavailable,
                self.live.present_groups) if self.live.unavailable else set()
        return self._absent

    def rule_level(self, rule: Rule, any_matched: bool) -> _Pending | None:
        """The one result of a rule that does not look at objects, or None."""
        if not any_matched:
            # Checked first: a rule about objects the scan does not have is not
            # applicable, whatever its path condition or mode would need.
            return _Pending(rule, Outcome.NOT_APPLICABLE,
                            f"no {rule.scope_description()} in the scan")
        if rule.mode == "live" and not self.live.present:
            return _Pending(rule, Outcome.NOT_EVALUATED,
                            "live rule: needs a cluster or the product's API (--cluster or "
                            "--snapshot); only manifests were scanned")
        return None

    def installation_of(self, resource: Resource) -> str:
        return installation_of(resource, self.ctx.mapping)

    def gate_pending(self, rule: Rule, installations: Iterable[str]) -> list[_Pending]:
        """One outcome per installation the rule does not apply to, by name."""
        out = []
        for name in sorted(set(installations)):
            gate = installation_gate(rule, self.ctx, name)
            if gate is not None:
                out.append(_Pending(rule, gate[0], gate[1], installation=name))
        return out

    def open_resources(self, rule: Rule, matched: Sequence[Resource]) -> list[Resource]:
        """The matched objects in installations the rule applies to."""
        verdict: dict[str, bool] = {}
        out = []
        for resource in matched:
            name = self.installation_of(resource)
            if name not in verdict:
                verdict[name] = installation_gate(rule, self.ctx, name) is None
            if verdict[name]:
                out.append(resource)
        return out

    def applies_to(self, rule: Rule, resource: Resource) -> bool:
        """Does ``rule`` apply to the installation of ``resource``?"""
        return installation_gate(rule, self.ctx, self.installation_of(resource)) is None

    def drop_gated(self, rule: Rule, pending: Sequence[_Pending]) -> list[_Pending]:
        """Results evaluated before the context existed, less those of the
        installations the rule turns out not to apply to."""
        open_ = {id(r) for r in self.open_resources(rule, [p.resource for p in pending
                                                           if p.resource is not None])}
        return [p for p in pending if p.resource is None or id(p.resource) in open_]

    def object_pending(self, rule: Rule, matched: Sequence[Resource],
                       gates: bool = True, gated: bool = True) -> list[_Pending]:
        """One outcome per installation the rule does not apply to (``gates``),
        then one per violation, or per object when it has none. Without
        ``gated`` every object is evaluated (``--jobs`` workers evaluate before
        the context exists and drop the gated installations' results later)."""
        out = self.gate_pending(rule, map(self.installation_of, matched)) if gates else []
        evaluable = self.open_resources(rule, matched) if gated else matched
        verdicts = _verdicts(rule, evaluable, self.ctx, matched)
        once = OnePerField(rule, self.catalog, self.ctx, self.applies_to)
        for resource in evaluable:
            found = verdicts.get(id(resource), [])
            violations = once.keep(resource, [v for v in found if isinstance(v, Violation)])
            for v in violations:
                out.append(_Pending(rule, Outcome.FAILED, v.message, resource, v.path, v))
            if violations:
                continue
            skipped = [v for v in found if isinstance(v, NotEvaluated)]
            for n in skipped:
                out.append(_Pending(rule, Outcome.NOT_EVALUATED, n.reason, resource, n.path))
            if not skipped:
                out.append(_Pending(rule, Outcome.PASSED, "passed", resource))
        return out

    def evaluate_rule(self, rule: Rule, matched: Sequence[Resource]) -> list[_Pending]:
        if rule.mode == "live" and self.live.present:
            matched = [r for r in matched if is_live(r)]  # manifests are not what runs
        elif self.live.superseded:
            matched = [r for r in matched if id(r) not in self.live.superseded]
        refused = self.refused_pending(rule, bool(matched))
        if refused and not matched:
            return refused  # instead of "no X in the scan": the cluster did not say
        if rule.mode == "live" and self.live.present and not matched:
            return [_Pending(rule, Outcome.NOT_APPLICABLE,
                             f"no {rule.scope_description()} in the live source")]
        level = self.rule_level(rule, bool(matched))
        return [level] if level is not None else self.object_pending(rule, matched) + refused

    def refused_pending(self, rule: Rule, any_matched: bool) -> list[_Pending]:
        """One not-evaluated outcome per read of the rule's kinds that did not
        happen (per namespace when the read was). A kind the cluster does not
        serve has no objects: once the rule has objects to judge, or another of
        its kinds was served, it adds nothing."""
        out, seen = [], set()
        served = any_matched or self.live.reads_a_served_kind(rule)
        for item in self.live.refused_for(rule):
            if served and is_not_served_reason(item.reason):
                continue
            key = (item.namespace, item.reason)
            if key not in seen:
                seen.add(key)
                where = f" (namespace {item.namespace})" if item.namespace else ""
                # A platform without the API group (OpenShift's on Kubernetes),
                # or a cluster without any CRD of the product's vendor (no API
                # Connect installed), cannot hold the objects: nothing was left
                # unread.
                absent = (item.reason.endswith(NOT_INSTALLED_ENDING)
                          and vendor_domain(item.group) in self.absent_domains())
                outcome = (Outcome.NOT_APPLICABLE if platform_lacks(item.reason) or absent
                           else Outcome.NOT_EVALUATED)
                reason = (f"no {vendor_domain(item.group)} CRD is installed in this cluster "
                          f"({item.reason})" if absent else item.reason)
                out.append(_Pending(rule, outcome, f"{reason}{where}",
                                    installation=namespace_installation(item.namespace) if item.namespace
                                    else None))
        return out

    def results(self, pending: Sequence[_Pending]) -> list[Result]:
        """Pending outcomes -> Results, with every line looked up in one batch."""
        return self.with_lines(pending, self.lines_of(line_requests(pending)))

    def with_lines(self, pending: Sequence[_Pending], lines: Sequence[int]) -> list[Result]:
        """Results, given the lines of ``line_requests(pending)`` (in that order)."""
        found = iter(lines)
        line_of = {id(p): next(found) for p in pending if _needs_line(p)}
        results = []
        installation = self.installation_of
        for p in pending:
            resource, verdict = p.resource, p.verdict
            line = None
            if resource is not None and is_live(resource):
                line = None  # a live object has a URI, no lines
            elif resource is not None:
                line = line_of.get(id(p), resource.origin.line)
                if verdict is not None and verdict.inner_line is not None:
                    line += verdict.inner_line  # block scalar text starts on the next line
            severity = verdict.severity if verdict and verdict.severity else p.rule.severity
            rule = p.rule
            scrub = self.scrub
            if resource is not None and p.path and p.outcome is not Outcome.PASSED:
                field = credential_at(resource, p.path)  # redaction by field, first
                if field:
                    scrub = self._field_scrubber(tuple(field))
            results.append(Result(
                rule_id=rule.id, product=rule.product, severity=severity, outcome=p.outcome,
                # "passed" is ours; every other message may quote the scanned data.
                message=p.message if p.outcome is Outcome.PASSED else scrub.text(p.message),
                title=rule.title, obj=resource.ref if resource else None,
                path=resource.origin.path if resource else None, line=line,
                json_path=format_json_path(p.path) if resource is not None else None,
                remediation=rule.remediation,
                observed=scrub.value(verdict.observed) if verdict else None,
                expected=scrub.value(verdict.expected) if verdict else None,
                installation=installation(resource) if resource is not None else p.installation,
            ))
        return results

    def _field_scrubber(self, values: tuple[str, ...]) -> Scrubber:
        """One scrubber per distinct field value (building one compiles a regex:
        a scan's findings repeat the same few credentials)."""
        found = self.by_field.get(values)
        if found is None:
            found = self.by_field[values] = Scrubber(list(values), then=self.scrub)
        return found

    def evaluate(self, resources: Sequence[Resource]) -> list[Result]:
        index = ResourceIndex(resources)
        pending: list[_Pending] = []
        for rule in self.catalog.rules:
            pending.extend(self.evaluate_rule(rule, index.matching(rule)))
        return self.results(pending)


def line_requests(pending: Sequence[_Pending]) -> list[tuple[Resource, JsonPath]]:
    """The (resource, path) pairs whose lines ``pending`` needs, in order."""
    return [(p.resource, p.path) for p in pending if _needs_line(p) and p.resource is not None]


def _needs_line(pending: _Pending) -> bool:
    """Is a line looked up for this outcome? Not for live objects: their
    origin is a ``cluster://`` or ``snapshot://`` URI, not a file to read."""
    return pending.resource is not None and bool(pending.path) and not is_live(pending.resource)


def input_error_results(errors: Iterable[InputError]) -> list[Result]:
    """Bad input is a result like any other, of error severity for gating."""
    return [
        Result(rule_id="invalid-input", product="input", severity=Severity.ERROR,
               # The reason may quote the file (a key): cut like any echoed value.
               outcome=Outcome.INVALID_INPUT, message=cut_message(e.reason),
               title="Input could not be read",
               path=e.path, line=e.line or None,
               remediation="Fix the file so it is valid UTF-8 YAML or JSON with one Kubernetes "
                           "object or Helm values mapping per document.")
        for e in errors
    ]
