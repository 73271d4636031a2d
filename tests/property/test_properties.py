"""Property-based tests (Hypothesis): arbitrary JSON-like documents and text
through the loaders, version parsing for every product, and every check
template of the catalog with random Resources never raise anything but the
tool's own typed errors (README: "Bad input never crashes the run").

Derandomized and bounded, so CI time stays small and a failure reproduces.
Failures that other branches are fixing are listed in
tests/hostile/known_broken.py (strict xfail).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks.engine.catalog import CatalogError, Rule
from checks.engine.registry import templates
from checks.engine.upgrade_path import UpgradeContext
from checks.engine.versions import SCHEMES, VersionError, VersionRange, parse_version
from checks.model import InputError, Verdict
from checks.sources.fastyaml import load_documents
from checks.sources.manifests import ManifestSet, load_text
from checks.sources.yaml11 import Document, iter_documents
from tests.hostile.known_broken import KNOWN_BROKEN
from tests.property.strategies import JSON_LIKE, SCALARS, YAMLISH, resource_for, rule_fields
from tests.support import catalog

#: What the tool itself raises on purpose; anything else escaping is a crash.
TOOL_ERRORS: tuple[type[Exception], ...] = (VersionError, CatalogError)
BOUNDED = settings(derandomize=True, max_examples=150, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PER_RULE = settings(BOUNDED, max_examples=40)


def known(test_id: str) -> list[Any]:
    reason = KNOWN_BROKEN.get(test_id)
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


def _texts(value: Any) -> list[str]:
    """The document as YAML (block and flow) and as JSON, as users write it.
    Non-ASCII is escaped: a file's text is strictly decoded UTF-8, so the
    loaders never see a lone surrogate unescaped."""
    texts = [json.dumps(value)]
    for flow in (False, True):
        # PyYAML may not represent it (a lone surrogate); JSON still can.
        with contextlib.suppress(yaml.YAMLError):
            texts.append(yaml.safe_dump(value, default_flow_style=flow))
    return texts


def _drain_loaders(text: str) -> None:
    streams: list[Iterator[Document | InputError]] = [
        iter_documents(text, "p.yaml"), load_documents(text, "p.yaml"),
        load_documents(text, "p.yaml", careful=True)]
    for stream in streams:
        for item in stream:
            assert isinstance(item, (Document, InputError))
    for chart in (None, "kong"):
        load_text(text, "p.yaml", chart, ManifestSet())


@pytest.mark.parametrize("kind", [pytest.param(kind, marks=known(f"property:loaders-json-like-{kind}"))
                                  for kind in ("plain", "ConfigMap", "Template", "List", "Secret")])
@BOUNDED
@given(value=JSON_LIKE)
def test_loaders_take_any_json_like_document(kind: str, value: Any) -> None:
    if kind != "plain":
        value = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "p"},
                 "objects" if kind == "Template" else "items" if kind == "List" else "data": value}
    for text in _texts(value):
        _drain_loaders(text)


@pytest.mark.parametrize("test_id", [pytest.param("property:loaders-text",
                                                  marks=known("property:loaders-text"))])
@BOUNDED
@given(text=YAMLISH)
def test_loaders_take_any_text(test_id: str, text: str) -> None:
    _drain_loaders(text)


VERSIONISH = st.from_regex(r"\A[vV]?[0-9]{1,6}(\.[0-9x*]{0,4}){0,5}([-_+.][0-9A-Za-z.+_-]{0,10})?\Z") \
    | st.text(max_size=30) | SCALARS


@pytest.mark.parametrize("product", sorted(SCHEMES))
@BOUNDED
@given(text=VERSIONISH)
def test_parse_version_raises_only_version_error(product: str, text: Any) -> None:
    try:
        version = parse_version(product, text)
    except VersionError:
        return
    assert version.release and str(version)
    assert version == parse_version(product, str(version))


@pytest.mark.parametrize("product", [pytest.param(p, marks=known(f"property:huge-digit-version-{p}"))
                                     for p in sorted(SCHEMES)])
@pytest.mark.parametrize("digits", ["9" * 5000, "1." + "9" * 5000, "1.0.0-ifix" + "9" * 5000])
def test_huge_digit_versions(product: str, digits: str) -> None:
    """A 5,000-digit version part is not a version: VersionError, not Python's
    int-conversion limit."""
    with pytest.raises(VersionError):
        parse_version(product, digits)
    with pytest.raises(VersionError):
        VersionRange(f">={digits}", product).validate()


CLAUSE = st.tuples(st.sampled_from(["", ">=", "<=", "==", "!=", ">", "<", "="]), VERSIONISH).map(
    lambda pair: f"{pair[0]}{pair[1]}")


@pytest.mark.parametrize("product", [pytest.param(p, marks=known(f"property:version-range-{p}"))
                                     for p in sorted(SCHEMES)])
@BOUNDED
@given(clauses=st.lists(CLAUSE, min_size=1, max_size=3), probe=VERSIONISH)
def test_version_range_raises_only_version_error(product: str, clauses: list[str], probe: Any) -> None:
    version_range = VersionRange(", ".join(clauses), product)
    try:
        version_range.validate()
        version = parse_version(product, probe)
    except VersionError:
        return
    with contextlib.suppress(VersionError):
        assert isinstance(version_range.contains(version), bool)


def _rules() -> list[Any]:
    return [pytest.param(rule, id=rule.id, marks=known(f"property:template-{rule.id}"))
            for rule in catalog().rules]


def test_every_template_is_exercised_by_a_rule() -> None:
    used = {rule.check for rule in catalog().rules}
    assert set(templates()) <= used, sorted(set(templates()) - used)


@pytest.mark.parametrize("rule", _rules())
@PER_RULE
@given(data=st.data())
def test_check_template_takes_any_resource(rule: Rule, data: st.DataObject) -> None:
    fields = rule_fields(rule)
    chosen = data.draw(st.lists(st.sampled_from(fields), max_size=4), label="fields")
    values = [(path, data.draw(JSON_LIKE, label=path)) for path in chosen]
    extra = data.draw(st.dictionaries(st.sampled_from(["spec", "status", "data", "env", "image"]),
                                      JSON_LIKE, max_size=2), label="extra")
    resources = [resource_for(rule, values, extra)]
    if data.draw(st.booleans(), label="second resource"):
        resources.append(resource_for(rule, [], {}))
    template = templates()[rule.check]
    context = UpgradeContext()
    try:
        if template.scope == "object":
            verdicts: list[Verdict] = [v for r in resources for v in template.func(r, rule.params, context)]
        else:
            verdicts = list(template.func(resources, rule.params, context))
    except TOOL_ERRORS:
        return
    assert all(v is not None for v in verdicts)
