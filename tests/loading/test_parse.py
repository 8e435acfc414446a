"""Parsing: short-form tags, positions for JSON and YAML, and hostile input refused cleanly."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tapaudit.errors import InputError
from tapaudit.loading.discovery import MAX_BYTES, TemplateSource, decode, read_text
from tapaudit.loading.limits import MAX_NESTING
from tapaudit.loading.parse import parse_document
from tapaudit.loading.positions import JsonSourceMap
from tests.conftest import FIXTURES

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


def test_json_positions_are_recorded_for_the_top_levels_and_lazy_below():
    text = json.dumps({"Resources": {"A": {"Type": "x", "Properties": {
        "List": [1, {"Key": "v"}], "Esc\"aped": 2}}}}, indent=2)
    document = parse_document(text)
    assert document.format == "json"
    # Decoded without offsets: nothing is read until a finding asks; then only the containers on
    # the path, each skimmed (the raw text of its members, not their values).
    assert document.source_map._members == {}
    assert document.source_map.locate(["Resources"]) == (2, 3)
    assert len(document.source_map._members) == 1
    lines = text.splitlines()
    line, column = document.source_map.locate(["Resources", "A", "Properties", "List", 1, "Key"])
    assert lines[line - 1][column - 1:].startswith('"Key"')
    line, column = document.source_map.locate(["Resources", "A", "Properties", 'Esc"aped'])
    assert lines[line - 1][column - 1:].startswith('"Esc\\"aped"')
    line, column = document.source_map.locate(["Resources", "A", "Properties", "List", 0])
    assert lines[line - 1][column - 1:].startswith("1")
    assert document.source_map.locate(["Resources", "A"]) == (3, 5)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=30)


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(JSON_VALUES, st.sampled_from([None, 0, 1, 2, "\t"]), st.booleans())
def test_json_decoding_with_positions_equals_json_loads(value, indent, ensure_ascii):
    text = json.dumps(value, indent=indent, ensure_ascii=ensure_ascii)
    document = parse_document(text, prefer_json=True)
    assert document.data == json.loads(text)
    if isinstance(value, dict):
        for key in list(value)[:2]:
            line, column = document.source_map.locate([key])
            written = json.dumps(key, ensure_ascii=ensure_ascii)
            assert text.split("\n")[line - 1][column - 1:].startswith(written)


def _paths(value, prefix: tuple = ()):
    """Every path into `value`, and one more below each that names nothing."""
    yield prefix
    yield (*prefix, "Missing")
    if isinstance(value, dict | list):
        for key, inner in value.items() if isinstance(value, dict) else enumerate(value):
            yield from _paths(inner, (*prefix, key))


def _same_positions(text: str, limit: int = 3000) -> None:
    """The map of text decoded without offsets (skimmed, or walked when not ASCII) places every
    path where the map built while decoding does."""
    lazy = JsonSourceMap(text)
    eager = JsonSourceMap.parse(text, json.JSONDecoder())[1]
    for count, path in enumerate(_paths(json.loads(text))):
        assert lazy.locate(path) == eager.locate(path), path
        if count == limit:
            break


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(JSON_VALUES, st.sampled_from([None, 0, 1, 2, "\t"]), st.booleans())
def test_skimmed_positions_equal_those_read_while_decoding(value, indent, ensure_ascii):
    _same_positions(json.dumps({"Resources": value, "Outputs": [value]}, indent=indent,
                               ensure_ascii=ensure_ascii))


def test_skimmed_positions_in_synthesized_templates():
    templates = sorted(FIXTURES.rglob("cdk-*.json"))
    assert len(templates) > 20
    for template in templates:
        _same_positions(template.read_text(encoding="utf-8"))


def test_only_an_escape_that_may_spell_a_colon_takes_the_checking_decoder():
    text = json.dumps({"Resources": {"A": {"Type": "x\u00e9"}}}, indent=1)  # ensure_ascii: \u00e9
    document = parse_document(text)
    assert document.source_map._members == {}  # read by msgspec: positions skimmed when asked
    assert document.data == {"Resources": {"A": {"Type": "x\u00e9"}}}
    assert document.source_map.locate(("Resources", "A", "Type")) == (4, 4)
    text = json.dumps({"Resources": {"A": {"Type": "x:"}}}, indent=1).replace(":\"", "\\u003a\"")
    document = parse_document(text)
    assert len(document.source_map._members) == 2  # read by the checking decoder, with offsets
    assert document.data == {"Resources": {"A": {"Type": "x:"}}}


# A repeated key is refused wherever it is, whatever its strings hold, on either way in (msgspec,
# which counts colons to see a dropped pair; the checking decoder for `\u` escapes).
@pytest.mark.parametrize("text, key", [
    ('{"a": 1, "a": 2}', "a"),
    ('{"a:b": "c:d", "a:b": "e"}', "a:b"),
    ('{"a": "x\\":", "a": "y"}', "a"),  # an escaped quote then a colon, in the dropped value
    ('{"R": {"a": {"b": "arn:aws:s3:::x"}, "a": {}}}', "a"),
    ('{"k": 1, "k": {"n": ":::"}}', "k"),
    # A colon spelled as an escape in a kept string makes up for the dropped pair's colon: such
    # text is read by the checking decoder.
    ('{"a": 1, "a": 2, "b": "\\u003a"}', "a"),
    ('{"x": [{"y": 1, "z": 2, "y": 3}]}', "y"),
])
def test_repeated_keys_are_refused_on_both_ways_in(text, key):
    with pytest.raises(InputError, match=f"duplicate key '{key}'"):
        parse_document(text)


@pytest.mark.parametrize("caller_depth", [0, 150])
def test_deep_json_is_read_or_refused_alike_on_both_ways_in(caller_depth, monkeypatch):
    """msgspec gets less recursion room than the checking decoder has, wherever the caller is on
    the stack: it never reads nesting that the checking decoder refuses."""
    import tapaudit.loading.parse as parse

    def outcome(text: str) -> str:
        try:
            return parse.parse_document(text).format
        except InputError as exc:
            return str(exc)

    def called_from(depth: int, text: str) -> str:
        return outcome(text) if depth == 0 else called_from(depth - 1, text)

    for levels in range(400, 1100):
        for text in ('{"a":' * levels + "1" + "}" * levels, "[" * levels + "]" * levels):
            either = called_from(caller_depth, text)
            with monkeypatch.context() as only_checking:
                only_checking.setattr(parse, "_decode_vouched", lambda text: None)
                assert called_from(caller_depth, text) == either, levels


PAIRS = st.recursive(
    st.integers() | st.text(alphabet=':"\\ab{}', max_size=6),
    lambda inner: st.lists(st.tuples(st.sampled_from(["a", "b", "a:b", ':"']), inner), max_size=4)
    | st.lists(inner, max_size=3),
    max_leaves=20)


def _written(value) -> str:
    """JSON text of `value`, where a list of (key, value) pairs is an object that may repeat keys."""
    if isinstance(value, list) and value and all(isinstance(v, tuple) for v in value):
        return "{" + ", ".join(f"{json.dumps(k)}: {_written(v)}" for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_written(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _repeats(value) -> bool:
    if isinstance(value, list) and value and all(isinstance(v, tuple) for v in value):
        keys = [k for k, _ in value]
        return len(set(keys)) != len(keys) or any(_repeats(v) for _, v in value)
    return isinstance(value, list) and any(_repeats(v) for v in value)


@settings(max_examples=400, derandomize=True, deadline=None, database=None)
@given(st.lists(st.tuples(st.sampled_from(["Resources", "a", "a:b"]), PAIRS), min_size=1, max_size=4))
def test_a_repeated_key_is_refused_exactly_when_there_is_one(pairs):
    text = _written(pairs)
    if _repeats(pairs):
        with pytest.raises(InputError, match="duplicate key"):
            parse_document(text)
    else:
        assert parse_document(text).data == json.loads(text)


ESCAPED = st.recursive(
    st.integers() | st.text(alphabet=':"\\a\x00\u00e9\U0001f600\ud800\udc00', max_size=5),
    lambda inner: st.lists(st.tuples(st.sampled_from(["a", "b", "\\u0061", "\\u003a", "\\ud800"]),
                                     inner), max_size=3)
    | st.lists(inner, max_size=3),
    max_leaves=12)


def _escaped(value) -> str:
    """JSON text of `value` with every non-ASCII character (lone surrogates too) as a `\\u` escape;
    a list of (key, value) pairs is an object whose keys are written as given (`\\u0061` is `a`)."""
    if isinstance(value, list) and value and all(isinstance(v, tuple) for v in value):
        return "{" + ", ".join(f'"{k}": {_escaped(v)}' for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_escaped(v) for v in value) + "]"
    return json.dumps(value)


@settings(max_examples=400, derandomize=True, deadline=None, database=None)
@given(ESCAPED)
def test_text_with_escapes_reads_as_the_checking_decoder_reads_it(value):
    """Escapes that spell a colon, a key repeated under another spelling, lone surrogates: msgspec's
    way in gives the same data or the same refusal as the checking decoder alone."""
    import tapaudit.loading.parse as parse

    def outcome() -> object:
        try:
            return parse.parse_document(text, prefer_json=True).data
        except InputError as exc:
            return str(exc)

    text = _escaped(value)
    either = outcome()
    with pytest.MonkeyPatch.context() as only_checking:
        only_checking.setattr(parse, "_decode_vouched", lambda text: None)
        assert outcome() == either


# The same outcomes as json.loads followed by the YAML fallback gave before positions were recorded
# while decoding (a trailing comma or `[1 2]` is valid YAML flow, hence read as YAML).
@pytest.mark.parametrize("text, expected", [
    ('{"a": 1, "a": 2}', "duplicate key 'a' at line 1 (first at line 1)"),
    ('{"Resources": {"A": {}, \n"A": {}}}', "duplicate key 'A' at line 2 (first at line 1)"),
    ('{"a": NaN}', "NaN is not a number CloudFormation accepts at line 1"),
    ('{"Resources": {"A": {"B": 1e999}}}', "1e999 is not a number CloudFormation accepts at line 1"),
    ('{"a": 1} x', "invalid JSON: Extra data at line 1 column 10"),
    ('{"a" 1}', "invalid JSON: Expecting ':' delimiter at line 1 column 6"),
    ("[1, 2", "invalid JSON: Expecting ',' delimiter at line 1 column 6"),
    # A repeated key is raised when its object closes, as json's object_pairs_hook raises it.
    ('{"A":1,"A":2,"B":}', "invalid JSON: Expecting value at line 1 column 18"),
    ('{"A":1,"A":NaN}', "NaN is not a number CloudFormation accepts at line 1"),
    ('{"A":1,"A":2', "invalid JSON: Expecting ',' delimiter at line 1 column 13"),
    ('{"A":1,"A":2,"R":{"X":{"Y":1,"Y":2}}}', "duplicate key 'Y' at line 1 (first at line 1)"),
    ('{"a": 1,}', {"a": 1}),
    ('{"Resources": {"A": [1 2]}}', {"Resources": {"A": ["1 2"]}}),
])
def test_invalid_json_is_refused_as_the_decoder_refuses_it(text, expected):
    if isinstance(expected, dict):
        assert parse_document(text, prefer_json=True).data == expected
        return
    with pytest.raises(InputError) as caught:
        parse_document(text, prefer_json=True)
    assert str(caught.value) == expected


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
    import tapaudit.loading.yaml_parse as yaml_parse

    def refuse(root):
        raise AssertionError("alias guard ran")

    monkeypatch.setattr(yaml_parse, "_guard_aliases", refuse)
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
