"""`tapaudit fix` through run_fix: the diff, --write, exit codes, settings, refusals, and the
hand-written edge cases of fixtures/autofix (their --write results pinned in expected/)."""

from __future__ import annotations

import io
import shutil
import stat
from pathlib import Path

import pytest

from tapaudit.fixing.command import run_fix
from tests.conftest import FIXTURES
from tests.fixing.test_report_offers import apply_sarif

AUTOFIX = FIXTURES / "autofix"
EDGE_CASES = sorted(p for p in AUTOFIX.iterdir() if p.is_file())


def fix(*paths: Path, write: bool = False, rules: tuple[str, ...] = (), config: Path | None = None):
    out, err = io.StringIO(), io.StringIO()
    code = run_fix([str(p) for p in paths], list(rules), write, config, config is None, out, err)
    return code, out.getvalue(), err.getvalue()


def copy(tmp_path: Path, *sources: Path) -> list[Path]:
    copies = []
    for source in sources:
        shutil.copyfile(source, tmp_path / source.name)
        copies.append(tmp_path / source.name)
    return copies


@pytest.mark.parametrize("source", EDGE_CASES, ids=lambda p: p.name)
def test_write_gives_the_pinned_result_and_a_second_run_changes_nothing(tmp_path, source):
    (path,) = copy(tmp_path, source)
    expected = AUTOFIX / "expected" / source.name
    code, _, _ = fix(path, write=True)
    assert code == 0
    assert path.read_bytes() == (expected.read_bytes() if expected.exists() else source.read_bytes())
    assert fix(path, write=True)[0] == 0
    assert path.read_bytes() == (expected.read_bytes() if expected.exists() else source.read_bytes())


def test_without_write_a_diff_is_printed_and_nothing_changes(tmp_path):
    (path,) = copy(tmp_path, AUTOFIX / "yaml-crlf-four-spaces.yaml")
    before = path.read_bytes()
    code, out, err = fix(path)
    assert code == 0 and path.read_bytes() == before
    assert out.startswith(f"--- a/{path.as_posix()}\n+++ b/{path.as_posix()}\n")
    assert "+            ReservedConcurrentExecutions: 10  # tapaudit: review this value\r\n" in out
    assert "would fix 2 findings; 0 left" in err


def test_write_replaces_the_file_and_keeps_its_mode(tmp_path):
    (path,) = copy(tmp_path, AUTOFIX / "json-minified.json")
    path.chmod(0o640)
    code, out, _ = fix(path, write=True)
    assert code == 0 and "fixed 2 findings" in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind


def test_cdk_output_is_refused_with_one_line_and_the_cdk_fix(tmp_path):
    (path,) = copy(tmp_path, AUTOFIX / "cdk-metadata-refused.yaml")
    code, out, _ = fix(path, write=True)
    assert path.read_bytes() == (AUTOFIX / "cdk-metadata-refused.yaml").read_bytes()
    lines = out.splitlines()
    assert lines[0].endswith("CDK output is generated: tapaudit fix does not edit it; apply each "
                             "finding's fix in the app")
    assert "reservedConcurrentExecutions: 10" in lines[1]
    assert code == 0  # TAP006 is medium: nothing at the default gate (high)


def test_a_cdk_assembly_is_refused(tmp_path):
    code, out, _ = fix(FIXTURES / "flawed", write=True)
    assert code == 1  # TAP002 (high) is left in the app
    assert "CDK output is generated" in out


def test_findings_left_at_the_gate_exit_1_with_the_reason(tmp_path):
    (path,) = copy(tmp_path, FIXTURES / "TAP002" / "yaml-fail-explicit-deny.yaml")
    code, _, err = fix(path)
    assert code == 1
    assert "left  TAP002 Monitor: cloudwatch:PutMetricData on * is explicitly denied" in err


def test_tls_without_a_certificate_is_left_with_the_reason(tmp_path):
    (path,) = copy(tmp_path, FIXTURES / "TAP005" / "yaml-fail-default-certificate.yaml")
    code, out, err = fix(path)
    assert code == 0 and out == ""
    assert "a minimum TLS version needs a custom certificate" in err


def test_rule_option_fixes_only_that_rule(tmp_path):
    (path,) = copy(tmp_path, AUTOFIX / "yaml-crlf-four-spaces.yaml")
    code, out, _ = fix(path, rules=("tap005",))
    assert code == 0
    assert "ReservedConcurrentExecutions" not in out and "http2and3" in out


def test_reserved_concurrency_comes_from_the_configuration(tmp_path):
    (path,) = copy(tmp_path, AUTOFIX / "yaml-bom-block-scalar-at-end.yaml")
    config = tmp_path / "pyproject.toml"
    config.write_text("[tool.tapaudit.rules.TAP006.fix]\nreserved_concurrency = 25\n")
    code, out, _ = fix(path, config=config)
    assert code == 0 and "+      ReservedConcurrentExecutions: 25  # tapaudit: review this value" in out


