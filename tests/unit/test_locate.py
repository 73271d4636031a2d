"""Line lookup for findings: the key's line, or the nearest ancestor that exists."""

from __future__ import annotations

import pytest

from checks.model import Origin
from checks.sources.locate import LineLocator

TEXT = """\
first: doc
---
apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    cert-manager.io/issuer: x
base: &base
  image: a
spec:
  <<: *base
  containers:
  - name: c
    env:
    - name: A
      value: "1"
  y: yes-key
"""


@pytest.fixture
def locator() -> LineLocator:
    return LineLocator(lambda path: TEXT if path == "f.yaml" else None)


@pytest.mark.parametrize(("path", "line"), [
    ((), 3),
    (("kind",), 4),
    (("metadata", "annotations", "cert-manager.io/issuer"), 8),
    (("spec", "containers", 0, "env", 0, "value"), 17),
    (("spec", "containers", 0, "env", 5, "value"), 15),  # missing index -> env
    (("spec", "missing", "deeper"), 11),  # missing key -> spec
    (("spec", "image"), 10),  # through the merge key to the anchored mapping
    (("spec", "true"), 18),  # `y:` is the JSON key "true"
])
def test_lines(locator: LineLocator, path: tuple[str | int, ...], line: int) -> None:
    assert locator.line(Origin("f.yaml", 3, doc_index=2), path) == line


def test_prefix_for_template_objects(locator: LineLocator) -> None:
    origin = Origin("f.yaml", 14, doc_index=2, prefix=("spec", "containers", 0))
    assert locator.line(origin, ("env", 0, "name")) == 16


def test_unreadable_file_falls_back_to_the_document_line(locator: LineLocator) -> None:
    assert locator.line(Origin("gone.yaml", 7, doc_index=1), ("a",)) == 7


def test_remembered_lines_are_answered_without_reading_the_file() -> None:
    """A ``--jobs`` worker sends the lines of the fields that declare versions;
    the parent's upgrade context names them without composing the document."""
    def unreadable(path: str) -> str | None:
        raise AssertionError(f"{path} read")

    locator = LineLocator(unreadable)
    declared = Origin("f.yaml", 3, doc_index=2)
    locator.remember([(declared, ("spec", "image"), 10)])
    assert locator.line(declared, ("spec", "image")) == 10
    with pytest.raises(AssertionError, match=r"f\.yaml read"):
        locator.line(declared, ("kind",))  # not remembered: looked up
