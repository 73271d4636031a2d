"""Which origins are live reads rather than files.

Objects read from a cluster or replayed from a snapshot have a
``cluster://`` or ``snapshot://`` origin; objects a product probe made from a
product's own API (Kong Admin API, API7 dashboard) have the API's URL. None
of them has lines to look up, and rules of mode ``live`` judge exactly these.
"""

from __future__ import annotations

from checks.sources.live.model import is_api_path, is_live_path


def is_live_origin(path: str) -> bool:
    return is_live_path(path) or is_api_path(path)


def source_of(path: str) -> str:
    """``cluster://ctx``, ``snapshot://file`` or ``https://host:port`` of a live origin."""
    return "/".join(path.split("/", 3)[:3])
