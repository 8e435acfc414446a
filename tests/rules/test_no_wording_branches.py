"""No behaviour depends on message wording (issue 15): code decides by typed values (an unknown's
`Cause`, an outcome's `problem`), never by searching the words of a reason, detail or message.

An AST check over tapaudit/: a reason, detail or message (a variable or attribute of that name)
is never searched (`in`), tested for how it begins or ends, cut up, or matched by a regular
expression. Reworded prose then never changes what tapaudit does.
"""

from __future__ import annotations

import ast

import pytest

from tests.test_layers import PACKAGE

# Names that hold prose for people: what a predicate, an unknown or a finding says. (A rendered
# template value, such as an ARN, is data: testing it is how rules read the template.)
PROSE = {"detail", "details", "reason", "reasons", "message", "messages", "said", "problem", "note",
         "notes"}
# str methods that test or take apart the words of a text.
_TESTS = {"startswith", "endswith", "find", "rfind", "index", "rindex", "count", "split", "rsplit",
          "partition", "rpartition"}
# re functions, and the methods of a compiled pattern, that read a text given as argument.
_MATCHERS = {"search", "match", "fullmatch", "findall", "finditer", "sub", "subn"}


def _prose(node: ast.expr) -> str | None:
    """The name when `node` is a variable or attribute that holds prose."""
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
    return name if name in PROSE else None


def wording_tests(source: str) -> list[tuple[int, str]]:
    """(line, what) for each place `source` decides by the words of a reason, detail or message."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for op, right in zip(node.ops, operands[1:], strict=True):
                if isinstance(op, ast.In | ast.NotIn) and _prose(right):
                    found.append((node.lineno, f"`in` on {_prose(right)}"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method, owner = node.func.attr, node.func.value
            if method in _TESTS and _prose(owner):
                found.append((node.lineno, f"{_prose(owner)}.{method}()"))
            elif method in _MATCHERS and any(_prose(arg) for arg in node.args):
                found.append((node.lineno, f"{method}() over {next(filter(None, map(_prose, node.args)))}"))
    return found


def test_no_code_decides_by_the_words_of_a_message():
    offenders = [f"{path.relative_to(PACKAGE.parent)}:{line}: {what}"
                 for path in sorted(PACKAGE.rglob("*.py"))
                 for line, what in wording_tests(path.read_text(encoding="utf-8"))]
    assert not offenders, ("code decides by the words of a message; make the reason a typed value "
                           "(a Cause on the Unknown, a problem on the Outcome):\n" + "\n".join(offenders))


@pytest.mark.parametrize("source", [
    'if "explicitly denied" in detail: pass',                 # a search in the words
    'if "URL" not in outcome.detail: pass',                   # ... negated, on an attribute
    'ok = outcome.detail.startswith(args["message"])',        # how it begins
    'rest = detail.split(MARKER, 1)[1]',                      # a piece cut out of it
    'm = pattern.search(detail)',                             # a compiled pattern over it
    'm = re.match(r"parameter (\\w+)", unknown.reason)',      # re over an unknown's reason
])
def test_the_check_finds_each_kind_of_wording_test(source):
    assert wording_tests(source)


@pytest.mark.parametrize("source", [
    'if outcome.problem == DENIED: pass',                     # a typed kind, compared whole
    'if unknown.cause is Cause.CONNECTOR: pass',              # a typed cause
    'if detail in seen: pass',                                # a whole text as a key
    'ok = rendered.startswith("arn:")',                       # a template value, not prose
    'text = message.removeprefix(opening)',                   # trimming what the code itself wrote
])
def test_the_check_leaves_typed_decisions_alone(source):
    assert not wording_tests(source)
