"""The pytest plugin end to end, through pytester: ids, markers, gating, fixtures."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.support import DEMO, write

GW = "demo/apiconnect/gateway.yaml"
GW_ITEM = ("upgrade-lint::apic-template-override[[]gateway.apiconnect.ibm.com/v1beta1/"
           f"GatewayCluster/apic/gw1 @ {GW}:18[]]")  # [ ] escaped for fnmatch


@pytest.fixture(autouse=True)
def demo(pytester: pytest.Pytester) -> str:
    """Users run from their repository root with relative paths: so do these tests."""
    shutil.copytree(DEMO, pytester.path / "demo")
    return "demo"


def test_demo_items_ids_outcomes_and_contract(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--upgrade-lint", "demo", "--upgrade-target", "3scale=2.5.0", "-v",
                                "-p", "no:cacheprovider")
    # 11 findings at or above error fail; the 2 below it pass with a warning; 27
    # rules' passing objects share one item each; the 7 not-evaluated results share
    # 6 items (one per rule and reason), plus 5 not applicable.
    result.assert_outcomes(failed=11, passed=29, skipped=16, warnings=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "upgrade-lint::apic-license-not-accepted[[]1 object passed[]] PASSED*",
        f"{GW_ITEM} FAILED*",
    ])
    result.stdout.fnmatch_lines([
        f"{GW}:18: apic-template-override (blocker) spec.template holds a template override; "
        "the operator will not upgrade a CR that contains one (1 entry)",
        "    remediation: Remove the `spec.template` section*",
    ])
    result.stdout.fnmatch_lines(["*= upgrade-lint =*",
                                 "failed: 13 (blocker 10, error 1, warning 1, info 1)",
                                 "not-evaluated: 9 (blocker 5, warning 4)", "not-applicable: 8",
                                 "passed: 49", "gating rules not evaluated: 5",
                                 "upgrade-lint FAIL: 11 finding(s) at or above error*"])


def test_markers_and_keywords_select_items(pytester: pytest.Pytester) -> None:
    blockers = pytester.runpytest("--upgrade-lint", "demo", "--upgrade-target", "3scale=2.5.0",
                                  "-m", "blocker and not kong")
    blockers.assert_outcomes(failed=9, passed=7, skipped=7)
    apic = pytester.runpytest("--upgrade-lint", "demo", "-k", "apic- and template")
    apic.assert_outcomes(failed=1, passed=1)
    nothing = pytester.runpytest("--upgrade-lint", "demo", "-m", "info and kong",
                                 "--upgrade-json", "r.json")
    assert nothing.ret == pytest.ExitCode.USAGE_ERROR
    nothing.stderr.fnmatch_lines(["ERROR: -m 'info and kong' selects no rule"])
    assert not (pytester.path / "r.json").exists()  # no report claiming a pass
    nowhere = pytester.runpytest("--upgrade-lint", "demo/no-such-dir")
    assert nowhere.ret == pytest.ExitCode.USAGE_ERROR
    nowhere.stderr.fnmatch_lines(["ERROR: cannot read demo/no-such-dir (no such file or directory)"])


def test_reports_record_the_selection(pytester: pytest.Pytester) -> None:
    pytester.runpytest("--upgrade-lint", "demo", "-k", "kong", "-m", "blocker",
                       "--upgrade-json", "r.json", "--upgrade-junit", "r.xml")
    data = json.loads((pytester.path / "r.json").read_text())
    assert data["selection"] == {"keyword": "kong", "markers": "blocker"}
    assert '<property name="upgrade-lint.selection.keyword" value="kong" />' in \
        (pytester.path / "r.xml").read_text()


def test_findings_below_fail_on_are_warnings(pytester: pytest.Pytester) -> None:
    kong = "demo/kong"
    result = pytester.runpytest("--upgrade-lint", kong, "--upgrade-fail-on", "blocker",
                                "-W", "error")
    result.assert_outcomes(failed=1, passed=11, skipped=36, warnings=1)
    result.stdout.fnmatch_lines(["*UpgradeLintFinding*kong-role-database-mismatch (error)*"])


def test_not_applicable_and_not_evaluated_are_skips_with_reasons(
        pytester: pytest.Pytester) -> None:
    only_gateway = GW
    result = pytester.runpytest("--upgrade-lint", only_gateway, "-rs")
    result.stdout.fnmatch_lines_random([
        f"SKIPPED [[]1[]] {GW}:7: not-evaluated: no management version in the scan to compare "
        "the gateway version 10.0.8.0 with",
        "SKIPPED [[]1[]] *rules/3scale/3scale-mysql-plaintext-credentials.yaml:1: "
        "not-applicable: no DeploymentConfig named system-mysql in the scan",
    ])


def test_reports_written_from_pytest(pytester: pytest.Pytester) -> None:
    out = pytester.path / "out"
    pytester.runpytest("--upgrade-lint", "demo", "--upgrade-target", "3scale=2.5.0",
                       "--upgrade-json", str(out / "r.json"),
                       "--upgrade-junit", str(out / "r.xml"), "--upgrade-html", str(out / "r.html"),
                       "-k", "kong")
    report = json.loads((out / "r.json").read_text())
    rule_ids = {r["rule_id"] for r in report["results"]}
    assert {"kong-dp-ahead-of-cp", "kong-role-database-mismatch"} <= rule_ids
    assert all(rule_id.startswith("kong-") for rule_id in rule_ids)
    assert (out / "r.xml").read_text().count("<testcase") == 14  # the selected items
    assert "<html" in (out / "r.html").read_text()


def test_own_checks_with_the_public_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_team_policy='''
        def test_every_gateway_declares_a_version(upgrade_resources):
            gateways = upgrade_resources.of_kind("GatewayCluster")
            assert len(gateways) == 1
            assert all(g.body["spec"].get("version") for g in gateways)

        def test_kong_values_found(upgrade_resources):
            assert len(upgrade_resources.helm_values("kong")) == 2

        def test_target_versions(upgrade_path):
            assert str(upgrade_path.path("apiconnect").target) == "10.0.8.0"

        def test_no_blocker_on_kong(upgrade_scan):
            assert not [r for r in upgrade_scan.results
                        if r.product == "kong" and r.outcome.value == "failed"
                        and r.severity.label == "blocker"]
    ''')
    result = pytester.runpytest("--upgrade-lint", "demo", "test_team_policy.py", "-k",
                                "test_")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_team_policy.py::test_no_blocker_on_kong*"])


def test_fixtures_skip_without_a_scan(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(upgrade_resources):\n    pass\n")
    pytester.runpytest().assert_outcomes(skipped=1)


def test_plugin_is_inert_without_the_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1)
    assert "= upgrade-lint =" not in result.stdout.str()
    assert "upgrade-lint::" not in result.stdout.str()


def test_broken_catalog_is_a_usage_error_without_traceback(pytester: pytest.Pytester) -> None:
    rules = pytester.path / "rules"
    write(rules / "kong" / "bad.yaml", "id: bad\nseverity: fatal\n")
    result = pytester.runpytest("--upgrade-lint", "demo", "--upgrade-rules", str(rules))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: rule catalog is invalid:",
                                 "rules/kong/bad.yaml:1: $: *applies_to*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_bad_option_values_are_usage_errors(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--upgrade-lint", "demo", "--upgrade-target", "kong=3.7.")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --target kong: '3.7.' is incomplete (ends with '.')"])
    result = pytester.runpytest("--upgrade-lint", "demo", "--upgrade-target", "oracle=1")
    result.stderr.fnmatch_lines(["ERROR: --target: unknown product 'oracle'*"])


def test_invalid_input_is_an_item_and_other_files_still_scanned(
        pytester: pytest.Pytester) -> None:
    write(pytester.path / "m" / "bad.yaml", "a: [1\n")
    write(pytester.path / "m" / "gw.yaml", (pytester.path / GW).read_text())
    result = pytester.runpytest("--upgrade-lint", "m", "-v")
    result.stdout.fnmatch_lines(["upgrade-lint::invalid-input[[]m/bad.yaml:2[]] FAILED*",
                                 "m/bad.yaml:2: invalid-input (error) YAML error: *"])
    assert "apic-template-override" in result.stdout.str()
    assert "Traceback" not in result.stdout.str()



def test_yaml_parser_diagnostics_never_reach_the_terminal(pytester: pytest.Pytester) -> None:
    """rapidyaml's C++ error text (``ERROR: [parse] ... .hpp``) goes to fd 2:
    a subprocess shows what the user's terminal would."""
    write(pytester.path / "m" / "bad.yaml", "apiVersion: v1\nkind: ConfigMap\n? [a, b]\n: c\n")
    result = pytester.runpytest_subprocess("--upgrade-lint", "m", "-v", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["m/bad.yaml:3: invalid-input (error) YAML error: *"])
    output = result.stdout.str() + result.stderr.str()
    assert "ERROR: [parse]" not in output and ".hpp" not in output, output


