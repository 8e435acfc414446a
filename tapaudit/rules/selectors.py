"""Selectors: jsonpath expressions (parsed by jsonpath-ng) walked with CloudFormation semantics.

jsonpath-ng parses; the walk is ours, because every step has to follow both branches of an
Fn::If, treat `Ref: AWS::NoValue` as absent, and remember the path for line numbers.
Supported: `$`, `.field`, `[n]`, `[*]` (every list item) and `.*` (every list item or mapping
value). Each step says what it reads: `.field` a mapping, `[n]` and `[*]` a list; a value of
another JSON type comes out `Malformed`, which the engine reports as an invalid resource.
Plain selectors (every built-in rule's) are read by a regular expression: importing jsonpath-ng
and building its parser costs ~50 ms, more than a whole scan; anything else goes to jsonpath-ng.
A selector has at most MAX_SELECTOR_STEPS steps (model/budget.py): a longer one is refused before
it is parsed (jsonpath-ng's tree of 20,000 steps is deeper than Python's recursion limit).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from tapaudit.model.budget import MAX_SELECTOR_STEPS
from tapaudit.model.values import Branch, child, items

Step = tuple[str, str | int | None]
_PLAIN = re.compile(r"\$((?:\.[A-Za-z_][A-Za-z0-9_]*|\.\*|\[\d+\]|\[\*\])*)")
_PLAIN_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|(\.\*)|(\[\*\])|\[(\d+)\]")


class SelectorError(ValueError):
    pass


@cache
def _parser() -> Any:
    # jsonpath_ng.parse() builds a new PLY parser (tables included) per call; one serves all.
    from jsonpath_ng.parser import JsonPathParser

    return JsonPathParser()


def compile_selector(expression: str) -> tuple[Step, ...]:
    # Every step begins with `.` or `[`: their count bounds the steps, whatever the syntax.
    if expression.count(".") + expression.count("[") > MAX_SELECTOR_STEPS:
        raise SelectorError(f"selector {_shown(expression)!r} has more than {MAX_SELECTOR_STEPS} steps")
    plain = _PLAIN.fullmatch(expression)
    if plain:
        return tuple(_plain_steps(plain.group(1)))
    return compile_with_jsonpath(expression)


def _shown(expression: str) -> str:
    return expression if len(expression) <= 40 else expression[:40] + "..."


def _plain_steps(text: str) -> Iterator[Step]:
    for field, each, listed, index in _PLAIN_STEP.findall(text):
        if field:
            yield ("field", field)
        elif each:
            yield ("each", None)
        elif listed:
            yield ("items", None)
        else:
            yield ("index", int(index))


def compile_with_jsonpath(expression: str) -> tuple[Step, ...]:
    try:
        tree = _parser().parse(expression)
        return tuple(_steps(tree, expression, iter(_bracketed_wildcards(expression))))
    except RecursionError:  # parentheses nested thousands deep: few steps, a deep tree
        raise SelectorError(f"selector {_shown(expression)!r} is nested too deep") from None
    except SelectorError:
        raise
    except Exception as exc:  # jsonpath-ng raises bare Exceptions for syntax errors
        raise SelectorError(f"invalid selector {expression!r}: {exc}") from None


def _bracketed_wildcards(expression: str) -> list[bool]:
    """For each `*` of the expression, in order: `[*]` (a list is read) or `.*` (any container).
    jsonpath-ng parses both to the same node; its lexer still tells them apart."""
    from jsonpath_ng.lexer import JsonPathLexer

    tokens = list(JsonPathLexer().tokenize(expression))
    return [i > 0 and tokens[i - 1].type == "[" for i, token in enumerate(tokens) if token.type == "*"]


def _steps(node: object, expression: str, bracketed: Iterator[bool]) -> Iterator[Step]:
    from jsonpath_ng import jsonpath

    # jsonpath-ng < 1.7 parses `[*]` as an open Slice; newer releases as Wildcard.
    wildcard = (jsonpath.Wildcard,) if hasattr(jsonpath, "Wildcard") else ()
    if isinstance(node, jsonpath.Root | jsonpath.This):
        return
    if isinstance(node, jsonpath.Child):
        yield from _steps(node.left, expression, bracketed)
        yield from _steps(node.right, expression, bracketed)
    elif isinstance(node, jsonpath.Fields) and node.fields == ("*",):
        yield ("items", None) if next(bracketed, False) else ("each", None)
    elif isinstance(node, jsonpath.Fields):
        if len(node.fields) != 1:
            raise SelectorError(f"selector {expression!r}: use one field name per step")
        yield ("field", node.fields[0])
    elif isinstance(node, wildcard) or (isinstance(node, jsonpath.Slice) and node.start is None
                                          and node.end is None and node.step is None):
        yield ("items", None) if next(bracketed, False) else ("each", None)
    elif isinstance(node, jsonpath.Index) and len(node.indices) == 1:
        yield ("index", node.indices[0])
    else:
        raise SelectorError(f"selector {expression!r}: {type(node).__name__} is not supported")


def select(steps: tuple[Step, ...], start: Branch) -> Iterator[Branch]:
    current = [start]
    for kind, arg in steps:
        following: list[Branch] = []
        for branch in current:
            if kind == "each" and isinstance(branch.value, dict):
                for key in branch.value:
                    following.extend(child(branch, key))
            elif kind in ("each", "items"):
                following.extend(items(branch))
            else:
                following.extend(child(branch, arg))  # type: ignore[arg-type]
        current = following
    return iter(current)
