"""A throwaway CA for the probes' test doubles, and its bundle for --ca-bundle."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def cert(ca: trustme.CA) -> trustme.LeafCert:
    """The servers' certificate: names the loopback addresses the doubles use."""
    return ca.issue_cert("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "localhost")


@pytest.fixture(scope="session")
def ca_bundle(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="session")
def other_ca_bundle(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A CA that did not sign the servers' certificate."""
    path: Path = tmp_path_factory.mktemp("other-ca") / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)
