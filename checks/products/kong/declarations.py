"""Where Kong manifests declare the version they will run: the image tag."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from checks.engine.upgrade_path import Declaration, declares_target
from checks.model import Resource
from checks.objects import images_from, lookup, parse_image
from checks.products.kong.settings import KONG_IMAGES


@declares_target("kong")
def kong_versions(resources: Sequence[Resource]) -> Iterator[Declaration]:
    for resource in resources:
        if resource.chart == "kong":
            tag = lookup(resource.body, ("image", "tag"))
            effective = lookup(resource.body, ("image", "effectiveSemver"))
            unified = lookup(resource.body, ("image", "unifiedRepoTag"))
            if isinstance(effective, str) and effective:
                yield effective, resource, ("image", "effectiveSemver")
            elif isinstance(unified, str) and unified:
                # The chart runs `unifiedRepoTag` instead of repository:tag.
                yield parse_image(unified).tag, resource, ("image", "unifiedRepoTag")
            elif isinstance(tag, (str, int, float)):
                yield tag, resource, ("image", "tag")
            continue
        for container, image in images_from(resource, KONG_IMAGES):
            yield parse_image(image).tag, resource, (*container.path, "image")
