"""Product probes: what only the products' own management APIs can tell.

- DataPower gateway peering (``DataPowerPeeringStatus``), from each gateway
  pod's REST management interface, when the cluster has gateway pods;
- Kong control plane and its data planes (``KongClusterStatus``), from the
  Admin API URLs given;
- API7 dashboard version and gateway instances (``API7DashboardStatus``),
  from the dashboard URLs given.

Each probe answers with objects of the ``probes.upgrade-lint.io/v1`` API the
rules read like any other live object, or with an ``Unavailable`` that makes
those rules *not evaluated* with the reason. Only the probes whose inputs
exist run. Tokens come from the environment (``KONG_ADMIN_TOKEN``,
``API7_TOKEN``) and credentials from a Secret; none of them is ever shown.

A Kong or API7 URL option may be written ``NAMESPACE=URL`` (or
``NAMESPACE/URL``) to tie the product API to the installation in that
namespace; a plain URL has no namespace.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from checks.model import Resource
from checks.sources.live.model import PROBE_GROUP, LiveRead, Unavailable
from checks.sources.live.probes import api7, datapower, kong_admin
from checks.sources.live.probes.http import Failure, HttpClient, Target, parse_target
from checks.sources.live.probes.kong_admin import ProbeResult
from checks.sources.live.probes.secrets import SecretReader

__all__ = ["ProbeOptions", "SecretReader", "run_probes", "split_namespace"]

#: ``LiveRead.source`` of the probes' reads (the engine adds them to the cluster's).
SOURCE = "probes://"


@dataclass(frozen=True)
class ProbeOptions:
    datapower_secret: str | None = None     # NAMESPACE/NAME of a Secret with keys username/password
    datapower_port: int = 5554
    kong_admin_urls: tuple[str, ...] = ()   # control-plane Admin API URLs (token from KONG_ADMIN_TOKEN)
    api7_dashboard_urls: tuple[str, ...] = ()
    ca_bundle: str | None = None            # private CA; verification is ON by default
    timeout: float = 10.0
    #: The name the gateway pods' REST management certificate carries (it
    #: seldom names the pod IP): verified instead of the IP, as kubectl's
    #: --tls-server-name.
    datapower_tls_server_name: str | None = None


def run_probes(cluster: Sequence[Resource], options: ProbeOptions, secrets: SecretReader | None) -> LiveRead:
    """Run the probes whose inputs exist; never raises for what a product
    API refused or could not answer."""
    read = LiveRead(source=SOURCE)
    pods = datapower.gateway_pods(cluster)
    if not pods and not options.kong_admin_urls and not options.api7_dashboard_urls:
        return read
    client = HttpClient(ca_bundle=options.ca_bundle, timeout=options.timeout)
    if pods:
        credentials = datapower.read_credentials(options.datapower_secret, secrets)
        peering = datapower.probe_datapower(pods, client, options.datapower_port, credentials,
                                            options.datapower_tls_server_name)
        read.resources += peering.resources
        read.unavailable += peering.unavailable
    for option in options.kong_admin_urls:
        _add(read, option, kong_admin.KIND, kong_admin.probe_kong, client,
             os.environ.get(kong_admin.TOKEN_ENV) or None)
    for option in options.api7_dashboard_urls:
        _add(read, option, api7.KIND, api7.probe_api7, client, os.environ.get(api7.TOKEN_ENV) or None)
    read.requests = client.requests
    return read


def split_namespace(option: str) -> tuple[str | None, str]:
    """``NAMESPACE=URL`` or ``NAMESPACE/URL`` -> (namespace, URL); a plain URL
    -> (None, URL). Only text before the URL's scheme can be a namespace."""
    scheme_at = option.find("://")
    head = option[:scheme_at] if scheme_at >= 0 else ""
    for separator in ("=", "/"):
        namespace, sep, scheme = head.rpartition(separator)
        if sep and namespace:
            return namespace, scheme + option[scheme_at:]
    return None, option


#: A URL probe: (target, namespace, client, token) -> its object or why not.
ProbeFunction = Callable[[Target, str | None, HttpClient, str | None], ProbeResult]


def _add(read: LiveRead, option: str, kind: str, probe: ProbeFunction, client: HttpClient,
         token: str | None) -> None:
    namespace, url = split_namespace(option)
    target = parse_target(url)
    if isinstance(target, Failure):
        read.unavailable.append(Unavailable(PROBE_GROUP, kind, namespace, target.reason))
        return
    result = probe(target, namespace, client, token)
    read.notes += result.notes
    if result.resource is not None:
        read.resources.append(result.resource)
    if result.unavailable is not None:
        read.unavailable.append(result.unavailable)
