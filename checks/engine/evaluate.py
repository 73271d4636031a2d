"""Evaluation: every rule over every object it applies to -> Results.

The engine evaluates everything first and the pytest items only report, so
the verdict never depends on how pytest selects, orders or distributes items.
Every (rule x object) pair gets exactly one outcome per violation, and rules
that could not run say so: nothing is dropped silently.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from checks.engine.catalog import Catalog, Rule
from checks.engine.redact import Scrubber
from checks.engine.registry import get_template
from checks.engine.upgrade_path import UpgradeContext
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

LineOf = Callable[[Resource, JsonPath], int]


@dataclass
class Evaluation:
    results: list[Result] = field(default_factory=list)


def _verdicts(rule: Rule, matched: Sequence[Resource], ctx: UpgradeContext
              ) -> dict[int, list[Verdict]]:
    template = get_template(rule.check)
    assert template is not None, "catalog validation guarantees the template exists"
    by_resource: dict[int, list[Verdict]] = defaultdict(list)
    if template.scope == "set":
        for verdict in template.func(matched, rule.params, ctx):
            owner = verdict.resource
            if owner is None:
                raise RuntimeError(f"set check {rule.check!r} returned a verdict without a resource")
            by_resource[id(owner)].append(verdict)
    else:
        for resource in matched:
            by_resource[id(resource)].extend(template.func(resource, rule.params, ctx))
    return by_resource


class Evaluator:
    def __init__(self, catalog: Catalog, ctx: UpgradeContext, line_of: LineOf,
                 scrubber: Scrubber) -> None:
        self.catalog = catalog
        self.ctx = ctx
        self.line_of = line_of
        self.scrub = scrubber

    def _result(self, rule: Rule, outcome: Outcome, message: str, resource: Resource | None = None,
                path: JsonPath = (), verdict: Violation | None = None) -> Result:
        line = None
        if resource is not None:
            line = self.line_of(resource, path) if path else resource.origin.line
            if verdict is not None and verdict.inner_line is not None:
                line += verdict.inner_line  # block scalar text starts on the next line
        severity = verdict.severity if verdict and verdict.severity else rule.severity
        return Result(
            rule_id=rule.id, product=rule.product, severity=severity, outcome=outcome,
            message=self.scrub.text(message), title=rule.title,
            obj=resource.ref if resource else None,
            path=resource.origin.path if resource else None, line=line,
            json_path=format_json_path(path) if resource is not None else None,
            remediation=rule.remediation,
            observed=self.scrub.value(verdict.observed) if verdict else None,
            expected=self.scrub.value(verdict.expected) if verdict else None,
        )

    def evaluate_rule(self, rule: Rule, resources: Sequence[Resource]) -> list[Result]:
        matched = [r for r in resources if rule.applies(r)]
        if not matched:
            # Checked first: a rule about objects the scan does not have is not
            # applicable, whatever its path condition or mode would need.
            return [self._result(rule, Outcome.NOT_APPLICABLE,
                                 f"no {rule.scope_description()} in the scan")]
        if rule.mode == "live":
            return [self._result(rule, Outcome.NOT_EVALUATED,
                                 "live rule: needs a cluster or the product's API; "
                                 "only manifests were scanned")]
        if rule.when is not None:
            cond = self.ctx.check(rule.when)
            if cond.holds is None:
                return [self._result(rule, Outcome.NOT_EVALUATED, cond.reason)]
            if not cond.holds:
                return [self._result(rule, Outcome.NOT_APPLICABLE, cond.reason)]
        verdicts = _verdicts(rule, matched, self.ctx)
        out: list[Result] = []
        for resource in matched:
            found = verdicts.get(id(resource), [])
            violations = [v for v in found if isinstance(v, Violation)]
            for v in violations:
                out.append(self._result(rule, Outcome.FAILED, v.message, resource, v.path, v))
            if violations:
                continue
            skipped = [v for v in found if isinstance(v, NotEvaluated)]
            for n in skipped:
                out.append(self._result(rule, Outcome.NOT_EVALUATED, n.reason, resource, n.path))
            if not skipped:
                out.append(self._result(rule, Outcome.PASSED, "passed", resource))
        return out

    def evaluate(self, resources: Sequence[Resource]) -> list[Result]:
        results: list[Result] = []
        for rule in self.catalog.rules:
            results.extend(self.evaluate_rule(rule, resources))
        return results


def input_error_results(errors: Iterable[InputError]) -> list[Result]:
    """Bad input is a result like any other, of error severity for gating."""
    return [
        Result(rule_id="invalid-input", product="input", severity=Severity.ERROR,
               outcome=Outcome.INVALID_INPUT, message=e.reason, title="Input could not be read",
               path=e.path, line=e.line or None,
               remediation="Fix the file so it is valid UTF-8 YAML or JSON with one Kubernetes "
                           "object or Helm values mapping per document.")
        for e in errors
    ]
