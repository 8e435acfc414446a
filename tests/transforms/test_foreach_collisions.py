"""Issue 16: an Fn::ForEach output whose logical id is already taken is an input error naming the
id (CloudFormation rejects the template); the explicit resource never silently vanishes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tapaudit.errors import InputError
from tapaudit.model.provenance import Provenance
from tapaudit.pipeline import run
from tapaudit.transforms.foreach import expand_language_extensions

HOSTILE = Path(__file__).parent.parent / "loading" / "hostile"


def test_generated_id_equal_to_an_explicit_resource_is_an_error():
    result = run([str(HOSTILE / "foreach-collision.yaml")], jobs=1).result
    assert [e.message for e in result.errors] == [
        "'Fn::ForEach::Functions' generates 'FnA', which the template already defines"]
    assert result.templates == [] and result.findings == []


@pytest.mark.parametrize(("resources", "message"), [
    # the explicit resource after the loop: the same clash, whatever the order
    ({"Fn::ForEach::L": ["N", ["A"], {"R${N}": {"Type": "AWS::SQS::Queue"}}],
      "RA": {"Type": "AWS::SNS::Topic"}},
     "'Fn::ForEach::L' generates 'RA', which the template already defines"),
    ({"Fn::ForEach::L": ["N", ["A", "A"], {"R${N}": {"Type": "AWS::SQS::Queue"}}]},
     "'Fn::ForEach::L' generates 'RA', which is generated twice"),
    ({"Fn::ForEach::L": ["N", ["A"], {"R${N}": {"Type": "AWS::SQS::Queue"}}],
      "Fn::ForEach::M": ["N", ["A"], {"R${N}": {"Type": "AWS::SNS::Topic"}}]},
     "'Fn::ForEach::M' generates 'RA', which is generated twice"),
])
def test_every_clash_is_refused(resources, message):
    with pytest.raises(InputError) as raised:
        expand_language_extensions({"Resources": resources}, Provenance())
    assert str(raised.value) == message