def test_a_selection_of_no_rule_under_xdist_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """The controller collects nothing itself: it learns from the workers that
    the selection kept no item, and must not report a pass."""
    result = pytester.runpytest_subprocess("--upgrade-lint", "demo", "-n", "2", "-k", "nosuch",
                                           "--upgrade-json", "r.json", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: -k 'nosuch' selects no rule"])
    assert "upgrade-lint PASS" not in result.stdout.str()
    assert not (pytester.path / "r.json").exists()


def test_unwritable_report_path_is_a_usage_error(pytester: pytest.Pytester) -> None:
    (pytester.path / "adir").mkdir()
    result = pytester.runpytest_subprocess("--upgrade-lint", "demo", "--upgrade-json", "adir",
                                           "--upgrade-junit", "out/r.xml", "-p",
                                           "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["upgrade-lint: cannot write report adir: *"])
    assert len(result.stderr.lines) == 1, result.stderr.lines
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert (pytester.path / "out" / "r.xml").stat().st_size > 0


def test_report_to_standard_output_needs_the_command_line(pytester: pytest.Pytester) -> None:
    """pytest's terminal output is on stdout: a report there would be corrupted."""
    result = pytester.runpytest("--upgrade-lint", "demo", "--upgrade-json", "-")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --upgrade-json -: standard output is pytest's "
                                 "terminal here; *"])


