"""escape.py: input text made safe for a terminal or CI log, GitHub workflow commands, Markdown
(rendered by markdown-it, the CommonMark parser rich uses, as the oracle) and XML."""

from __future__ import annotations

import json
import unicodedata
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from tapaudit.reporting.escape import github_data, github_property, json_text, markdown, printable, xml_text

BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def unsafe(char: str) -> bool:
    return unicodedata.category(char) in {"Cc", "Cs", "Zl", "Zp"} or char in BIDI


def test_printable_writes_each_unsafe_character_as_its_escape():
    assert printable("a\nb\rc\td") == "a\\nb\\rc\\td"
    assert printable("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m"
    assert printable("\x00\x7f\x85\x9b") == "\\x00\\x7f\\x85\\x9b"  # C0, DEL, NEL, CSI
    assert printable("abc\u202edef\u2066") == "abc\\u202edef\\u2066"
    assert printable("x\ud800y\udfff") == "x\\ud800y\\udfff"
    assert printable("\u2028\u2029") == "\\u2028\\u2029"


def test_printable_keeps_ordinary_text():
    text = "Café 中文 Ωmega / C:\\path ::not-a-command:: `code` [bold]x[/] 100%"
    assert printable(text) == text


@given(st.text(alphabet=st.characters(codec=None)))
def test_printable_output_is_one_safe_line_that_encodes(text):
    shown = printable(text)
    assert not any(unsafe(char) for char in shown)
    shown.encode("utf-8")  # a lone surrogate would raise UnicodeEncodeError
    assert printable(shown) == shown  # escaping twice changes nothing


def test_github_escapes_follow_the_actions_toolkit():
    assert github_data("a:b,c%\r\n") == "a:b,c%25%0D%0A"
    assert github_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def render(text: str) -> str:
    return MarkdownIt("commonmark").enable("table").enable("strikethrough").render(text)


def test_markdown_renders_input_as_the_same_text():
    for hostile in ("![beacon](https://beacon.invalid/b.png)", "**PASSED**", "__x__", "~~gone~~",
                    "<img src=x onerror=alert(1)>", "[link](https://x.invalid)", "`code`",
                    "# heading", "a | b", "&lt;tag&gt;", "\\*", "<https://auto.invalid>"):
        html = render(f"x {markdown(hostile)}")
        for tag in ("<img", "<strong", "<em", "<a ", "<code", "<s>", "<h1", "<table"):
            assert tag not in html, (hostile, html)
        assert "<" not in html.replace("<p>", "").replace("</p>", "").replace("&lt;", ""), html


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_markdown_renders_nothing_but_a_paragraph(text):
    html = render(f"x {markdown(text)}").strip()
    assert html.startswith("<p>") and html.endswith("</p>") and html.count("<") == 2, html


def test_xml_text_leaves_only_what_xml_can_carry():
    text = "a\x01b\x0bc\ud800d\ufffe\nkept\ttoo"
    safe = xml_text(text)
    assert safe == "a\\x01b\\x0bc\\ud800d\\ufffe\nkept\ttoo"
    element = ET.Element("e", name=safe)
    element.text = safe
    assert ET.fromstring(ET.tostring(element, encoding="unicode")).text == safe


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20)


@given(_JSON)
def test_json_text_is_json_dumps_indented_whatever_the_data(document):
    """Written by the C encoder and indented by msgspec, or by json.dumps where msgspec cannot
    read the text back (a lone surrogate, NaN): the same text either way."""
    expected = json.dumps(document, indent=2).replace("##[", "#\\u0023[")
    assert json_text(document) == expected


def test_json_text_writes_lone_surrogates_nan_and_commands_as_json_dumps_does():
    document = {"lone": "a\ud800b", "nan": float("nan"), "cmd": "##[error]x", "empty": [{}, []]}
    assert json_text(document) == json.dumps(document, indent=2).replace("##[", "#\\u0023[")
    assert "##[" not in json_text(document)
