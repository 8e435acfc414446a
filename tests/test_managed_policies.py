"""The AWS managed-policy snapshot: its block index, lookups, and a damaged file."""

from __future__ import annotations

import json
import zlib

import pytest

from tapaudit.model import managed_policies
from tapaudit.model.iam import role_policies
from tapaudit.model.template import Template


def _reset() -> None:
    managed_policies._index.cache_clear()
    managed_policies._lookup.cache_clear()


@pytest.fixture
def snapshot_at(monkeypatch):
    """Point the reader at another file; the real snapshot comes back (caches cleared) after."""
    def point(path):
        monkeypatch.setattr(managed_policies, "SNAPSHOT", path)
        _reset()
    yield point
    monkeypatch.undo()
    _reset()


def test_index_covers_every_policy_in_the_file():
    raw = managed_policies.SNAPSHOT.read_bytes()
    start = raw.index(b"\n") + 1
    head = json.loads(raw[:start])
    names, end = [], 0
    for first, offset, length in head["blocks"]:
        assert offset == end  # the blocks follow each other, nothing in between
        end = offset + length
        lines = zlib.decompress(raw[start + offset:start + end]).splitlines()
        block = [json.loads(line) for line in lines]
        assert block[0][0] == first
        for name, document in block:
            assert managed_policies.document(name) == document
        names += [name for name, _ in block]
    assert start + end == len(raw)
    assert names == sorted(set(names))  # the reader bisects the first names
    assert len(names) == head["count"] == managed_policies.header()["count"] > 1500
    assert managed_policies.snapshot_date() == head["date"]
    assert "blocks" not in managed_policies.header()


def test_known_policies_have_their_real_statements():
    assert managed_policies.document("service-role/AWSLambdaBasicExecutionRole") == {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}
    [statement, *_] = managed_policies.document("AmazonDynamoDBReadOnlyAccess")["Statement"]
    assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
    assert {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"} <= set(statement["Action"])
    assert not any(action.startswith(("dynamodb:Put", "dynamodb:Delete"))
                   for action in statement["Action"])
    assert managed_policies.why_missing("AmazonDynamoDBReadOnlyAccess") is None


@pytest.mark.parametrize("name", [
    "TapauditNoSuchManagedPolicy",
    "AdministratorAcc",            # a prefix of a real name
    "AAAA", "zzzz",                # before the first block, after the last
    'Admin"istratorAccess\n',      # characters that JSON escapes
])
def test_unknown_policy_is_none_with_the_reason(name):
    assert managed_policies.document(name) is None
    assert managed_policies.why_missing(name) == (
        f"is not in the managed-policy snapshot (as of {managed_policies.snapshot_date()})")


@pytest.mark.parametrize("damage", ["missing", "header", "block"])
def test_damaged_snapshot_makes_the_answer_unknown_not_a_crash(tmp_path, snapshot_at, damage):
    path = tmp_path / managed_policies.SNAPSHOT.name
    raw = managed_policies.SNAPSHOT.read_bytes()
    if damage == "header":
        path.write_bytes(b"{not json\n" + raw[raw.index(b"\n") + 1:])
    elif damage == "block":
        path.write_bytes(raw[:raw.index(b"\n") + 1] + bytes(len(raw) - raw.index(b"\n") - 1))
    snapshot_at(path)
    assert managed_policies.document("AdministratorAccess") is None
    template = Template({"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
        "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]}}}})
    [why] = role_policies(template, "Role").unverifiable
    assert why.startswith("policy AdministratorAccess cannot be read: the managed-policy snapshot "
                          f"{path} is missing or corrupt (")
    assert why.endswith("); reinstall tapaudit")