def _logreports(pytester: pytest.Pytester, *extra: str) -> list[tuple[object, ...]]:
    recorded = pytester.inline_run("--upgrade-lint", "demo", "-p", "no:cacheprovider",
                                   "-W", "ignore::UserWarning", *extra)
    return [(r.nodeid, r.when, r.outcome, r.location, sorted(r.keywords),
             str(r.longrepr) if r.longrepr is not None else None, r.sections,
             r.user_properties, r.start > 0)  # only pytest's protocol times phases
            for r in recorded.getreports("pytest_runtest_logreport")]


def test_lean_item_protocol_reports_what_pytests_protocol_reports(
        pytester: pytest.Pytester) -> None:
    """Rule items run with run_lean in ``upgrade-lint scan`` (--upgrade-lint-only)
    and under pytest while no other plugin looks at the test phases: every log
    report must match the one pytest's own protocol makes. A conftest with a
    phase hook (as allure or rerunfailures have) gets pytest's protocol."""
    lean_scan = _logreports(pytester, "--upgrade-lint-only")
    lean_pytest = _logreports(pytester)
    pytester.makeconftest("def pytest_runtest_setup(item):\n    pass\n")
    standard = _logreports(pytester)
    assert len(standard) == 3 * 55  # 11 failed, 27 passed, 17 skipped
    assert {r[2] for r in standard} == {"passed", "failed", "skipped"}
    assert {r[-1] for r in standard} == {True}
    assert {r[-1] for r in lean_scan} == {r[-1] for r in lean_pytest} == {False}
    assert [r[:-1] for r in lean_scan] == [r[:-1] for r in standard]
    assert [r[:-1] for r in lean_pytest] == [r[:-1] for r in standard]


