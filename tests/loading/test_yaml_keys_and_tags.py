"""Issue 16: YAML keys are read as the text the user wrote, and an unknown tag is an input error
naming the tag and line, never a resource that silently loses its Type."""

from __future__ import annotations

from pathlib import Path

import pytest

from tapaudit.errors import InputError
from tapaudit.loading.parse import parse_document
from tapaudit.pipeline import run

HOSTILE = Path(__file__).parent / "hostile"


def test_scalar_logical_ids_are_their_source_text():
    document = parse_document((HOSTILE / "yaml-scalar-keys.yaml").read_text())
    assert list(document.data["Resources"]) == ["1", "2024", "true", "0x10", "null"]
    assert document.source_map.locate(["Resources", "2024", "Type"]) == (6, 5)
    assert document.source_map.locate(["Resources", "true"]) == (7, 3)


def test_scalar_logical_ids_scan_without_an_internal_error():
    result = run([str(HOSTILE / "yaml-scalar-keys.yaml")], jobs=1).result
    assert result.errors == [] and len(result.templates) == 1


def test_repeated_key_is_judged_on_source_text():
    with pytest.raises(InputError, match=r"^duplicate key '1' at line 4 \(first at line 2\)$"):
        parse_document((HOSTILE / "yaml-repeated-scalar-key.yaml").read_text())
    # `1:` and `true:` are different ids (YAML 1.1 would make True == 1 a false duplicate).
    assert list(parse_document("A:\n  1: x\n  true: y\n").data["A"]) == ["1", "true"]


@pytest.mark.parametrize(("text", "message"), [
    ((HOSTILE / "yaml-unknown-tag.yaml").read_text(),
     "unknown YAML tag '!Foo' at line 4 (not a CloudFormation function)"),
    ("Resources:\n  B:\n    Type: !Rain::Module ./bucket.yml\n",
     "unknown YAML tag '!Rain::Module' at line 3 (a Rain directive: scan the template `rain pkg` writes)"),
    ("Resources:\n  F: !a%0A%1Bb {}\n",  # a tag's %-escapes are decoded: quoted escaped
     "unknown YAML tag '!a\\n\\x1bb' at line 2 (not a CloudFormation function)"),
    ("Resources:\n  B: !Ref\n", None),  # a known short form is read as before
])
def test_unknown_tag_is_an_error_naming_tag_and_line(text, message):
    if message is None:
        assert parse_document(text).data == {"Resources": {"B": {"Ref": ""}}}
        return
    with pytest.raises(InputError) as raised:
        parse_document(text)
    assert str(raised.value) == message


def test_unknown_tag_is_reported_for_its_file():
    result = run([str(HOSTILE / "yaml-unknown-tag.yaml")], jobs=1).result
    assert [(Path(e.file).name, e.message) for e in result.errors] == [
        ("yaml-unknown-tag.yaml", "unknown YAML tag '!Foo' at line 4 (not a CloudFormation function)")]
