"""The parsed-rule cache: rule files are parsed once per content, and a JSON scan never imports PyYAML."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tapaudit.rules import parsed_cache
from tests.conftest import FIXTURES, ROOT


class Parser:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, text: str):
        self.calls += 1
        return {"text": text}


def test_a_rule_text_is_parsed_once_then_read_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TAPAUDIT_CACHE_DIR", str(tmp_path / "cache"))
    parse = Parser()
    assert parsed_cache.load("id: A", parse) == {"text": "id: A"}
    assert parsed_cache.load("id: A", parse) == {"text": "id: A"}
    assert parse.calls == 1
    assert parsed_cache.load("id: B", parse) == {"text": "id: B"}  # an edited file is parsed again
    assert parse.calls == 2


def test_a_corrupt_or_unwritable_cache_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("TAPAUDIT_CACHE_DIR", str(tmp_path / "cache"))
    parse = Parser()
    parsed_cache.load("id: A", parse)
    for entry in (tmp_path / "cache").iterdir():
        entry.write_text("{not json")
    assert parsed_cache.load("id: A", parse) == {"text": "id: A"}
    assert parse.calls == 2
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setenv("TAPAUDIT_CACHE_DIR", str(blocked / "cache"))  # a file where a folder should be
    assert parsed_cache.load("id: A", parse) == {"text": "id: A"}


def test_a_folder_others_may_write_to_is_not_used(tmp_path, monkeypatch):
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    monkeypatch.setenv("TAPAUDIT_CACHE_DIR", str(folder))
    parse = Parser()
    parsed_cache.load("id: A", parse)
    parsed_cache.load("id: A", parse)
    assert parse.calls == 2 and list(folder.iterdir()) == []


def test_no_cache_without_an_absolute_folder(monkeypatch):
    monkeypatch.delenv("TAPAUDIT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # ignored, as the XDG spec says
    monkeypatch.setenv("HOME", "/home/someone")
    assert parsed_cache.cache_dir() == Path("/home/someone/.cache/tapaudit")
    monkeypatch.setenv("TAPAUDIT_CACHE_DIR", "relative")
    assert parsed_cache.cache_dir() is None


def test_an_alias_bomb_is_parsed_every_time_not_expanded_into_the_cache(tmp_path, monkeypatch):
    import yaml

    monkeypatch.setenv("TAPAUDIT_CACHE_DIR", str(tmp_path))
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 7)]
    data = parsed_cache.load("\n".join(lines), yaml.safe_load)  # 10^7 values once expanded
    assert len(data["a6"]) == 10 and list(tmp_path.iterdir()) == []


def test_a_damaged_entry_is_replaced_by_the_rule_file_itself(tmp_path, monkeypatch):
    from tapaudit.rules.loader import builtin_rules_dir, load_rule_file

    monkeypatch.setenv("TAPAUDIT_CACHE_DIR", str(tmp_path))
    path = builtin_rules_dir() / "TAP006.yaml"
    expected = load_rule_file(path)
    (entry,) = tmp_path.iterdir()
    entry.write_text("{}")  # parses as JSON, but is no rule
    assert load_rule_file(path) == expected
    assert json.loads(entry.read_text())["id"] == "TAP006"


def test_data_json_would_change_is_not_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("TAPAUDIT_CACHE_DIR", str(tmp_path))
    parsed_cache.load("x", lambda text: {1: "an int key"})
    assert list(tmp_path.iterdir()) == []


def test_the_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("TAPAUDIT_CACHE_DIR", "off")
    parse = Parser()
    parsed_cache.load("id: A", parse)
    parsed_cache.load("id: A", parse)
    assert parse.calls == 2


LAZY = ["yaml", "tapaudit.triage.suppressions", "tapaudit.triage.baseline", "tapaudit.transforms.sam",
        "jsonpath_ng", "rich"]


def test_a_json_scan_imports_only_what_it_uses_once_the_rules_are_cached(tmp_path):
    """Start-up is most of a scan's time: PyYAML (rule files are cached as JSON), the suppression and
    baseline code (none in this template), SAM, jsonpath-ng and rich are not imported."""
    template = FIXTURES / "flawed" / "TransactionMigration-Primary.template.json"
    code = ("import json, sys, runpy\n"
            f"sys.argv = ['tapaudit', 'scan', {str(template)!r}, '--format', 'json']\n"
            "try:\n    runpy.run_module('tapaudit', run_name='__main__')\n"
            "except SystemExit as exit:\n    code = exit.code\n"
            f"print(json.dumps([code, [m for m in {LAZY!r} if m in sys.modules]]), file=sys.stderr)\n")
    env = {"TAPAUDIT_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                           cwd=ROOT, timeout=120) for _ in range(2)]
    first, second = (json.loads(run.stderr.strip().splitlines()[-1]) for run in runs)
    assert first == [1, ["yaml"]]  # the cache was empty: the rule files were parsed
    assert second == [1, []]
    assert json.loads(runs[0].stdout)["findings"] == json.loads(runs[1].stdout)["findings"]
