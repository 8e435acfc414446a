"""What the model derives from one template and memoises on it: the shapes of those facts, and the
`Memo` that holds them. Nothing here reads a template, so `Template` can declare its memo without
importing the evaluators that fill it."""

from __future__ import annotations

from typing import Any

from msgspec import Struct, field

from tapaudit.model.budget import Budget
from tapaudit.model.graph import ReferenceGraph
from tapaudit.model.values import Conditions, Unknown


class Denotation(Struct, frozen=True):
    """A resource that a value names, and which of its forms the value is."""

    logical_id: str
    form: str  # "Ref" or the attribute whose value it is
    exact: bool = True  # False: the same name, but a literal account/region that may differ
    conditions: Conditions = ()


class Statement(Struct, frozen=True):
    effect: str
    actions: tuple[str | Unknown, ...]  # rendered
    not_action: bool
    resources: tuple[str | Unknown, ...]  # rendered
    not_resource: bool
    branch_conditions: Conditions
    origin: str
    condition: Any = None  # the statement's Condition block, None when it has none
    principal: Any = None  # resource policies only
    not_principal: bool = False


class RolePolicies(Struct):
    statements: list[Statement]
    unverifiable: list[Unknown]  # why some attached policy's content cannot be seen
    snapshot: list[str] = field(default_factory=list)  # AWS managed policies read from the snapshot


# A question to `lookup.naming_index`: (source types, properties, target types).
NamingQuestion = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


class Memo(Struct):
    """Everything computed once per template. Each field belongs to the function named beside it."""

    reference_graph: ReferenceGraph | None = None  # references.reference_graph
    forms: dict[str, dict[str, str]] = field(default_factory=dict)  # lookup.forms, by resource
    denoted: dict[Any, list[Denotation] | Unknown] = field(default_factory=dict)  # lookup.denoted
    # lookup._exact: by type, and whether the text looked up is literal
    exact: dict[tuple[str, bool], dict[str, tuple[str, str]]] = field(default_factory=dict)
    naming: dict[NamingQuestion, dict[str, set[str]]] = field(default_factory=dict)  # lookup
    nameable: dict[tuple[str, bool], list[str]] = field(default_factory=dict)  # lookup._nameable
    role_policies: dict[str, RolePolicies] = field(default_factory=dict)  # iam.role_policies
    # iam._managed_statements: an AWS managed policy's statements, by name and Fn::If branch
    managed_statements: dict[tuple[str, Conditions], list[Statement]] = field(default_factory=dict)
    resolving: set[str] = field(default_factory=set)  # intrinsics: names being evaluated now
    physical_names: dict[str, list[tuple[str, Conditions]]] = field(default_factory=dict)  # intrinsics
    # intrinsics._returned: what Ref (attribute None) or Fn::GetAtt returns, when known in full
    returned: dict[tuple[str, str | None], list[tuple[str, Conditions]]] = field(default_factory=dict)
    service_tokens: dict[str, list[str]] | None = None  # invocation._service_tokens
    dynamodb_index_probes: list[str] | None = None  # predicates.lambda_functions._index_probes
    free_names: dict[Any, Any] = field(default_factory=dict)  # names.free_*: taken ids, free names
    budget: Budget = field(default_factory=Budget)  # intrinsics: what evaluating it has cost
