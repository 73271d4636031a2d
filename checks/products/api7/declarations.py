"""The API7 control plane's image tag is the version being upgraded to; the
gateway's tag is declared too, so that an installation whose gateway moves
while its control plane stays is not taken for one with no upgrade planned."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from checks.engine.upgrade_path import Declaration, declares_target
from checks.model import Resource
from checks.objects import images_from, is_missing, lookup, parse_image, resource_repositories

#: The components that carry the control plane's release, and the developer
#: portal, which may lag behind it and declares the version only when neither
#: of the others is there.
RELEASE_COMPONENTS = ("dashboard", "dp_manager")
LAGGING_COMPONENTS = ("developer_portal",)
RELEASE_IMAGES = ("api7/api7-ee-3-integrated", "api7/api7-ee-dp-manager")
LAGGING_IMAGES = ("api7/api7-ee-developer-portal",)


def _declared(resources: Sequence[Resource], components: Sequence[str],
              images: Sequence[str]) -> Iterator[Declaration]:
    for resource in resources:
        if resource.chart == "api7ee3":
            for component in components:
                tag = lookup(resource.body, (component, "image", "tag"))
                if isinstance(tag, str) and tag:  # empty: the chart's appVersion, unknown
                    yield tag, resource, (component, "image", "tag")
            continue
        yield from _image_tags(resource, images)


def _image_tags(resource: Resource, images: Sequence[str]) -> Iterator[Declaration]:
    for container, image in images_from(resource, images):
        yield parse_image(image).tag, resource, (*container.path, "image")


def _names_release(resources: Sequence[Resource]) -> bool:
    """A dashboard or dp-manager tag is in the scan (an empty one too)."""
    return any(
        any(not is_missing(lookup(r.body, (c, "image", "tag"))) for c in RELEASE_COMPONENTS)
        if r.chart == "api7ee3" else
        not resource_repositories(r).isdisjoint(RELEASE_IMAGES)
        for r in resources)


GATEWAY_IMAGES = ("api7/api7-ee-3-gateway",)


def _gateways(resources: Sequence[Resource]) -> Iterator[Declaration]:
    for resource in resources:
        if resource.chart == "api7-gateway":
            tag = lookup(resource.body, ("apisix", "image", "tag"))
            if isinstance(tag, str) and tag:
                yield tag, resource, ("apisix", "image", "tag")
            continue
        yield from _image_tags(resource, GATEWAY_IMAGES)


@declares_target("api7")
def api7_versions(resources: Sequence[Resource]) -> Iterator[Declaration]:
    if _names_release(resources):
        yield from _declared(resources, RELEASE_COMPONENTS, RELEASE_IMAGES)
    else:
        yield from _declared(resources, LAGGING_COMPONENTS, LAGGING_IMAGES)
    yield from _gateways(resources)
