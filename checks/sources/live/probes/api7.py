"""API7 Enterprise, read from its dashboard: the control plane's version
(``GET /api/version`` answers ``{"value": "3.7.3"}``) and the gateway
instances it knows (``GET /api/instances``).

The field names of an instance (version, status, heartbeat) are not
documented, so instances are kept exactly as the dashboard returns them and
the rules read what they find. The list is paginated the dashboard's way
(``page``/``page_size``, answered as ``{"list": [...], "total": N}``); an
answer that is a bare list is taken whole.
"""

from __future__ import annotations

from typing import Any

from checks.sources.live.probes.http import Failure, HttpClient, Target, status_reason
from checks.sources.live.probes.kong_admin import ApiProbe, ProbeResult, api_status, utc_now

KIND = "API7DashboardStatus"
TOKEN_ENV = "API7_TOKEN"
TOKEN_HEADER = "X-API-KEY"
WHAT = "the API7 dashboard"
VERSION_PATH = "/api/version"
INSTANCES_PATH = "/api/instances"
PAGE_SIZE = 100
#: Pages read at most (10,000 instances); beyond, the list is not trusted.
MAX_PAGES = 100


def probe_api7(target: Target, namespace: str | None, client: HttpClient, token: str | None) -> ProbeResult:
    """One dashboard: its version and its gateway instances."""
    probe = ApiProbe.start(KIND, WHAT, target, namespace, token, TOKEN_ENV, TOKEN_HEADER)
    result, headers, credentials, unavailable = (probe.result, probe.headers, probe.credentials,
                                                 probe.unavailable)

    answer = client.get_json(target.at(VERSION_PATH), headers=headers, what=WHAT)
    if isinstance(answer, Failure):
        return unavailable(f"GET {VERSION_PATH}: {answer.reason}")
    if answer.status != 200:
        return unavailable(f"GET {VERSION_PATH} {status_reason(answer.status, credentials)}")
    version = answer.body.get("value") if isinstance(answer.body, dict) else None
    if not isinstance(version, str):
        return unavailable(f"GET {VERSION_PATH} answered JSON without a version value: is this {WHAT}?")
    probed_at = utc_now()
    instances = _instances(target, client, headers, credentials)
    if isinstance(instances, str):
        return unavailable(instances)
    result.resource = api_status(KIND, target, namespace, {
        "version": version, "gateways": instances, "probedAt": probed_at})
    return result


def _instances(target: Target, client: HttpClient, headers: dict[str, str],
               credentials: str) -> list[Any] | str:
    """Every page of the instances list, or why it could not be read."""
    items: list[Any] = []
    for page in range(1, MAX_PAGES + 1):
        answer = client.get_json(target.at(f"{INSTANCES_PATH}?page={page}&page_size={PAGE_SIZE}"),
                                 headers=headers, what=WHAT)
        if isinstance(answer, Failure):
            return f"GET {INSTANCES_PATH}: {answer.reason}"
        if answer.status != 200:
            return f"GET {INSTANCES_PATH} {status_reason(answer.status, credentials)}"
        body = answer.body
        if isinstance(body, list):
            return body
        listed = body.get("list") if isinstance(body, dict) else None
        if not isinstance(listed, list):
            return f"GET {INSTANCES_PATH} answered JSON without a list of instances"
        items.extend(listed)
        total = body.get("total")
        if not listed or not isinstance(total, int) or len(items) >= total:
            return items
    return f"GET {INSTANCES_PATH}: more than {MAX_PAGES} pages: not read to the end"
