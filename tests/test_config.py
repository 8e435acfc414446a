"""Project configuration end to end: discovery, precedence, validation, per-rule settings."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.cli.inprocess import run as run_cli
from tests.conftest import FIXTURES

PARAMS = FIXTURES / "triage" / "params"
REFERENCE = FIXTURES / "reference"
FLAWED = FIXTURES / "flawed"


def scan(*args: str, cwd: Path | None = None):
    proc = run_cli("scan", *args, "--format", "json", cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def failing(report: dict, rule_id: str) -> set[str]:
    return {f["resource"] for f in report["findings"] if f["rule_id"] == rule_id}


# For each rule, a verdict that flips through one parameter alone: (rule, input, parameters in TOML,
# resources failing before, resources failing after).
FLIPS = [
    ("TAP001", FIXTURES / "TAP001" / "yaml-fail-wrong-tag.yaml",
     'tag_key = "team"\ntag_value = "payments"', {"Transactions"}, set()),
    ("TAP002", PARAMS / "tap002-probe.yaml", 'name_pattern = "probe"', set(), {"RegionProbe"}),
    ("TAP003", PARAMS / "tap003-state-index.yaml", 'partition_key = { name = "state", type = "S" }',
     {"Orders"}, set()),
    ("TAP004", REFERENCE, 'principal = "pipes.amazonaws.com"', set(),
     {"TransactionEventRule3F6BA060", "HealthCheckSchedule9843A4E1"}),
    ("TAP005", REFERENCE, 'minimum_protocol_version = "TLSv1.2_2025"', set(), {"SiteDistribution3FF9535D"}),
    ("TAP006", REFERENCE, "minimum = 50", set(), {"HealthCheckA1C381C7", "SizeClassifierBFA1C0B6"}),
]


@pytest.mark.parametrize(("rule_id", "target", "parameters", "before", "after"), FLIPS,
                         ids=[f[0] for f in FLIPS])
def test_a_parameter_alone_flips_a_verdict(tmp_path, rule_id, target, parameters, before, after):
    config = tmp_path / ".tapaudit.toml"
    config.write_text(f"[rules.{rule_id}.parameters]\n{parameters}\n")
    default = scan(str(target), "--rule", rule_id, "--no-config")
    configured = scan(str(target), "--rule", rule_id, "--config", str(config))
    assert failing(default, rule_id) == before
    assert failing(configured, rule_id) == after


def test_resource_ids_of_the_flips_exist():
    """The logical ids above are the reference assembly's (guards against a silent re-synthesis)."""
    text = (REFERENCE / "TransactionMigration-Primary.template.json").read_text()
    for *_, after in FLIPS:
        assert all(f'"{logical_id}"' in text for logical_id in after if "Probe" not in logical_id)


def test_the_nearest_file_from_the_working_directory_is_used(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.tapaudit]\nfail_on = "none"\n')
    sub = tmp_path / "infra" / "deep"
    sub.mkdir(parents=True)
    assert run_cli("scan", str(FLAWED), cwd=sub).returncode == 0
    assert run_cli("scan", str(FLAWED), "--no-config", cwd=sub).returncode == 1
    assert run_cli("scan", str(FLAWED), "--fail-on", "high", cwd=sub).returncode == 1  # CLI wins
    # A nearer .tapaudit.toml wins over the pyproject.toml above it.
    (tmp_path / "infra" / ".tapaudit.toml").write_text('fail_on = "high"\n')
    assert run_cli("scan", str(FLAWED), cwd=sub).returncode == 1
    # A pyproject.toml without [tool.tapaudit] is passed by.
    (sub / "pyproject.toml").write_text('[project]\nname = "y"\n')
    assert run_cli("scan", str(FLAWED), cwd=sub).returncode == 1


