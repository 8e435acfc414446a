"""The AWS managed-policy snapshot: its block index, lookups, and a damaged file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib

import pytest

from tapaudit.model import managed_policies
from tapaudit.model.iam import role_policies
from tapaudit.model.template import Template
from tapaudit.model.values import Cause, Why
from tests.conftest import ROOT


def _reset() -> None:
    managed_policies._index.cache_clear()
    managed_policies.document.cache_clear()


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


@pytest.mark.parametrize("name", [
    "TapauditNoSuchManagedPolicy",
    "AdministratorAcc",            # a prefix of a real name
    "AAAA", "zzzz",                # before the first block, after the last
    'Admin"istratorAccess\n',      # characters that JSON escapes
])
def test_unknown_policy_is_none_and_unverifiable(name):
    assert managed_policies.document(name) is None
    template = Template({"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
        "ManagedPolicyArns": [f"arn:aws:iam::aws:policy/{name}"]}}}})
    (unverifiable,) = role_policies(template, "Role").unverifiable
    assert unverifiable.reason == (f"policy {name} is not in the managed-policy snapshot (as of "
                                   f"{managed_policies.snapshot_date()})")
    assert unverifiable.why == (Why(Cause.MANAGED_POLICY_NOT_IN_SNAPSHOT, name),)


@pytest.mark.parametrize("damage", ["missing", "header", "block"])
def test_a_damaged_snapshot_is_an_error_not_an_unknown(tmp_path, snapshot_at, damage):
    path = tmp_path / managed_policies.SNAPSHOT.name
    raw = managed_policies.SNAPSHOT.read_bytes()
    if damage == "header":
        path.write_bytes(b"{not json\n" + raw[raw.index(b"\n") + 1:])
    elif damage == "block":
        path.write_bytes(raw[:raw.index(b"\n") + 1] + bytes(len(raw) - raw.index(b"\n") - 1))
    snapshot_at(path)
    with pytest.raises(managed_policies.SnapshotError) as caught:
        managed_policies.document("AdministratorAccess")
    assert str(caught.value).startswith(f"the AWS managed-policy snapshot {path} is missing or corrupt (")
    assert str(caught.value).endswith("); reinstall tapaudit")


def test_a_damaged_installation_fails_the_scan_with_one_line(tmp_path):
    """Exit 2 naming the template and the file, while templates that need no snapshot still pass."""
    damaged = tmp_path / "snapshot.zblocks"
    damaged.write_bytes(b"{not json\n")
    needs = tmp_path / "needs.yaml"
    needs.write_text("Resources:\n  HealthCheck:\n    Type: AWS::Lambda::Function\n    Properties:\n"
                     "      Role: !GetAtt Role.Arn\n      ReservedConcurrentExecutions: 1\n"
                     "  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      ManagedPolicyArns:\n"
                     "        - arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole\n")
    plain = tmp_path / "plain.yaml"
    plain.write_text("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n")
    code = ("import sys\nfrom tapaudit.model import managed_policies\n"
            f"managed_policies.SNAPSHOT = __import__('pathlib').Path({str(damaged)!r})\n"
            "from tapaudit.cli import main\n"
            f"sys.argv = ['tapaudit', 'scan', {str(needs)!r}, {str(plain)!r}, '-f', 'json']\nmain()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 2
    [line] = [line for line in proc.stderr.splitlines() if line]
    assert line.startswith(f"tapaudit: error: {needs}: the AWS managed-policy snapshot {damaged} is "
                           "missing or corrupt (") and line.endswith("); reinstall tapaudit")
    assert json.loads(proc.stdout)["templates"] == [str(plain)]
