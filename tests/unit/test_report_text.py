"""The reporting boundary (checks.reports.text): what each format may carry."""

from __future__ import annotations

import pytest

from checks.reports.text import for_terminal, for_xml


@pytest.mark.parametrize(("text", "shown"), [
    ("evil\ngood.yaml:1: forged", "evil\\ngood.yaml:1: forged"),
    ("x\x1b[2Ky", "x\\x1b[2Ky"),
    # Bidirectional overrides and isolates reorder a CI log line (a reviewer's attack).
    ("evil\u202egnp.yaml", "evil\\u202egnp.yaml"),
    ("a\u2066b\u2069c\u200fd", "a\\u2066b\\u2069c\\u200fd"),
    ("plain-name.yaml", "plain-name.yaml"),
])
def test_the_terminal_shows_control_and_bidi_characters_escaped(text: str, shown: str) -> None:
    assert for_terminal(text) == shown


def test_xml_keeps_newlines_and_tabs_but_not_other_controls() -> None:
    assert for_xml("a\tb\nc\x00d\ufffe") == "a\tb\nc\\x00d\\ufffe"
