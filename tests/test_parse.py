"""Parsing: short-form tags, positions for JSON and YAML, and hostile input refused cleanly."""

from __future__ import annotations

import json

import pytest

from tapaudit.errors import InputError
from tapaudit.loading.discovery import MAX_BYTES, TemplateSource, decode, read_text
from tapaudit.loading.parse import MAX_NESTING, parse_document

YAML = """\
AWSTemplateFormatVersion: 2010-09-09
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: !GetAtt Role.Arn
      Other: !GetAtt [Role, Arn]
      Concurrency: !If [IsProd, !Ref Count, !Ref AWS::NoValue]
      Name: !Sub "${AWS::StackName}-fn"
      Code: !Base64 |
        line
"""


def test_yaml_short_forms_become_long_forms():
    data = parse_document(YAML).data
    props = data["Resources"]["Fn"]["Properties"]
    assert data["AWSTemplateFormatVersion"] == "2010-09-09"  # a string, not a date
    assert props["Role"] == {"Fn::GetAtt": ["Role", "Arn"]}
    assert props["Other"] == {"Fn::GetAtt": ["Role", "Arn"]}
    assert props["Concurrency"] == {"Fn::If": ["IsProd", {"Ref": "Count"}, {"Ref": "AWS::NoValue"}]}
    assert props["Name"] == {"Fn::Sub": "${AWS::StackName}-fn"}
    assert props["Code"] == {"Fn::Base64": "line\n"}


def test_yaml_positions_follow_short_form_tags():
    source_map = parse_document(YAML).source_map
    assert source_map.locate(["Resources", "Fn"]) == (3, 3)
    assert source_map.locate(["Resources", "Fn", "Properties", "Role"]) == (6, 7)
    # The !Ref inside !If: line 8, column 33, right after "      Concurrency: !If [IsProd, "
    assert source_map.locate(["Resources", "Fn", "Properties", "Concurrency", "Fn::If", 1]) == (8, 33)
    # A path that goes deeper than the document stops at the deepest element found.
    assert source_map.locate(["Resources", "Fn", "Properties", "Missing", "Deeper"]) == (5, 5)


def test_json_positions_are_lazy_and_exact():
    text = json.dumps({"Resources": {"A": {"Type": "x", "Properties": {
        "List": [1, {"Key": "v"}], "Esc\"aped": 2}}}}, indent=2)
    document = parse_document(text)
    assert document.format == "json"
    assert document.source_map._members == {}  # nothing computed until a finding asks
    lines = text.splitlines()
    line, column = document.source_map.locate(["Resources", "A", "Properties", "List", 1, "Key"])
    assert lines[line - 1][column - 1:].startswith('"Key"')
    line, column = document.source_map.locate(["Resources", "A", "Properties", 'Esc"aped'])
    assert lines[line - 1][column - 1:].startswith('"Esc\\"aped"')
    line, column = document.source_map.locate(["Resources", "A", "Properties", "List", 0])
    assert lines[line - 1][column - 1:].startswith("1")


def test_minified_json_positions():
    text = '{"Resources":{"A":{"Type":"x"},"B":{"Type":"y"}}}'
    assert parse_document(text).source_map.locate(["Resources", "B", "Type"]) == (1, 37)


@pytest.mark.parametrize("text", [
    'a: !!python/object/apply:os.system ["echo pwned"]',
    "a: !!python/name:os.system",
    "a: !!python/object/new:subprocess.Popen [[ls]]",
])
def test_python_tags_are_refused_not_executed(text):
    with pytest.raises(InputError, match="refused YAML tag"):
        parse_document(text)


def test_alias_bomb_is_refused():
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in range(1, 9):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    with pytest.raises(InputError, match="alias bomb"):
        parse_document("\n".join(lines))


def test_ampersands_that_are_not_anchors_skip_the_alias_guard(monkeypatch):
    import tapaudit.loading.parse as parse

    def refuse(root):
        raise AssertionError("alias guard ran")

    monkeypatch.setattr(parse, "_guard_aliases", refuse)
    parse_document("Code: |\n  if (a && b) go('?x=1&y=2');\nUrl: https://h/?a=1&b=2\n")
    with pytest.raises(AssertionError):
        parse_document("a: &anchor 1\nb: *anchor\n")


def test_deep_but_allowed_nesting_parses():
    value = parse_document("a: " + "[" * 400 + "]" * 400).data["a"]
    depth = 0
    while value:
        value, depth = value[0], depth + 1
    assert depth == 399  # 400 lists, the innermost empty


def test_small_aliases_still_work():
    data = parse_document("base: &b {Type: String}\nParameters:\n  A: *b\n  B: *b\n").data
    assert data["Parameters"]["A"] == {"Type": "String"}


def test_recursive_alias_is_refused():
    with pytest.raises(InputError, match="recursive YAML alias"):
        parse_document("a: &a [*a]")


@pytest.mark.parametrize("text", [
    "a: " + "[" * 100_000 + "]" * 100_000,  # would crash libyaml's composer
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 50_000 + "1" + "}" * 50_000,
    "- " * (MAX_NESTING + 10) + "x",
], ids=["yaml-flow", "json-array", "json-object", "yaml-block"])
def test_deep_nesting_is_refused(text):
    with pytest.raises(InputError, match="nesting"):
        parse_document(text)


@pytest.mark.parametrize(("text", "message"), [
    ('{"Resources": {', "invalid JSON"),
    ("Resources:\n  A: [\n", "invalid YAML"),
    ("a: b\n---\nc: d\n", "invalid YAML"),
])
def test_malformed_documents_give_one_line_reasons(text, message):
    with pytest.raises(InputError, match=message) as info:
        parse_document(text)
    assert "\n" not in str(info.value)


def test_binary_huge_and_undecodable_files(tmp_path):
    binary = tmp_path / "image.json"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(InputError, match="binary"):
        read_text(TemplateSource("image.json", path=binary))
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as stream:
        stream.truncate(MAX_BYTES + 1)
    with pytest.raises(InputError, match="MiB limit"):
        read_text(TemplateSource("huge.yaml", path=huge))
    with pytest.raises(InputError, match="not UTF-8"):
        decode(b"Resources: \xff\xfe\xfa")
    assert decode("\ufeffResources: {}".encode()) == "Resources: {}"
