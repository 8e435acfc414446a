"""A rule file's YAML has a budget (issue 16): nested aliases or merge keys that would expand into
millions of values, or nesting hundreds deep, make the file an error (exit 2) instead of filling memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from tapaudit.rules.loader import MAX_RULE_DEPTH, MAX_RULE_NODES, RuleFileError, load_rule_file, load_rules
from tests.conftest import FIXTURES, ROOT, run_cli

FLAWED_PRIMARY = FIXTURES / "flawed" / "TransactionMigration-Primary.template.json"


def _rule_with_args(args_yaml: str, anchors: str = "") -> str:
    """A valid custom rule (a copy of TAP006's shape) whose check's args are `args_yaml`."""
    return (f"{anchors}"
            "id: CUSTOM001\ntitle: t\nseverity: low\nrationale: r\nwhy: w\n"
            "resource_types: [AWS::Lambda::Function]\nfix: {summary: s}\n"
            f"checks:\n  - predicate: one_of\n    args: {args_yaml}\n")


def _alias_bomb(levels: int = 9) -> str:
    """`&a0 [x * 10]`, each level ten aliases of the one before: 10^levels values once expanded."""
    lines = ['x0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"x{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def _write(folder: Path, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "custom.yaml"
    path.write_text(text)
    return path


def test_an_alias_bomb_in_args_is_a_rule_file_error(tmp_path):
    path = _write(tmp_path / "rules", _rule_with_args("{values: *a9}", anchors=_alias_bomb()))
    with pytest.raises(RuleFileError) as info:
        load_rule_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}: cannot read rule file: more than {MAX_RULE_NODES:,} values")
    assert "\n" not in message


def test_a_merge_key_bomb_is_a_rule_file_error(tmp_path):
    # Merge keys copy the merged pairs into each mapping: 2^40 pairs, with only 40 aliased mappings.
    lines = ["m0: &m0 {k: v}"] + [f"m{n}: &m{n} {{<<: [*m{n - 1}, *m{n - 1}]}}" for n in range(1, 41)]
    path = _write(tmp_path / "rules", _rule_with_args("{values: *m40}", anchors="\n".join(lines) + "\n"))
    with pytest.raises(RuleFileError, match=f"more than {MAX_RULE_NODES:,} values"):
        load_rule_file(path)


def test_deep_nesting_is_a_rule_file_error(tmp_path):
    deep = "[" * (MAX_RULE_DEPTH + 5) + "]" * (MAX_RULE_DEPTH + 5)
    path = _write(tmp_path / "rules", _rule_with_args(f"{{values: {deep}}}"))
    with pytest.raises(RuleFileError, match=f"{path}: cannot read rule file: nesting deeper"):
        load_rule_file(path)


def test_aliases_within_the_budget_still_load(tmp_path):
    path = _write(tmp_path / "rules", _rule_with_args("{values: *a2}", anchors=_alias_bomb(levels=2)))
    (check,) = load_rule_file(path).checks
    assert check.args["values"] == [[["x"] * 10] * 10] * 10
    assert {rule.id for rule in load_rules()} == {p.stem for p in (ROOT / "rules").glob("*.yaml")}


def test_the_cli_exits_2_with_one_line_naming_the_file(tmp_path):
    path = _write(tmp_path / "rules", _rule_with_args("{values: *a9}", anchors=_alias_bomb()))
    proc = run_cli("scan", str(FLAWED_PRIMARY), "--rules-dir", str(path.parent))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "values once YAML aliases are expanded" in lines[0]
    assert "Traceback" not in proc.stderr
