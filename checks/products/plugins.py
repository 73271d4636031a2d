"""A plugin that must be removed before an upgrade: where it is configured.

Gateway configuration holds plugins in three shapes: maps keyed by plugin
name (ADC and APISIX ``plugins: {name: config}``), lists of entries with a
``name`` (ingress CRs' ``plugins: [{name, enable, config}]``), and bare name
strings. An entry the configuration switches off (``_meta.disable: true``,
``enable: false``) is not configured on the route, so it does not count.

Some configuration turns into the plugin without naming it: an ingress route
rule with several backends is translated into the plugin by the ingress
controller. And when the scan holds the product's installation but none of the
configuration sources, the plugin may still sit in the product's database: the
rule cannot tell, and says so on the installation instead of passing.

The template is whole-scan (``set``) because that last decision needs to know
whether any configuration source is in the scan at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from checks.engine.registry import Params, set_check
from checks.engine.upgrade_path import UpgradeContext
from checks.model import JsonPath, NotEvaluated, Resource, Verdict, Violation, format_json_path
from checks.objects import expand, lookup, split_path

_SWITCH_SCHEMA: Mapping[str, Any] = {
    "type": "object", "required": ["field", "equals"], "additionalProperties": False,
    "properties": {
        "field": {"type": "string", "description": "dotted path inside the plugin's entry"},
        "equals": {"description": "the value (with its YAML type) that switches it off"},
    },
}


@set_check("plugin-present", {
    "required": ["plugin", "locations"],
    "additionalProperties": False,
    "properties": {
        "plugin": {"type": "string"},
        "locations": {
            "type": "array", "minItems": 1,
            "items": {
                "type": "object", "required": ["kind", "paths"], "additionalProperties": False,
                "properties": {
                    "kind": {"type": "string"},
                    "paths": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                              "description": "wildcard paths to plugin maps (keys are plugin "
                                             "names), plugin lists (entries with a name) or "
                                             "plugin-name strings"},
                    "disabled_if": {**_SWITCH_SCHEMA,
                                    "description": "an entry with this value is switched off "
                                                   "and does not count"},
                },
            },
        },
        "implied_by": {
            "type": "array",
            "items": {
                "type": "object", "required": ["kind", "rules", "count", "min", "message"],
                "additionalProperties": False,
                "properties": {
                    "kind": {"type": "string"},
                    "rules": {"type": "string", "description": "wildcard path to each rule"},
                    "count": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                              "description": "lists inside a rule whose lengths add up"},
                    "min": {"type": "integer", "minimum": 1,
                            "description": "this many entries or more turn into the plugin"},
                    "message": {"type": "string",
                                "description": "{plugin}, {where} and {count} are replaced"},
                },
            },
            "description": "configuration that the controller translates into the plugin",
        },
        "unknown_without_source": {
            "type": "string",
            "description": "reason given on every other resource the rule applies to (the "
                           "installation) when the scan holds no resource of a location's kind",
        },
        "message": {"type": "string", "default": "{plugin} plugin configured at {where}"},
    },
})
def plugin_present(resources: Sequence[Resource], params: Params,
                   ctx: UpgradeContext) -> Iterator[Verdict]:
    """A plugin that must be removed is configured (and switched on) somewhere."""
    source_kinds = {location["kind"] for location in params["locations"]}
    source_kinds |= {implied["kind"] for implied in params.get("implied_by", ())}
    sources = [r for r in resources if r.kind in source_kinds]
    for resource in sources:
        yield from _configured(resource, params)
        yield from _implied(resource, params)
    reason = params.get("unknown_without_source")
    if sources or not reason:
        return
    for resource in resources:
        yield NotEvaluated(reason, (), resource)


def _switched_off(entry: Any, switch: Mapping[str, Any] | None) -> bool:
    if switch is None or not isinstance(entry, Mapping):
        return False
    value = lookup(entry, split_path(switch["field"]))
    return type(value) is type(switch["equals"]) and bool(value == switch["equals"])


def _hits(value: Any, path: JsonPath, plugin: str,
          switch: Mapping[str, Any] | None) -> Iterator[JsonPath]:
    """Paths of the switched-on plugin entries in a map, a list or a name."""
    if isinstance(value, Mapping):
        if plugin in value and not _switched_off(value[plugin], switch):
            yield (*path, plugin)
    elif isinstance(value, list):
        for index, entry in enumerate(value):
            if (isinstance(entry, Mapping) and entry.get("name") == plugin
                    and not _switched_off(entry, switch)):
                yield (*path, index, "name")
    elif value == plugin:
        yield path


def _configured(resource: Resource, params: Params) -> Iterator[Verdict]:
    plugin = params["plugin"]
    message = params.get("message", "{plugin} plugin configured at {where}")
    for location in params["locations"]:
        if location["kind"] != resource.kind:
            continue
        for pattern in location["paths"]:
            for path, value in expand(resource.body, pattern):
                for hit in _hits(value, path, plugin, location.get("disabled_if")):
                    yield Violation(message.format(plugin=plugin, where=format_json_path(hit)),
                                    hit, observed=plugin, resource=resource)


def _implied(resource: Resource, params: Params) -> Iterator[Verdict]:
    plugin = params["plugin"]
    for implied in params.get("implied_by", ()):
        if implied["kind"] != resource.kind:
            continue
        for path, rule in expand(resource.body, implied["rules"]):
            lists = [(name, lookup(rule, split_path(name))) for name in implied["count"]]
            present = [(name, v) for name, v in lists if isinstance(v, list) and v]
            count = sum(len(v) for _, v in present)
            if count < implied["min"]:
                continue
            where = (*path, *split_path(present[0][0]))
            yield Violation(implied["message"].format(plugin=plugin, count=count,
                                                      where=format_json_path(where)),
                            where, observed=count, resource=resource)
