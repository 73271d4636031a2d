"""How a probe reads the one Secret it needs (the DataPower admin credentials).

The cluster reader (``checks.sources.live.kube``) provides the implementation:
one GET of one Secret, values returned to the caller and never kept. This is
the same protocol, declared where the probes use it, so that the probes do not
depend on the cluster reader's module (any object with this ``read`` method
fits).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from checks.sources.live.model import Unavailable


class SecretReader(Protocol):
    def read(self, namespace: str, name: str) -> Mapping[str, bytes] | Unavailable:
        """The Secret's data, decoded from base64, or why it could not be read."""
        ...
