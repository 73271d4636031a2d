"""Documents with a wrong type at every field a rule of the catalog reads.

The field paths come from the catalog itself (every dotted string in a
rule's ``params``, such as ``spec.license.accept`` or
``spec.template.spec.containers[*].image``), so a rule added tomorrow is
covered without editing this file. Each path gets each wrong type in turn,
on an object each of the rule's selectors matches (a Helm values document
for chart rules).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from checks.engine.catalog import Rule
from tests.support import catalog

PRODUCTS = ("apiconnect", "api7", "kong", "3scale", "kubernetes")
_FIELD = re.compile(r"^[A-Za-z_][\w-]*(?:\.[\w\-*\[\]]+)+$")
#: Values of every JSON type but the expected one, plus the YAML 1.1 traps.
WRONG_VALUES: list[Any] = [None, True, 0, -1, 1.5, "", "x" * 300, [], [None, 1, "a"], {},
                           {"nested": {"deeper": [1]}}, "${{PARAM}}", "{{ .Values.x }}"]
#: Wrong values for a field's parents: a scalar and a list where a mapping is read.
WRONG_PARENTS: list[Any] = ["x", 1, [1]]
#: Content that makes a values document recognisable as its chart.
CHART_SEEDS: Mapping[str, Mapping[str, Any]] = {
    "kong": {"image": {"repository": "kong/kong-gateway", "tag": "3.4"}, "env": {"database": "postgres"}},
    "api7ee3": {"dashboard": {"image": {"tag": "3.2.0"}}},
    "api7-gateway": {"apisix": {"image": {"tag": "3.2.0"}}},
}


def field_paths(params: Any) -> set[str]:
    """Every dotted field path mentioned anywhere in a rule's params."""
    found: set[str] = set()
    if isinstance(params, str) and _FIELD.match(params):
        found.add(params)
    elif isinstance(params, Mapping):
        for value in params.values():
            found |= field_paths(value)
    elif isinstance(params, (list, tuple)):
        for value in params:
            found |= field_paths(value)
    return found


def path_steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in path.split("."):
        name, _, rest = part.partition("[")
        steps.append("x" if name == "*" else name)
        if rest:
            steps.append(0)
    return steps


def set_path(body: dict[str, Any], steps: list[str | int], value: Any) -> None:
    """Put ``value`` at ``steps``, replacing whatever is in the way by the
    container the next step needs."""
    node: Any = body
    for step, following in itertools.pairwise(steps):
        want: type = list if isinstance(following, int) else dict
        if isinstance(step, int):
            while len(node) <= step:
                node.append(None)
        child = node.get(step) if isinstance(node, dict) else node[step]
        if not isinstance(child, want):
            child = want()
            node[step] = child
        node = child
    last = steps[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
    node[last] = value


def selector_bodies(rule: Rule) -> Iterator[dict[str, Any]]:
    for selector in rule.applies_to:
        if selector.chart is not None:
            yield {**CHART_SEEDS.get(selector.chart, {})}
            continue
        api_version = (selector.api_version or "v1").replace("*", "x")
        body: dict[str, Any] = {"apiVersion": api_version, "kind": (selector.kinds or ("ConfigMap",))[0],
                                "metadata": {"name": (selector.name or "wrong").replace("*", "x"),
                                             "namespace": "hostile"}}
        if selector.images:
            image = selector.images[0].replace("*", "x")
            body["spec"] = {"template": {"spec": {"containers": [{"name": "c", "image": f"{image}:1.0"}]}},
                            "containers": [{"name": "c", "image": f"{image}:1.0"}]}
        yield body


def documents(product: str) -> str:
    """One YAML stream: per rule of ``product``, per selector, per field path
    (and each of its parents), per wrong value, one document."""
    docs: list[dict[str, Any]] = []
    for rule in catalog().rules:
        if rule.product != product:
            continue
        paths = field_paths(dict(rule.params)) | {"metadata.name", "spec", "spec.version"}
        for base in selector_bodies(rule):
            for path in sorted(paths):
                steps = path_steps(path)
                for cut in range(1, len(steps) + 1):
                    for value in WRONG_VALUES if cut == len(steps) else WRONG_PARENTS:
                        body = yaml.safe_load(yaml.safe_dump(base))
                        set_path(body, steps[:cut], value)
                        docs.append(body)
    # Every document on its own (nothing shared), each distinct one once.
    texts = dict.fromkeys("---\n" + yaml.safe_dump(doc, sort_keys=False) for doc in docs)
    return "".join(texts)
