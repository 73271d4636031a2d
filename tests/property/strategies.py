"""Hypothesis strategies shared by the property tests: JSON-like values,
YAML-ish text, and Resources a rule's selectors match."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from checks.engine.catalog import Rule
from checks.model import Origin, Resource
from checks.sources import helm
from tests.hostile.wrong_types import field_paths, path_steps, selector_bodies, set_path

#: Scalars with the values real manifests and YAML 1.1 make awkward. Digit
#: strings over Python's 4,300-digit conversion limit are left to their own
#: test (test_huge_digit_versions), which is a known failure today: here they
#: would hide every other failure of the templates that parse versions.
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["", "off", "on", "yes", "no", "y", "~", "0x_", "010", "1_000", ".inf", "3.10",
                     "10.0.8.0", "v3.7.3", "latest", "${{PARAM}}", "{{ .Values.x }}", "\ud800",
                     "postgres://kong:pw@db/kong", "a\nb", "\x1b[2K"]),
)
JSON_LIKE = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10) | st.sampled_from(["spec", "metadata", "image", "tag"]),
                      children, max_size=4),
    max_leaves=25,
)
#: Text that looks like YAML often enough to get past the first character.
YAMLISH = st.lists(st.sampled_from([
    "apiVersion: v1\n", "kind: ConfigMap\n", "kind: Template\n", "kind: List\n", "metadata:\n",
    "  name: x\n", "---\n", "...\n", "- ", "  ", "\t", "&a ", "*a ", "!!int ", "!!set ", "!!map ",
    "[", "]", "{", "}", ", ", ": ", "0x_", "9" * 4400, "\"\\ud800\"", "'", "\"", "#", "\n", "? ",
    "<<: *a\n", "objects:\n", "items:\n", "${{P}}", "\ufeff", "\x00",
]), max_size=40).map("".join) | st.text(max_size=200)


def resource_for(rule: Rule, paths_values: list[tuple[str, Any]], extra: dict[str, Any]) -> Resource:
    """A Resource the rule's first selector matches, with values at its fields."""
    base = next(iter(selector_bodies(rule)))
    body: dict[str, Any] = {**extra, **base}
    for path, value in paths_values:
        set_path(body, path_steps(path), value)
    selector = rule.applies_to[0]
    metadata = body.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    name = name if isinstance(name, str) else "x"
    return Resource(
        api_version=str(body.get("apiVersion", "v1")) if selector.chart is None else helm.HELM_API_VERSION,
        kind=str(body.get("kind", "ConfigMap")) if selector.chart is None else helm.HELM_KIND,
        name=name, body=body, origin=Origin("property.yaml", 1, 1), namespace="hostile",
        chart=selector.chart)


def rule_fields(rule: Rule) -> list[str]:
    return sorted(field_paths(dict(rule.params)) | {"metadata.name", "spec.version", "spec"})