def test_a_marker_a_conftest_adds_to_rule_items_is_honoured(pytester: pytest.Pytester) -> None:
    """The lean protocol reads no marker: an item a conftest marks ``skip``
    runs pytest's protocol, which skips it."""
    pytester.makeconftest("""
        import pytest

        def pytest_collection_modifyitems(items):
            for item in items:
                if "apic-license-not-accepted" in item.nodeid:
                    item.add_marker(pytest.mark.skip(reason="accepted by the change board"))
    """)
    result = pytester.runpytest("--upgrade-lint", "demo", "-p", "no:cacheprovider", "-rs")
    result.stdout.fnmatch_lines(["SKIPPED*accepted by the change board"])
    result.stdout.no_fnmatch_line("*FAILED*apic-license-not-accepted*")


@pytest.mark.parametrize("selection", [[], ["-k", "apic- or kong-role"]])
def test_xdist_workers_share_the_controllers_scan(pytester: pytest.Pytester,
                                                  selection: list[str]) -> None:
    """With pytest-xdist the controller scans once and runs the rule items:
    same outcomes and the same JSON report as one process, and no worker
    reads a manifest or the results (unless a test asks for them)."""
    import re

    pytester.makeconftest('''
        from pathlib import Path

        def pytest_sessionfinish(session):
            workerid = getattr(session.config, "workerinput", {}).get("workerid")
            plugin = session.config.pluginmanager.get_plugin("upgrade-lint-session")
            if workerid:
                Path(f"worker-{workerid}").write_text(str(plugin.shared))
    ''')

    def run(*extra: str) -> tuple[pytest.RunResult, str]:
        result = pytester.runpytest_subprocess("--upgrade-lint", "demo", "--upgrade-json",
                                               "r.json", "-p", "no:cacheprovider",
                                               *selection, *extra)
        report = (pytester.path / "r.json").read_text()
        return result, re.sub(r'"generated_at":"[^"]*","duration_seconds":[0-9.]+', "", report)

    alone, alone_report = run("-p", "no:xdist")
    shared, shared_report = run("-n", "2")
    assert shared.parseoutcomes()["failed"] == alone.parseoutcomes()["failed"]
    assert shared.parseoutcomes().get("passed") == alone.parseoutcomes().get("passed")
    assert shared_report == alone_report
    assert sorted(p.read_text() for p in pytester.path.glob("worker-gw*")) == ["False", "False"]


def test_xdist_workers_start_before_the_controllers_scan(pytester: pytest.Pytester) -> None:
    """The workers' start-up (interpreter, pytest, rule catalog) runs while
    the controller scans, not after: each is configured before the scan is
    done, and still loads it."""
    pytester.makeconftest('''
        from pathlib import Path

        def pytest_configure_node(node):
            plugin = node.config.pluginmanager.get_plugin("upgrade-lint-session")
            Path(f"node-{node.gateway.id}").write_text(str(plugin.scan is None))
    ''')
    result = pytester.runpytest_subprocess("--upgrade-lint", "demo", "-n", "2",
                                           "-p", "no:cacheprovider")
    assert (result.parseoutcomes()["failed"], result.parseoutcomes()["passed"]) == (8, 29)
    assert sorted(p.read_text() for p in pytester.path.glob("node-gw*")) == ["True", "True"]


