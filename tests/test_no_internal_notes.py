"""User-facing text cites vendor documents by title and section, never the
project's internal notes (seed numbers, FACTS sections, research markers)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from checks.cli import explain_text
from tests.support import REPO, catalog

INTERNAL_NOTE = re.compile(
    r"\bseeds?\b(?! *=)|(?-i:\bFACTS\b)|\[(?:inferred|unconfirmed|confirmed|observed)[^\]]*\]|garbled"
    r"|stored copy|corpus observation", re.IGNORECASE)


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _strings(item)


def test_the_marker_pattern_catches_what_it_must() -> None:
    for note in ("(seed 004, 2.3)", "Seed 000 step 3.2", "the seed's wording", "FACTS 1.3",
                 "is [inferred] from", "[unconfirmed]", "garbled in the stored copy"):
        assert INTERNAL_NOTE.search(note), note
    for fine in ("random.Random(seed=7)", "seeded corpus", "artifacts", "the facts"):
        assert not INTERNAL_NOTE.search(fine), fine


@pytest.mark.parametrize("rule", catalog().rules, ids=lambda rule: rule.id)
def test_rule_text_has_no_internal_notes(rule: Any) -> None:
    texts = [rule.title, rule.description, rule.rationale, rule.remediation,
             *(ref.title for ref in rule.references), *_strings(rule.params),
             explain_text(rule)]
    found = [match.group(0) for text in texts for match in INTERNAL_NOTE.finditer(text)]
    assert found == []


def test_explain_prints_the_text_checked_above() -> None:
    """``upgrade-lint explain`` prints ``explain_text``, which the test above
    checks for every rule."""
    rule = catalog().rules[0]
    text = subprocess.run([sys.executable, "-m", "checks.cli", "explain", rule.id],
                          capture_output=True, text=True, check=True).stdout
    assert text == explain_text(rule) + "\n"


@pytest.mark.parametrize("pattern", ["checks/**/*.py", "checks/**/*.j2", "docs/*.md",
                                     "README.md", "rules/**/*.yaml",
                                     "fixtures/demo/**/*.yaml", "fixtures/demo/**/*.md"])
def test_sources_of_user_text_have_no_internal_notes(pattern: str) -> None:
    """Messages are built in checks/, rule text lives in rules/, docs are read
    as they are: none of them may quote an internal note."""
    found = [f"{path.relative_to(REPO)}:{n}: {line.strip()}"
             for path in sorted(REPO.glob(pattern))
             for n, line in enumerate(path.read_text().splitlines(), start=1)
             if INTERNAL_NOTE.search(line)]
    assert found == []