@pytest.mark.parametrize("table, problem", [
    ("reserved_concurrency = 0", "expected a whole number of at least 1, got 0"),
    ("reserved_concurrency = 'ten'", "expected a whole number of at least 1"),
    ("size = 10", "unknown key 'size'"),
])
def test_wrong_fix_settings_exit_2(tmp_path, table, problem):
    (path,) = copy(tmp_path, AUTOFIX / "json-minified.json")
    config = tmp_path / ".tapaudit.toml"
    config.write_text(f"[rules.TAP006.fix]\n{table}\n")
    code, out, err = fix(path, write=True, config=config)
    assert code == 2 and out == ""
    assert problem in err and "[rules.TAP006.fix]" in err
    assert path.read_bytes() == (AUTOFIX / "json-minified.json").read_bytes()


def test_an_input_error_exits_2_and_the_other_files_are_still_fixed(tmp_path):
    good, = copy(tmp_path, AUTOFIX / "json-minified.json")
    bad = tmp_path / "broken.yaml"
    bad.write_text("Resources:\n  A: [\n")
    code, _, err = fix(good, bad, write=True)
    assert code == 2 and "broken.yaml" in err
    assert good.read_bytes() == (AUTOFIX / "expected" / "json-minified.json").read_bytes()


def test_control_characters_from_a_template_never_reach_the_output(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text('Resources:\n  "Fn\\e[31m\\a":\n    Type: AWS::Lambda::Function\n    Properties:\n'
                    '      Runtime: python3.12\n      Handler: a.b\n'
                    '      Role: arn:aws:iam::123456789012:role/r\n      Code: {ZipFile: "x"}\n')
    code, out, err = fix(path)
    assert code == 0 and "fixed TAP006 Fn\\x1b[31m\\x07" in err
    assert "\x1b" not in out + err and "\x07" not in out + err


def test_file_names_logical_ids_and_lines_cannot_forge_a_ci_command(tmp_path):
    # Issue 16: a file name or logical id with a line break, and a line of the template itself
    # (in a block scalar, within the diff's context) that reads as a workflow command.
    path = tmp_path / "b\n::error::forged.yaml"
    path.write_text('Resources:\n  "F\\n::error::x\\e[2J":\n    Type: AWS::Lambda::Function\n'
                    '    Properties:\n      Runtime: python3.12\n      Handler: a.b\n'
                    '      Role: arn:aws:iam::123456789012:role/r\n      Code:\n        ZipFile: |\n'
                    '          ::stop-commands::token\n          ##[error]legacy\n')
    for write in (False, True):
        code, out, err = fix(path, write=write)
        lines = (out + err).splitlines()
        assert code == 0 and any("TAP006" in line for line in lines), (out, err)
        assert [line for line in lines if line.lstrip().startswith("::") or "##[" in line] == []
        assert "\x1b" not in out + err
    assert "::stop-commands::token" in path.read_text()  # the file itself is unchanged there


def test_a_value_shared_through_a_yaml_anchor_is_left(tmp_path):
    path = tmp_path / "anchors.yaml"
    path.write_text("Resources:\n  A:\n    Type: AWS::Lambda::Function\n    Properties: &shared\n"
                    "      Runtime: python3.12\n      Handler: a.b\n"
                    "      Role: arn:aws:iam::123456789012:role/r\n      Code: {ZipFile: x}\n"
                    "  B:\n    Type: AWS::Lambda::Function\n    Properties: *shared\n")
    before = path.read_bytes()
    code, out, _ = fix(path, write=True)
    assert code == 0 and path.read_bytes() == before
    assert out.count("written through a YAML anchor or alias") == 2


def test_sarif_replacements_of_each_finding_reproduce_the_write(tmp_path):
    from tapaudit.config import Config
    from tapaudit.fixing.batch import fix_all, fix_settings
    from tapaudit.fixing.sarif import fixable, fixes_by_finding
    from tapaudit.pipeline import run

    copies = copy(tmp_path, *(p for p in EDGE_CASES if (AUTOFIX / "expected" / p.name).exists()))
    config = Config()
    outcome = run([str(tmp_path)], config)
    results, errors = fix_all(outcome.result, outcome.sources, outcome.rules,
                              fix_settings(config, outcome.rules), config.partition)
    assert errors == [] and len(results) == len(copies)
    for result in results:
        assert all(fixable(result).values())
        offered = list(fixes_by_finding(result).values())
        for fixes in offered:
            (change,) = fixes[0]["artifactChanges"]
            assert change["artifactLocation"]["uri"] == result.source.display
        text = apply_sarif(result.original, [{"fixes": fixes} for fixes in offered])
        expected = (AUTOFIX / "expected" / Path(result.source.display).name).read_bytes()
        assert text.encode() == expected.removeprefix(b"\xef\xbb\xbf")
