"""``upgrade-lint`` through a real subprocess: exit codes, output, reports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checks import __version__
from tests.support import DEMO, REPO, write

SCRIPT = Path(sys.executable).parent / "upgrade-lint"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "checks.cli"]


def run(*args: str, cwd: Path = REPO, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], cwd=cwd, input=stdin.decode() if stdin else None,
                          capture_output=True, text=True, timeout=120)


def test_version_and_help() -> None:
    assert run("--version").stdout.strip() == f"upgrade-lint {__version__}"
    help_text = run("scan", "--help").stdout
    assert "exit codes:" in help_text and "--fail-on" in help_text and "--values" in help_text


def test_demo_scan_fails_with_contract_lines_and_writes_reports(tmp_path: Path) -> None:
    proc = run("scan", "fixtures/demo", "--target", "3scale=2.5.0", "--json", str(tmp_path / "r.json"),
               "--junit", str(tmp_path / "r.xml"), "--html", str(tmp_path / "r.html"))
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert ("fixtures/demo/apiconnect/gateway.yaml:18: apic-template-override (blocker) "
            "spec.template holds a template override; the operator will not upgrade a CR that "
            "contains one (1 entry) [ns:apic]") in lines
    assert lines[-6:] == ["failed: 13 (blocker 10, error 1, warning 1, info 1)",
                          "not-evaluated: 9 (blocker 5, warning 4)", "not-applicable: 8",
                          "passed: 49", "gating rules not evaluated: 5",
                          "upgrade-lint FAIL: 11 finding(s) at or above error; 10 object(s) in "
                          "8 file(s), 45 rule(s)"]
    assert "below --fail-on error (reported, not failing):" in lines
    # No --target kubernetes: the newest release of the table is the target, and said.
    assert ("k8s-removed-api (blocker) policy/v1beta1 PodDisruptionBudget is no longer served "
            "in Kubernetes 1.25 (target: newest in the table, 1.36 — give --target "
            "kubernetes=X); use policy/v1") in proc.stdout
    assert proc.stderr == ""
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["failed"] == 13
    assert (tmp_path / "r.xml").stat().st_size > 0 and (tmp_path / "r.html").stat().st_size > 0


def test_fail_on_threshold_changes_the_exit_code() -> None:
    kong = "fixtures/demo/kong/data-plane-values.yaml"
    assert run("scan", kong, "-k", "role-database").returncode == 1
    relaxed = run("scan", kong, "-k", "role-database", "--fail-on", "blocker")
    assert relaxed.returncode == 0
    assert "below --fail-on blocker (reported, not failing):" in relaxed.stdout


def test_clean_input_exits_zero(tmp_path: Path) -> None:
    backup = write(tmp_path / "kong_backup.yaml", (
        REPO / "fixtures/kong/kong-declarative-backup-missing/backups/kong_backup.yaml").read_text())
    proc = run("scan", "fixtures/corpus/kong", "--from", "kong=3.8.0", "--backup", f"kong={backup}")
    assert proc.returncode == 0 and "upgrade-lint PASS" in proc.stdout, proc.stdout


def test_markers_select_rules() -> None:
    proc = run("scan", "fixtures/demo", "-m", "kong and blocker")
    assert proc.returncode == 1
    assert "kong-dp-ahead-of-cp (blocker)" in proc.stdout
    assert "apic-" not in proc.stdout and "kong-role-database-mismatch (error)" not in proc.stdout


def test_stdin_input() -> None:
    data = (DEMO / "apiconnect" / "gateway.yaml").read_bytes()
    proc = run("scan", "-", stdin=data)
    assert proc.returncode == 1
    assert "<stdin>:18: apic-template-override (blocker)" in proc.stdout


def test_same_results_as_pytest(tmp_path: Path) -> None:
    shutil.copytree(DEMO, tmp_path / "demo")
    run("scan", "demo", "--json", "cli.json", cwd=tmp_path)
    subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                    "--upgrade-lint", "demo", "--upgrade-json", "py.json"],
                   cwd=tmp_path, capture_output=True, timeout=120)

    def outcomes(name: str) -> list[tuple[str, str, str, int]]:
        data = json.loads((tmp_path / name).read_text())
        return [(r["rule_id"], r["outcome"], r["path"], r["line"]) for r in data["results"]]

    assert outcomes("cli.json") == outcomes("py.json") and len(outcomes("cli.json")) == 77


@pytest.mark.parametrize(("args", "message"), [
    (("scan", "fixtures/demo", "--target", "kong"), "ERROR: --target expects PRODUCT=VERSION"),
    (("scan", "fixtures/demo", "--values", "helm=x.yaml"), "ERROR: --values expects CHART=FILE"),
    (("scan", "fixtures/demo", "--from", "apiconnect=ten"), "ERROR: --from apiconnect: 'ten'"),
    (("explain", "apic-template-overide"), "did you mean apic-template-override"),
])
def test_usage_errors_exit_2_without_traceback(args: tuple[str, ...], message: str) -> None:
    proc = run(*args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr + proc.stdout


def test_broken_catalog_exits_2_listing_every_problem(tmp_path: Path) -> None:
    write(tmp_path / "rules" / "kong" / "a.yaml", "id: a\n")
    write(tmp_path / "rules" / "kong" / "b.yaml", "id: [\n")
    for args in (("rules",), ("scan", str(DEMO))):
        proc = run(*args, "--rules", str(tmp_path / "rules"))
        assert proc.returncode == 2, proc.stdout
        assert re.search(r"rules/kong/a.yaml:1: \$: .*applies_to", proc.stderr), proc.stderr
        assert "rules/kong/b.yaml:2: YAML error:" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_bad_input_is_reported_not_fatal(tmp_path: Path) -> None:
    write(tmp_path / "m" / "bad.yaml", b"\xff\xfe\x00")
    write(tmp_path / "m" / "dup.yaml", "apiVersion: v1\nkind: ConfigMap\nkind: Secret\n")
    write(tmp_path / "m" / "gw.yaml", (DEMO / "apiconnect" / "gateway.yaml").read_text())
    proc = run("scan", "m", cwd=tmp_path)
    assert proc.returncode == 1
    assert "m/bad.yaml:1: invalid-input (error) file is UTF-16 encoded; convert it to UTF-8" \
        in proc.stdout
    assert ("m/dup.yaml:3: invalid-input (error) duplicate key 'kind' (first defined at line 2)"
            in proc.stdout)
    assert "m/gw.yaml:18: apic-template-override (blocker)" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_rules_and_explain() -> None:
    table = run("rules", cwd=Path("/")).stdout.splitlines()
    assert table[0].split() == ["ID", "PRODUCT", "SEVERITY", "MODE", "TITLE"]
    assert any(line.startswith("kong-role-database-mismatch") for line in table)
    text = run("explain", "3scale-mysql-plaintext-credentials").stdout
    for heading in ("What it checks:", "Why it matters:", "How to fix it:", "References:"):
        assert heading in text
    assert "https://docs.redhat.com/" in text


def test_docs_rules_md_is_generated_from_the_catalog() -> None:
    generated = run("rules", "--format", "markdown").stdout
    committed = (REPO / "docs" / "rules.md").read_text()
    assert generated == committed, "docs/rules.md is stale: upgrade-lint rules --format markdown"


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path) -> None:
    """`upgrade-lint scan ... | head`: the listing stops, the exit code does not
    change, the reports are complete and nothing is printed about the pipe."""
    for args, code in ((["scan", str(DEMO), "--json", str(tmp_path / "r.json")], 1),
                       (["rules"], 0)):
        proc = subprocess.Popen([*COMMAND, *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before the first line
        with proc.stderr:
            stderr = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == code, stderr
        assert "Traceback" not in stderr and "Broken pipe" not in stderr, stderr
    json.loads((tmp_path / "r.json").read_text())


#: Files rapidyaml rejects, each with the line the one-line reason must name.
BROKEN_YAML = {
    "flow.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\ndata:\n  a: [1, 2\n", 4),
    "complex-key.yaml": ("apiVersion: v1\nkind: ConfigMap\n? [a, b]\n: c\n", 3),
    "indent.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   bad: y\n", 5),
}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_yaml_parser_diagnostics_never_reach_the_terminal(tmp_path: Path, jobs: str) -> None:
    """rapidyaml's C++ error handler prints ``ERROR: [parse] ... .hpp`` to fd 2;
    the user sees only the invalid-input line, with file and line."""
    for name, (text, _) in BROKEN_YAML.items():
        write(tmp_path / "m" / name, text)
    proc = run("scan", "m", "--jobs", jobs, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr == ""
    assert "ERROR: [parse]" not in proc.stdout and ".hpp" not in proc.stdout
    invalid = [line for line in proc.stdout.splitlines() if "invalid-input (error)" in line]
    assert sorted(line.split(": invalid-input")[0] for line in invalid) == sorted(
        f"m/{name}:{line}" for name, (_, line) in BROKEN_YAML.items())


def test_unwritable_report_paths_are_one_line_usage_errors(tmp_path: Path) -> None:
    """A report path that is a directory, under a file, or in a read-only place:
    one line each, after the listing and the other reports; exit 2."""
    (tmp_path / "adir").mkdir()
    write(tmp_path / "afile", "x")
    read_only = "/sys/kernel/upgrade-lint.html"
    if not Path("/sys/kernel").is_dir():  # pragma: no cover - Linux CI has it
        pytest.skip("no read-only /sys here")
    proc = run("scan", str(DEMO), "--json", "adir", "--junit", "afile/r.xml",
               "--html", read_only, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert [line.split(": ")[0:2] for line in lines] == [
        ["upgrade-lint", "cannot write report adir"],
        ["upgrade-lint", "cannot write report afile/r.xml"],
        ["upgrade-lint", f"cannot write report {read_only}"]], proc.stderr
    assert lines[1] == "upgrade-lint: cannot write report afile/r.xml: afile is not a directory"
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("upgrade-lint FAIL: 8 finding(s)")
    # The reports that can be written are:
    proc = run("scan", str(DEMO), "--json", "adir", "--junit", "new/dir/r.xml", cwd=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1
    assert (tmp_path / "new" / "dir" / "r.xml").read_text().startswith("<?xml")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_json_report_to_standard_output(jobs: str) -> None:
    """``--json -``: standard output is the JSON document; the listing goes to stderr."""
    proc = run("scan", str(DEMO), "--json", "-", "--jobs", jobs)
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["summary"]["failed"] == 11 and len(data["results"]) == 77
    assert proc.stderr.splitlines()[-1].startswith("upgrade-lint FAIL: 8 finding(s)")
    junit = run("scan", str(DEMO), "--junit", "-")
    assert junit.stdout.startswith("<?xml") and junit.stdout.rstrip().endswith("</testsuites>")


def test_two_reports_to_standard_output_is_a_usage_error() -> None:
    proc = run("scan", str(DEMO), "--json", "-", "--html", "-")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "only one report can go to standard output (-), not json and html" in proc.stderr


@pytest.mark.parametrize(("selection", "message"), [
    (("-k", "no-such-rule"), "-k 'no-such-rule' selects no rule"),
    (("-m", "info and kong"), "-m 'info and kong' selects no rule"),
    (("-k", "kong", "-m", "apiconnect"), "-k 'kong' -m 'apiconnect' selects no rule"),
])
def test_a_selection_of_no_rule_is_a_usage_error(tmp_path: Path, selection: tuple[str, ...],
                                                 message: str) -> None:
    proc = run("scan", str(DEMO), *selection, "--json", str(tmp_path / "r.json"))
    assert proc.returncode == 2
    assert [line for line in proc.stderr.splitlines() if line] == [f"ERROR: {message}"]
    assert proc.stdout == "" and not (tmp_path / "r.json").exists()


def test_reports_record_the_selection_expression(tmp_path: Path) -> None:
    proc = run("scan", str(DEMO), "-k", "kong and not dp", "-m", "error",
               "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html"))
    assert proc.returncode == 1
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["selection"] == {"keyword": "kong and not dp", "markers": "error"}
    assert ("<tr><td>Selection</td><td><code>-k &#39;kong and not dp&#39; -m &#39;error&#39;"
            "</code>") in (tmp_path / "r.html").read_text()
    unselected = run("scan", str(DEMO), "--json", str(tmp_path / "all.json"))
    assert json.loads((tmp_path / "all.json").read_text())["selection"] == {
        "keyword": None, "markers": None}
    assert unselected.returncode == 1


def test_a_path_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    proc = run("scan", str(DEMO), "no/such.yaml", "--json", str(tmp_path / "r.json"))
    assert proc.returncode == 2
    assert [line for line in proc.stderr.splitlines() if line] == [
        "ERROR: cannot read no/such.yaml (no such file or directory)"]
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("data", [b"", b"\n", b"# a comment only\n---\n"])
def test_empty_standard_input_is_invalid_input(data: bytes) -> None:
    proc = subprocess.run([*COMMAND, "scan", "-"], input=data, capture_output=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stdout.decode().splitlines()[0] == (
        "<stdin>:1: invalid-input (error) no Kubernetes objects, Helm values of a supported chart or "
        "declarative gateway config in standard input")


def test_an_empty_report_path_is_a_usage_error() -> None:
    """An unset CI variable (``--json "$REPORT"``) silently wrote no report."""
    proc = run("scan", str(DEMO), "--json", "")
    assert proc.returncode == 2 and "expects a file name, or - for standard output" in proc.stderr
    assert "Traceback" not in proc.stderr
