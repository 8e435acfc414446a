"""The parsed-rule cache: rule files are parsed once per content, and a JSON scan never imports PyYAML."""

from __future__ import annotations

import json
import subprocess
import sys

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