def test_xdist_workers_stop_waiting_when_the_controllers_scan_fails(
        pytester: pytest.Pytester) -> None:
    """Workers wait for the controller's scan: a scan that fails must release
    them at once (no wait for xdist's shutdown timeout) and be reported once."""
    pytester.makeconftest('''
        from pathlib import Path

        def pytest_sessionfinish(session):
            workerid = getattr(session.config, "workerinput", {}).get("workerid")
            if workerid:  # reached only by a worker that stopped waiting (not killed)
                Path(f"ended-{workerid}").write_text("")
    ''')
    write(pytester.path / "old.json", "not a report\n")  # the scan reads it, the workers do not
    result = pytester.runpytest_subprocess("--upgrade-lint", "demo", "--upgrade-baseline",
                                           "old.json", "-n", "2", "-p", "no:cacheprovider",
                                           timeout=60)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --baseline old.json: not an upgrade-lint JSON report*"])
    assert sorted(p.name for p in pytester.path.glob("ended-gw*")) == ["ended-gw0", "ended-gw1"]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_xdist_worker_reads_the_objects_when_a_test_asks(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_own='''
        def test_gateways(upgrade_resources, upgrade_scan):
            assert [r.name for r in upgrade_resources.of_kind("GatewayCluster")] == ["gw1"]
            assert upgrade_scan.objects == len(upgrade_scan.resources) > 0
    ''')
    result = pytester.runpytest_subprocess("--upgrade-lint", "demo", "--upgrade-target",
                                           "3scale=2.5.0", "-n", "2",
                                           "-p", "no:cacheprovider", "test_own.py")
    outcomes = result.parseoutcomes()
    # The demo's rule items (11 failed, 29 passed) and the team's test, passed.
    assert (outcomes["failed"], outcomes["passed"]) == (11, 30)
    result.stdout.no_fnmatch_line("*FAILED test_own.py*")


def test_item_names_of_hostile_file_names_are_escaped(pytester: pytest.Pytester) -> None:
    """A file name with a newline and ESC: ``-v`` shows its item escaped, so no
    forged line and no control sequence reaches the CI log."""
    write(pytester.path / "in" / "x\nforged PASSED\x1b[2J.yaml", "a: [\n")
    result = pytester.runpytest("--upgrade-lint", "in", "-v", "-p", "no:cacheprovider")
    assert "\x1b" not in result.stdout.str()
    assert not any(line.startswith("forged") for line in result.stdout.lines)
    result.stdout.fnmatch_lines(
        ["upgrade-lint::invalid-input[[]in/x\\nforged PASSED\\x1b[[]2J.yaml:*[]] FAILED*"])


def test_failure_summary_does_not_search_the_rule_items_empty_phases(
        pytester: pytest.Pytester) -> None:
    """pytest's failure summary looks each failure's teardown report up among
    every passing setup and teardown report (quadratic in the items): the rule
    items' empty ones are gone from that list before it runs, and the summary
    still shows every failure, and a team test's teardown output."""
    pytester.makepyfile(test_team='''
        import pytest

        @pytest.fixture
        def noisy():
            yield
            print("teardown says hello")

        def test_fails_with_teardown_output(noisy):
            assert False
    ''')
    pytester.makeconftest('''
        import pytest

        @pytest.hookimpl(wrapper=True)
        def pytest_terminal_summary(terminalreporter):
            empty = terminalreporter.stats.get("", [])
            terminalreporter.write_line(
                f"EMPTY-PHASES rule={sum(r.nodeid.startswith('upgrade-lint::') for r in empty)} "
                f"team={sum(r.nodeid.startswith('test_team') for r in empty)}")
            return (yield)
    ''')
    result = pytester.runpytest("--upgrade-lint", "demo", "test_team.py", "-rA")
    failed = result.parseoutcomes()["failed"]
    assert failed > 2
    result.stdout.fnmatch_lines(["EMPTY-PHASES rule=0 team=2"])
    assert len([line for line in result.outlines if line.startswith("FAILED ")]) == failed
    result.stdout.fnmatch_lines(["*teardown says hello*"])
