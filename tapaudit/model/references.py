"""Which resource of a template points at which: the template's reference graph, built once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tapaudit.model.graph import ReferenceGraph

if TYPE_CHECKING:
    from tapaudit.model.template import Template


def reference_graph(template: Template) -> ReferenceGraph:
    """The template's reference graph (built on first use, then memoised on the template)."""
    memo = template.memo
    if memo.reference_graph is None:
        memo.reference_graph = ReferenceGraph(template.resources)
    return memo.reference_graph
