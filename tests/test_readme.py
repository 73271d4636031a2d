"""The README's promises: its example checks run, its options exist."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from tests.support import DEMO, REPO

README = (REPO / "README.md").read_text()


def test_own_checks_example_runs_green_on_the_demo(pytester: pytest.Pytester) -> None:
    block = re.search(r"<!-- example:own-checks -->\n```python\n(.*?)```", README, re.S)
    assert block, "README lost its own-checks example"
    shutil.copytree(DEMO, pytester.path / "manifests")
    (pytester.path / "tests_upgrade").mkdir()
    (pytester.path / "tests_upgrade" / "test_team_policy.py").write_text(block.group(1))
    result = pytester.runpytest("--upgrade-lint", "manifests/", "tests_upgrade/", "-k",
                                "team_policy")
    result.assert_outcomes(passed=3)


def _options(command: str) -> set[str]:
    """Options written after ``command`` on the lines that use it."""
    tails = [line.split(command, 1)[1].split("`")[0] for line in README.splitlines()
             if command in line]
    return {opt for tail in tails for opt in re.findall(r"(?<![\w-])--[a-z][a-z-]+", tail)}


def test_scan_options_in_the_readme_exist() -> None:
    help_text = subprocess.run([sys.executable, "-m", "checks.cli", "scan", "--help"],
                               capture_output=True, text=True, check=True).stdout
    usage = README.split("upgrade-lint scan [PATH...]", 1)[1].split("upgrade-lint rules", 1)[0]
    documented = _options("upgrade-lint scan") | set(re.findall(r"--[a-z][a-z-]+", usage))
    assert {"--values", "--fail-on", "--max-file-size", "--rules", "--junit"} <= documented
    for option in documented:
        assert option in help_text, option


def test_plugin_options_in_the_readme_exist(pytestconfig: pytest.Config) -> None:
    documented = set(re.findall(r"--upgrade-[a-z-]+", README)) | {"--upgrade-lint"}
    known = {opt for action in pytestconfig._parser._anonymous.options
             for opt in action.names()}
    for group in pytestconfig._parser._groups:
        known |= {opt for action in group.options for opt in action.names()}
    assert documented <= known, documented - known
