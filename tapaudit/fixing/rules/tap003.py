"""TAP003: add the status/timestamp index and the attribute definitions it needs.

Keys, types, projection and the suggested name come from the rule's parameters; the index name
never repeats one of the table's index names.
"""

from __future__ import annotations

from typing import Any

from tapaudit.fixing.edits import AppendItem
from tapaudit.fixing.plan import Names, PlanContext, Planned, is_intrinsic
from tapaudit.model.intrinsics import resolve

TABLE = "AWS::DynamoDB::Table"
GLOBAL_TABLE = "AWS::DynamoDB::GlobalTable"


def plan(ctx: PlanContext) -> Planned:
    planned = Planned()
    kind = ctx.resource.get("Type")
    if kind not in (TABLE, GLOBAL_TABLE):
        return planned.leave(f"{ctx.logical_id} is an {kind}, which cannot declare a global secondary "
                             "index: make it an AWS::DynamoDB::Table first")
    props = ctx.properties
    if not isinstance(ctx.resource.get("Properties"), dict):
        return planned.leave("Properties is not written as a mapping")
    for key in ("GlobalSecondaryIndexes", "AttributeDefinitions"):
        if key in props and not isinstance(props[key], list):
            return planned.leave(f"{key} is {'computed' if is_intrinsic(props[key]) else 'not a list'} "
                                 "as written: add the index by hand")
    billing = props.get("BillingMode", "PROVISIONED" if kind == TABLE else None)
    if billing not in ("PAY_PER_REQUEST", "PROVISIONED", None):
        return planned.leave("BillingMode is computed: the index's capacity needs your judgement")
    throughput = props.get("ProvisionedThroughput")
    if billing == "PROVISIONED" and kind == GLOBAL_TABLE:
        return planned.leave("the global table has provisioned capacity: the new index's capacity "
                             "needs your judgement")
    if billing == "PROVISIONED" and not isinstance(throughput, dict):
        return planned.leave("the table has neither BillingMode PAY_PER_REQUEST nor a "
                             "ProvisionedThroughput to give the index: its capacity needs your judgement")
    params = ctx.rule.parameters
    pk, sk = params["partition_key"], params["sort_key"]
    declared = {d.get("AttributeName"): resolve(ctx.template, d.get("AttributeType"))
                for d in props.get("AttributeDefinitions", [])
                if isinstance(d, dict) and isinstance(d.get("AttributeName"), str)}
    missing = []
    for key in (pk, sk):
        if key["name"] not in declared:
            missing.append({"AttributeName": key["name"], "AttributeType": key["type"]})
        elif declared[key["name"]] != key["type"]:
            return planned.leave(f"attribute '{key['name']}' is declared as {_shown(declared[key['name']])}, "
                                 f"the index needs {key['type']}: changing a declared type may change "
                                 "the table's keys")
    names = Names(_index_names(props))
    index: dict[str, Any] = {
        "IndexName": names.new_label(str(params["suggested_name"])),
        "KeySchema": [{"AttributeName": pk["name"], "KeyType": "HASH"},
                      {"AttributeName": sk["name"], "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": params["projection"]},
    }
    if billing == "PROVISIONED":
        index["ProvisionedThroughput"] = throughput
    own = ("Resources", ctx.logical_id, "Properties")
    planned.operations.append(AppendItem((*own, "GlobalSecondaryIndexes"), index))
    for definition in missing:
        planned.operations.append(AppendItem((*own, "AttributeDefinitions"), definition))
    return planned


def _index_names(props: dict[str, Any]) -> list[str]:
    names = []
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        for index in props.get(key) or []:
            if isinstance(index, dict) and isinstance(index.get("IndexName"), str):
                names.append(index["IndexName"])
    return names


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else "a value tapaudit cannot resolve"
