"""The API7 control plane's image tag is the version being upgraded to."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from checks.engine.upgrade_path import Declaration, declares_target
from checks.model import Resource
from checks.objects import container_images, image_matches, lookup, parse_image

CP_COMPONENTS = ("dashboard", "dp_manager", "developer_portal")
CP_IMAGES = ("api7/api7-ee-3-integrated", "api7/api7-ee-dp-manager",
             "api7/api7-ee-developer-portal")


@declares_target("api7")
def api7_versions(resources: Sequence[Resource]) -> Iterator[Declaration]:
    for resource in resources:
        if resource.chart == "api7ee3":
            for component in CP_COMPONENTS:
                tag = lookup(resource.body, (component, "image", "tag"))
                if isinstance(tag, str) and tag:
                    yield tag, resource, (component, "image", "tag")
            continue
        for container, image in container_images(resource):
            if image_matches(image, CP_IMAGES):
                yield parse_image(image).tag, resource, (*container.path, "image")
