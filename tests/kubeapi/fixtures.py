"""pytest fixtures for the test API server, registered for the whole suite by the root conftest.py.

def test_reader(kube_api, tmp_path):
    server = kube_api(objects, tokens={"t": Grant.admin()}, crds=[CRD(...)])
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig", token="t")
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.kubeapi.server import KubeAPIServer


@pytest.fixture
def kube_api() -> Iterator[Callable[..., KubeAPIServer]]:
    """A factory: kube_api(objects, tokens, crds, **options) -> a started KubeAPIServer, stopped after."""
    started: list[KubeAPIServer] = []

    def start(*args: Any, **kwargs: Any) -> KubeAPIServer:
        server = KubeAPIServer(*args, **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