def test_tapaudit_config_names_the_origin_of_every_value(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.tapaudit]\nfail_on = "medium"\nskip_rules = ["TAP005"]\ncdk_language = "python"\n'
        '[tool.tapaudit.rules.TAP003]\nseverity = "high"\n'
        '[tool.tapaudit.rules.TAP003.parameters]\npartition_key = { name = "state" }\n')
    proc = run_cli("config", "--skip-rule", "TAP001", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = {line.split(" = ")[0]: line for line in proc.stdout.splitlines() if " = " in line}
    assert proc.stdout.startswith("# configuration file: pyproject.toml")
    assert lines["fail_on"].endswith("# pyproject.toml") and '"medium"' in lines["fail_on"]
    assert lines["skip_rules"].endswith("# command line") and '["TAP001"]' in lines["skip_rules"]
    assert lines["partition"].endswith("# default")
    assert lines["cdk_language"].endswith("# pyproject.toml")
    assert lines["rules.TAP003.severity"].endswith("# pyproject.toml")
    listed = json.loads(run_cli("config", "--format", "json", cwd=tmp_path).stdout)
    settings = {s["key"]: s for s in listed["settings"]}
    assert settings["rules.TAP003.parameters"]["value"] == {"partition_key": {"name": "state"}}
    assert settings["skip_rules"] == {"key": "skip_rules", "value": ["TAP005"], "origin": "pyproject.toml"}
    assert json.loads(run_cli("config", "--format", "json", "--no-config",
                              cwd=tmp_path).stdout)["file"] is None


BAD = [
    ('fail_onn = "medium"\n', "fail_onn: unknown key (did you mean 'fail_on'?)"),
    ('fail_on = "severe"\n', "fail_on: expected one of critical, high, medium, low, none"),
    ("strict_suppressions = 1\n", "strict_suppressions: expected true or false"),
    ('skip_rules = "TAP005"\n', "skip_rules: expected a list of non-empty strings"),
    ('exclude = ["test/**x"]\n', "exclude: bad glob 'test/**x': ** must be a whole path segment"),
    ('exclude = ["asset.[0-9"]\n', "exclude: bad glob 'asset.[0-9': unbalanced [ ]"),
    ('cdk_language = "go"\n', "cdk_language: expected one of typescript, python"),
    ('partition = "azure"\n', "partition: expected a partition"),
    ("[rules.TAP009]\nseverity = \"high\"\n", "[rules.TAP009]: unknown rule id (did you mean 'TAP00"),
    ("[rules.TAP003]\nseverty = \"high\"\n", "rules.TAP003.severty: unknown key (did you mean 'severity'?)"),
    ("[rules.TAP003]\nseverity = \"urgent\"\n", "rules.TAP003.severity: expected one of critical, high"),
    ("[rules.TAP003]\ninclude = \"Legacy*\"\n", "rules.TAP003.include: expected a list"),
    ("[rules.TAP003.parameters]\npartiton_key = { name = \"state\" }\n",
     "rules.TAP003.parameters.partiton_key: unknown parameter (did you mean 'partition_key'?)"),
    ("[rules.TAP003.parameters]\npartition_key = \"state\"\n",
     "rules.TAP003.parameters.partition_key: expected a table like { name = 'status', type = 'S' }"),
    ("[rules.TAP003.parameters]\npartition_key = { nam = \"state\" }\n",
     "rules.TAP003.parameters.partition_key.nam: unknown field (did you mean 'name'?)"),
    ("[rules.TAP006.parameters]\nminimum = \"ten\"\n", "rules.TAP006.parameters.minimum: expected a number"),
    ('rules_dirs = ["policies/"]\n', "policies: rules directory not found"),
    ("fail_on = \n", "(file): invalid TOML"),
    # The issue's own example: `rules = []` beside `[rules.TAP003]` is not valid TOML.
    ("rules = []\n[rules.TAP003]\nseverity = \"high\"\n", "invalid TOML: Cannot declare"),
]


@pytest.mark.parametrize(("content", "message"), BAD, ids=[b[1][:40] for b in BAD])
def test_a_wrong_configuration_is_exit_2_naming_file_and_key(tmp_path, content, message):
    (tmp_path / ".tapaudit.toml").write_text(content)
    proc = run_cli("scan", str(FLAWED), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("tapaudit: error: .tapaudit.toml: ") or "policies" in message
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_pyproject_keys_are_named_with_their_prefix(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.tapaudit]\nfailon = "medium"\n')
    proc = run_cli("scan", str(FLAWED), cwd=tmp_path)
    assert proc.returncode == 2
    assert "pyproject.toml: tool.tapaudit.failon: unknown key (did you mean 'fail_on'?)" in proc.stderr
    assert run_cli("config", cwd=tmp_path).returncode == 2
    assert run_cli("rules", cwd=tmp_path).returncode == 2
    missing = run_cli("scan", str(FLAWED), "--config", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and "nope.toml: --config: file not found" in missing.stderr


def test_a_pyproject_table_named_with_escapes_is_found_and_a_broken_unrelated_one_is_not(tmp_path):
    """TOML spells `[tool."tap\\u0061udit"]` the same as `[tool.tapaudit]`: the quick test for a
    tapaudit table, made on the bytes, must not pass it by (it looked for "tapaudit" only)."""
    from tapaudit.config import find_config

    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool."tap\\u0061udit"]\nfail_on = "medium"\n')
    assert find_config(tmp_path) == tmp_path / "pyproject.toml"
    assert scan(str(FLAWED), cwd=tmp_path)["run"]["fail_on"] == "medium"
    (tmp_path / "pyproject.toml").write_text('[project\ndescription = "caf\\u00e9"\n')
    assert find_config(tmp_path) is None


def test_severity_override_reaches_gate_reports_and_rules(tmp_path):
    config = tmp_path / ".tapaudit.toml"
    config.write_text('[rules.TAP003]\nseverity = "high"\n')
    assert run_cli("scan", str(FLAWED), "--rule", "TAP003", "--no-config").returncode == 0
    assert run_cli("scan", str(FLAWED), "--rule", "TAP003", "--config", str(config)).returncode == 1
    report = scan(str(FLAWED), "--rule", "TAP003", "--config", str(config))
    assert [f["severity"] for f in report["findings"]] == ["high"]
    sarif = json.loads(run_cli("scan", str(FLAWED), "--config", str(config), "--format", "sarif").stdout)
    rule = next(r for r in sarif["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "TAP003")
    assert rule["defaultConfiguration"]["level"] == "error"
    listed = json.loads(run_cli("rules", "--format", "json", "--config", str(config)).stdout)
    assert next(r for r in listed if r["id"] == "TAP003")["severity"] == "high"
    explained = run_cli("explain", "TAP003", "--config", str(config))
    assert "high" in explained.stdout


def test_explain_shows_the_configured_parameters(tmp_path):
    config = tmp_path / ".tapaudit.toml"
    config.write_text('[rules.TAP002.parameters]\nname_pattern = "probe"\n')
    assert "probe" in run_cli("explain", "TAP002", "--config", str(config)).stdout


def test_rule_scope_lists_out_of_scope_resources_as_exempt(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.tapaudit.rules.TAP003]\nexclude = ["Legacy*"]\n')
    report = scan(str(PARAMS / "scope.yaml"), "--rule", "TAP003", cwd=tmp_path)
    assert failing(report, "TAP003") == {"Ledger"}
    assert [(e["resource"], e["reason"]) for e in report["exempt"]] == [
        ("LegacyLedger", "out of scope: excluded by [tool.tapaudit.rules.TAP003] exclude 'Legacy*'")]


def test_rule_scope_include_matches_construct_paths(tmp_path):
    (tmp_path / ".tapaudit.toml").write_text(
        '[rules.TAP006]\ninclude = ["*/TransactionProcessor/*"]\n')
    report = scan(str(FLAWED), "--rule", "TAP006", cwd=tmp_path)
    assert failing(report, "TAP006") == {"TransactionProcessorF6E575F8"}
    report = scan(str(REFERENCE), "--rule", "TAP006", cwd=tmp_path)
    exempt = {e["resource"]: e["reason"] for e in report["exempt"]}
    assert exempt["HealthCheckA1C381C7"] == ("out of scope: not matched by [rules.TAP006] include "
                                             "'*/TransactionProcessor/*'")


def test_path_excludes_are_relative_to_the_config_file(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "TAP006", project / "templates")
    (project / "test").mkdir()
    shutil.copy(FIXTURES / "TAP003" / "yaml-fail-no-sort-key.yaml", project / "test" / "t.yaml")
    (project / ".tapaudit.toml").write_text('exclude = ["test/**", "templates/*.json"]\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    report = scan(str(project), "--config", str(project / ".tapaudit.toml"), cwd=elsewhere)
    scanned = [Path(t).name for t in report["templates"]]
    assert scanned and all(name.endswith(".yaml") for name in scanned)
    skipped = {Path(s["file"]).name: s["reason"] for s in report["skipped"]}
    assert "t.yaml" in skipped and "excluded by exclude 'test/**'" in skipped["t.yaml"]
    assert not any(n.startswith("cdk-") for n in scanned)


def test_rules_dirs_get_the_same_treatment(tmp_path):
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "ORG001.yaml").write_text(
        "id: ORG001\ntitle: Queues must keep messages for {days} days\nseverity: high\n"
        "rationale: Dead letters need time to be looked at.\nwhy: Messages expire unread.\n"
        "resource_types: [AWS::SQS::Queue]\nparameters: {days: 14, seconds: 1209600}\n"
        "fix: {summary: keep messages longer}\n"
        "checks:\n  - id: retention\n    select: $.Properties.MessageRetentionPeriod\n"
        "    predicate: at_least\n    missing: keeps messages for the default 4 days\n"
        "    args: {minimum: \"{seconds}\"}\n")
    template = tmp_path / "queue.yaml"
    template.write_text("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
                        "    Properties: {MessageRetentionPeriod: 345600}\n")
    (tmp_path / ".tapaudit.toml").write_text(
        'rules_dirs = ["policies"]\nonly_rules = ["ORG001"]\n'
        "[rules.ORG001.parameters]\ndays = 4\nseconds = 345600\n")
    work = tmp_path / "work"
    work.mkdir()
    assert failing(scan(str(template), "--no-config", "--rules-dir", str(policies), "--rule", "ORG001"),
                   "ORG001") == {"Q"}
    configured = scan(str(template), "--config", str(tmp_path / ".tapaudit.toml"), cwd=work)
    assert configured["findings"] == []
    listed = run_cli("rules", "--config", str(tmp_path / ".tapaudit.toml"), cwd=work).stdout
    assert "Queues must keep messages for 4 days" in listed
    (tmp_path / ".tapaudit.toml").write_text(
        'rules_dirs = ["policies"]\n[rules.ORG001.parameters]\nday = 4\n')
    proc = run_cli("scan", str(template), cwd=tmp_path)
    assert proc.returncode == 2 and "rules.ORG001.parameters.day: unknown parameter" in proc.stderr


def test_every_parameter_of_every_rule_drives_the_rule(rules):
    """Changing any parameter changes the loaded rule: it reaches a check or a text."""
    from tapaudit.config import Config, RuleSettings
    from tapaudit.rules import load_rules

    def changed(value):
        if isinstance(value, bool):
            return not value
        if isinstance(value, int | float):
            return value + 7
        if isinstance(value, str):
            return value + "-x"
        if isinstance(value, list):
            return [*value, "x"]
        return {k: changed(v) for k, v in value.items()}

    text_only = set()
    for rule in rules:
        for name, value in rule.parameters.items():
            config = Config(rule_settings={rule.id: RuleSettings(parameters={name: changed(value)})})
            other = next(r for r in load_rules((), config) if r.id == rule.id)
            assert other.parameters[name] != value
            assert (other.checks, other.applies_if, other.skip_if, other.fix, other.rationale) != \
                (rule.checks, rule.applies_if, rule.skip_if, rule.fix, rule.rationale), (rule.id, name)
            if (other.checks, other.applies_if, other.skip_if) == (rule.checks, rule.applies_if,
                                                                   rule.skip_if):
                text_only.add((rule.id, name))
    # These describe rather than decide: the index name is a suggestion, the metric namespace is
    # what the fix writes. (TAP001's size bound reaches its messages, through the check's args.)
    assert text_only == {("TAP002", "metric_namespace"), ("TAP003", "suggested_name")}


def test_bad_patterns_are_configuration_errors_not_internal_errors(tmp_path):
    config = tmp_path / ".tapaudit.toml"
    for text, expected in (('exclude = ["a[]b"]\n', "bad glob 'a[]b'"),
                           ('exclude = ["[z-a]x"]\n', "bad glob '[z-a]x'"),
                           ('[rules.TAP002.parameters]\nname_pattern = "("\n',
                            "pattern '(' is not a regular expression")):
        config.write_text(text)
        proc = run_cli("scan", str(FIXTURES / "flawed"), "--config", str(config))
        assert proc.returncode == 2 and expected in proc.stderr, proc.stderr
        assert "internal error" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_rules_and_explain_describe_skipped_rules_and_config_checks_rule_ids(tmp_path):
    (tmp_path / ".tapaudit.toml").write_text('skip_rules = ["TAP005"]\n')
    listed = run_cli("rules", cwd=tmp_path)
    assert listed.returncode == 0 and "TAP005" in listed.stdout
    assert run_cli("explain", "TAP005", cwd=tmp_path).returncode == 0
    proc = run_cli("config", "--rule", "TAP999", cwd=tmp_path)
    assert proc.returncode == 2 and "unknown rule id TAP999" in proc.stderr


# Configuration a reviewer can see (issue 16): searched up to the repository root only; a file
# someone else could have written is not applied, and the run says so.
def _repository(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)  # what makes a folder a repository root for the search
    (repo / "infra").mkdir()
    return repo


def test_a_file_above_the_repository_root_is_not_applied(tmp_path):
    repo = _repository(tmp_path)
    (tmp_path / ".tapaudit.toml").write_text('fail_on = "none"\n')
    (tmp_path / "pyproject.toml").write_text('[tool.tapaudit]\nfail_on = "none"\n')
    assert run_cli("scan", str(FLAWED), cwd=repo / "infra").returncode == 1
    listed = json.loads(run_cli("config", "--format", "json", cwd=repo / "infra").stdout)
    assert listed["file"] is None and listed["not_applied"] == []
    # A worktree or a submodule has a .git file, not a folder: the same boundary.
    (repo / ".git").rmdir()
    (repo / ".git").write_text("gitdir: /elsewhere\n")
    assert run_cli("scan", str(FLAWED), cwd=repo / "infra").returncode == 1
    # Inside the repository the nearest file is used, from any folder below it.
    (repo / ".tapaudit.toml").write_text('fail_on = "none"\n')
    assert run_cli("scan", str(FLAWED), cwd=repo / "infra").returncode == 0


@pytest.mark.parametrize("mode", [0o664, 0o646], ids=["group-writable", "other-writable"])
def test_a_file_others_can_write_is_not_applied_and_the_run_says_so(tmp_path, mode):
    repo = _repository(tmp_path)
    config = repo / ".tapaudit.toml"
    config.write_text('fail_on = "none"\n')
    config.chmod(mode)
    proc = run_cli("scan", str(FLAWED), cwd=repo / "infra")
    assert proc.returncode == 1  # the default gate, not the file's
    who = "its group" if mode == 0o664 else "others"
    assert (f"repo/.tapaudit.toml: configuration not applied, writable by {who} "
            "(chmod go-w .tapaudit.toml); name it with --config") in proc.stderr
    shown = run_cli("config", cwd=repo)
    assert "# configuration file: none\n# not applied: .tapaudit.toml: writable by" in shown.stdout
    # Named with --config, it is applied: the user chose it.
    named = run_cli("scan", str(FLAWED), "--config", str(config), cwd=repo)
    assert named.returncode == 0 and "not applied" not in named.stderr


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_a_file_owned_by_another_user_is_not_applied(tmp_path):
    repo = _repository(tmp_path)
    config = repo / "pyproject.toml"
    config.write_text('[tool.tapaudit]\nfail_on = "none"\n')
    os.chown(config, 4242, 4242)
    proc = run_cli("scan", str(FLAWED), cwd=repo)
    assert proc.returncode == 1
    assert ("pyproject.toml: configuration not applied, owned by another user (uid 4242)"
            in proc.stderr)
    assert run_cli("scan", str(FLAWED), "--config", str(config), cwd=repo).returncode == 0


def test_an_exclusion_that_removes_every_input_fails_the_gate(tmp_path):
    """With the hook's flags, `exclude = ["**"]` used to pass as "no templates among the inputs"."""
    repo = _repository(tmp_path)
    (repo / ".tapaudit.toml").write_text('exclude = ["**"]\n')
    shutil.copy(FIXTURES / "TAP003" / "yaml-fail-no-sort-key.yaml", repo / "infra" / "t.yaml")
    (repo / "infra" / "app.yaml").write_text("name: not a template\n")
    proc = run_cli("scan", "--allow-no-templates", "infra/t.yaml", "infra/app.yaml", cwd=repo)
    assert proc.returncode == 2
    assert ("tapaudit: error: every input is excluded by exclude '**' in .tapaudit.toml, nothing "
            "was scanned: infra/t.yaml, infra/app.yaml") in proc.stderr
    report = json.loads(run_cli("scan", "--allow-no-templates", "infra/t.yaml", "-f", "json",
                                cwd=repo).stdout)
    assert report["run"]["exit_code"] == 2 and report["templates"] == []
    assert report["run"]["notes"] == ["every input is excluded by exclude '**' in .tapaudit.toml, "
                                      "nothing was scanned: infra/t.yaml"]
    assert report["skipped"] == [{"file": "infra/t.yaml",
                                  "reason": "excluded by exclude '**' in .tapaudit.toml"}]
    # A folder or a cloud assembly excluded whole: the same.
    assert run_cli("scan", "--allow-no-templates", "infra", cwd=repo).returncode == 2
    assert run_cli("scan", "--allow-no-templates", "--missing-ok", "infra", cwd=repo).returncode == 2
    # An exclusion that leaves something the hook was given is the usual partial case: exit 0 when
    # what is left is no template, with the excluded file listed.
    (repo / ".tapaudit.toml").write_text('exclude = ["infra/t.yaml"]\n')
    proc = run_cli("scan", "--allow-no-templates", "infra/t.yaml", "infra/app.yaml", "-f", "json",
                   cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert [s["file"] for s in json.loads(proc.stdout)["skipped"]] == ["infra/app.yaml", "infra/t.yaml"]
