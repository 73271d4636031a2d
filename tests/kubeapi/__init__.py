"""A faithful test Kubernetes API server for tests of the cluster reader (see README.md here).

from tests.kubeapi import CRD, Grant, KubeAPIServer

with KubeAPIServer(objects, tokens={"t": Grant.read([("", "pods")])}, crds=[CRD(...)]) as server:
    kubeconfig = server.write_kubeconfig(tmp_path / "config", token="t")
"""

from tests.kubeapi.auth import Grant, Rule
from tests.kubeapi.catalog import CRD, PrinterColumn, ResourceType, guess_plural
from tests.kubeapi.handler import status_body
from tests.kubeapi.records import Fault, RequestRecord
from tests.kubeapi.server import KubeAPIServer

__all__ = [
    "CRD",
    "Fault",
    "Grant",
    "KubeAPIServer",
    "PrinterColumn",
    "RequestRecord",
    "ResourceType",
    "Rule",
    "guess_plural",
    "status_body",
]
