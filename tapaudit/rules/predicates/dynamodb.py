"""TAP003: a global secondary index with the expected keys, attribute types and projection."""

from __future__ import annotations

from typing import Any

from tapaudit.model.arns import shown
from tapaudit.model.intrinsics import resolve
from tapaudit.model.template import Template
from tapaudit.model.values import Branch, Cause, Unknown, as_list, child, items
from tapaudit.rules.outcome import Outcome, Status
from tapaudit.rules.predicates.registry import Context, fix_values, predicate, remedy

ATTRIBUTE_TYPES = ("S", "N", "B")
# A table SAM makes from a SimpleTable fails in a way its author can only fix by changing the type.
_SIMPLE_TABLE = "AWS::Serverless::SimpleTable"
SIMPLE_TABLE_NOTE = ("an AWS::Serverless::SimpleTable cannot have a global secondary index: declare "
                     "the table as AWS::DynamoDB::Table")
PROJECTION_TYPES = ("ALL", "KEYS_ONLY", "INCLUDE")
# What would make an index on an undeclared key attribute checkable (the fix of that unknown).
remedy(Cause.UNDECLARED_ATTRIBUTE, "Declare `{subject}` in the table's `AttributeDefinitions` "
                                   "(CloudFormation requires it), so its type can be checked.")


@predicate("dynamodb_gsi")
def dynamodb_gsi(ctx: Context, branch: Branch, partition_key: dict, sort_key: dict,
                 projection: str) -> list[Outcome]:
    """`branch` is the table's Properties."""
    outcomes = _gsi_outcomes(ctx.template, branch, partition_key, sort_key, projection)
    origin = ctx.template.provenance.origin(ctx.logical_id)
    if origin is not None and origin.resource_type == _SIMPLE_TABLE:
        return [o.noted(SIMPLE_TABLE_NOTE) if o.status is Status.FAIL else o for o in outcomes]
    return outcomes


def _gsi_outcomes(template: Template, branch: Branch, partition_key: dict, sort_key: dict,
                  projection: str) -> list[Outcome]:
    problem = Outcome.of_value(branch, "Properties")
    if problem:
        return [problem]
    if not isinstance(branch.value, dict):
        return [Outcome.fail("has no properties", branch)]
    types = {}
    for definitions in child(branch, "AttributeDefinitions"):
        for definition in items(definitions):
            problem = Outcome.of_value(definition, "AttributeDefinitions")
            if problem:
                return [problem]
            if isinstance(definition.value, dict) and isinstance(definition.value.get("AttributeName"), str):
                types[definition.value["AttributeName"]] = resolve(
                    template, definition.value.get("AttributeType"))
    want = f"{partition_key['name']} ({partition_key['type']}) / {sort_key['name']} ({sort_key['type']})"
    # Judged per Fn::If branch of the index list: the index must exist whichever way it goes.
    return [Outcome.of_value(indexes, "GlobalSecondaryIndexes")
            or _judge_indexes(template, indexes, types, partition_key, sort_key, projection, want)
            for indexes in child(branch, "GlobalSecondaryIndexes")]


def _judge_indexes(template: Template, indexes: Branch, types: dict, partition_key: dict, sort_key: dict,
                   projection: str, want: str) -> Outcome:
    problems: list[tuple[Branch, str]] = []
    for index in items(indexes):
        shape = Outcome.of_value(index, "GlobalSecondaryIndexes")
        if shape:
            return shape
        problem = _index_problem(template, index.value, types, partition_key, sort_key, projection)
        if problem is None:
            return Outcome.ok(index)
        if isinstance(problem, Unknown):
            return Outcome.unknown(problem.reason, index, problem.why)
        if problem:
            problems.append((index, problem))
    if problems:
        index, problem = problems[0]
        return Outcome.fail(f"has no global secondary index on {want} with projection "
                            f"{projection}: {problem}", index)
    return Outcome.fail(f"has no global secondary index on {want}", indexes)


def _index_problem(template: Template, index: Any, types: dict, pk: dict, sk: dict,
                   projection: str) -> str | Unknown | None:
    """None when the index matches; a description of the nearest miss otherwise ('' = unrelated)."""
    if not isinstance(index, dict):
        return ""
    keys = {}
    for element in as_list(index.get("KeySchema")):
        if isinstance(element, dict):
            key_type = resolve(template, element.get("KeyType"))
            if isinstance(key_type, str):  # a list or mapping here is a shape problem, not a key
                keys[key_type] = resolve(template, element.get("AttributeName"))
    name = shown(template, index.get("IndexName", "?"))
    if keys.get("HASH") != pk["name"]:
        return ""
    if keys.get("RANGE") is None:
        return f"index '{name}' has no sort key"
    if keys.get("RANGE") != sk["name"]:
        return f"index '{name}' sorts on '{keys.get('RANGE')}', not '{sk['name']}'"
    for key in (pk, sk):
        if key["name"] not in types:
            return Unknown.because(f"attribute '{key['name']}' is not defined in AttributeDefinitions, "
                                   "so its type cannot be told (CloudFormation requires the definition)",
                                   Cause.UNDECLARED_ATTRIBUTE, str(key["name"]))
        found = types.get(key["name"])
        if isinstance(found, Unknown):
            return found.reworded(f"the type of attribute '{key['name']}' {found.reason}")
        if found not in ATTRIBUTE_TYPES:
            return f"attribute '{key['name']}' has AttributeType {found!r}, which is invalid (valid: " \
                   f"{', '.join(ATTRIBUTE_TYPES)})"
        if found != key["type"]:
            return f"attribute '{key['name']}' is type {found}, not {key['type']}"
    proj = index.get("Projection")
    kind = resolve(template, proj.get("ProjectionType", "KEYS_ONLY")) if isinstance(proj, dict) \
        else "KEYS_ONLY"
    if isinstance(kind, Unknown):
        return kind.reworded(f"ProjectionType of index '{name}' {kind.reason}")
    if kind not in PROJECTION_TYPES:
        return f"index '{name}' has ProjectionType {kind!r}, which is invalid (valid: " \
               f"{', '.join(PROJECTION_TYPES)})"
    if kind != projection:
        return f"index '{name}' projects {kind}, not {projection}"
    return None


@fix_values("dynamodb_table")
def table_fix_values(template: Template, logical_id: str,
                     params: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """An index name the table does not use yet, and the key attributes it does not declare."""
    properties = template.properties(logical_id)
    indexes = properties.get("GlobalSecondaryIndexes")
    taken = {index.get("IndexName") for index in as_list(indexes)
             if isinstance(index, dict) and isinstance(index.get("IndexName"), str)}
    suggested = str(params.get("suggested_name") or "index")
    name = next(n for n in (suggested, *(f"{suggested}-{i}" for i in range(2, 100))) if n not in taken)
    declared = {d.get("AttributeName") for d in as_list(properties.get("AttributeDefinitions"))
                if isinstance(d, dict) and isinstance(d.get("AttributeName"), str)}
    keys = [params.get("partition_key") or {}, params.get("sort_key") or {}]
    undeclared = [f"`{key.get('name')}` ({key.get('type')})" for key in keys
                  if isinstance(key, dict) and key.get("name") not in declared]
    facts = {"attributes": "undeclared" if undeclared else "declared"}
    return facts, {"index_name": name, "undeclared_attributes": " and ".join(undeclared)}
