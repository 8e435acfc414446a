"""TAP003: a global secondary index with the expected keys, attribute types and projection."""

from __future__ import annotations

from typing import Any

from tapaudit.model.values import Branch, Unknown, as_list, child, items
from tapaudit.rules.outcome import Outcome
from tapaudit.rules.predicates import Context, predicate


@predicate("dynamodb_gsi")
def dynamodb_gsi(ctx: Context, branch: Branch, partition_key: dict, sort_key: dict,
                 projection: str) -> list[Outcome]:
    """`branch` is the table's Properties."""
    template = ctx.template
    if not isinstance(branch.value, dict):
        return [Outcome.fail("has no properties", branch)]
    types = {}
    for definition in as_list(branch.value.get("AttributeDefinitions")):
        if isinstance(definition, dict) and isinstance(definition.get("AttributeName"), str):
            types[definition["AttributeName"]] = template.resolve(definition.get("AttributeType"))
    want = f"{partition_key['name']} ({partition_key['type']}) / {sort_key['name']} ({sort_key['type']})"
    # Judged per Fn::If branch of the index list: the index must exist whichever way it goes.
    return [_judge_indexes(indexes, types, partition_key, sort_key, projection, want)
            for indexes in child(branch, "GlobalSecondaryIndexes")]


def _judge_indexes(indexes: Branch, types: dict, partition_key: dict, sort_key: dict,
                   projection: str, want: str) -> Outcome:
    problems: list[tuple[Branch, str]] = []
    for index in items(indexes):
        problem = _index_problem(index.value, types, partition_key, sort_key, projection)
        if problem is None:
            return Outcome.ok(index)
        if isinstance(problem, Unknown):
            return Outcome.unknown(problem.reason, index)
        if problem:
            problems.append((index, problem))
    if problems:
        index, problem = problems[0]
        return Outcome.fail(f"has no global secondary index on {want} with projection "
                            f"{projection}: {problem}", index)
    return Outcome.fail(f"has no global secondary index on {want}", indexes)


def _index_problem(index: Any, types: dict, pk: dict, sk: dict, projection: str) -> str | Unknown | None:
    """None when the index matches; a description of the nearest miss otherwise ('' = unrelated)."""
    if not isinstance(index, dict):
        return ""
    keys = {}
    for element in as_list(index.get("KeySchema")):
        if isinstance(element, dict) and isinstance(element.get("KeyType"), str):
            keys[element["KeyType"]] = element.get("AttributeName")
    name = index.get("IndexName", "?")
    if keys.get("HASH") != pk["name"]:
        return ""
    if keys.get("RANGE") is None:
        return f"index '{name}' has no sort key"
    if keys.get("RANGE") != sk["name"]:
        return f"index '{name}' sorts on '{keys.get('RANGE')}', not '{sk['name']}'"
    for key in (pk, sk):
        found = types.get(key["name"])
        if isinstance(found, Unknown):
            return found
        if found != key["type"]:
            return f"attribute '{key['name']}' is type {found}, not {key['type']}"
    proj = index.get("Projection")
    kind = proj.get("ProjectionType", "KEYS_ONLY") if isinstance(proj, dict) else "KEYS_ONLY"
    if kind != projection:
        return f"index '{name}' projects {kind}, not {projection}"
    return None
