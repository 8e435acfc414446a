"""Which resource a text names: looking only at the resources a text may name (a literal never
names a resource whose every form holds its generated name) finds what looking at all of them
finds, on every text the fixtures' templates render or write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tapaudit.loading.parse import parse_document
from tapaudit.model import lookup
from tapaudit.model.lookup import forms
from tapaudit.model.resources import KINDS, REF_PARTS_IN_EVERY_FORM
from tapaudit.model.template import Template
from tests.conftest import FIXTURES

OPEN_VALUES = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012",
               "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}


def by_looking_at_all(template: Template, text: str, kinds: tuple[str, ...]) -> tuple | None:
    """The lookup before it left resources out: every form of every resource of `kinds`."""
    symbols = template.symbols
    concrete = symbols.concrete(text)
    everything = [(name, form, rendered) for kind in kinds for name in template.by_type.get(kind, ())
                  for form, rendered in forms(template, name).items()]
    exact = next(((n, f, True) for n, f, r in everything if symbols.concrete(r) == concrete), None)
    return exact or next(((n, f, False) for n, f, r in everything
                          if symbols.compare(r, text, wildcards=False) is None), None)


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict | list):
        for inner in value.values() if isinstance(value, dict) else value:
            yield from strings_in(inner)


def texts(template: Template) -> set[str]:
    """The template's own strings, every rendered form, and each with its open placeholders
    written as literals (as a policy written by hand names an account and a region)."""
    found = {s for s in strings_in(template.resources) if len(s) < 300}
    rendered = [text for name in template.resources for text in forms(template, name).values()]
    names = {char: name for name, char in template.symbols._chars.items()}  # once all are made
    found.update(rendered)
    found.update("".join(OPEN_VALUES.get(names.get(c, ""), c) for c in text) for text in rendered)
    return found


def test_a_literal_text_names_what_it_named_when_every_resource_was_looked_at():
    templates = sorted(FIXTURES.glob("TAP00*/*.json")) + sorted(FIXTURES.glob("TAP00*/yaml-*.yaml"))
    assert len(templates) > 60
    compared = literal = maybe = 0
    for path in templates:
        data = parse_document(path.read_text(encoding="utf-8")).data
        template = Template(data)
        kinds = tuple(template.by_type)
        for text in sorted(texts(template)):
            for asked in (kinds, *((k,) for k in kinds)):
                found = lookup._by_text(template, text, asked)
                assert found == by_looking_at_all(template, text, asked), (path.name, text, asked)
                compared += 1
                maybe += found is not None and not found[2]
                literal += not template.symbols.has_tokens(template.symbols.concrete(text))
    assert compared > 10_000 and literal > 5_000 and maybe > 100


def test_every_modelled_type_holds_its_name_in_every_form():
    # Not required (a type that did not would keep every resource in the lookup), but a new type
    # that breaks it deserves a look.
    assert set(KINDS) == REF_PARTS_IN_EVERY_FORM


def test_a_value_is_remembered_apart_from_every_other():
    """What a value names is remembered per template; a value never gets another's answer, in
    either order: a mapping with a number key (kept by its repr) and the text of that repr, a
    string and the same characters as bytes (YAML's !!binary), a float and the integer it equals."""
    pairs = [({1: "x", "a": "y"}, "{1: 'x', 'a': 'y'}"), (["Q"], [b"Q"]), ([1.0], [1]),
             (["\ud800"], "['\\ud800']")]
    for first, second in pairs:
        for order in ((first, second), (second, first)):
            template = Template({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}})
            fresh = [lookup.denoted(Template(template.data), value) for value in order]
            assert [lookup.denoted(template, value) for value in order] == fresh, order
