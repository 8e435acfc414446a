"""The generic edit engine: operations on paths become text edits of the original file.

A planner says *what* to change as operations on the template's paths (`SetValue`, `AppendItem`);
this module says *where* in the text: each operation is placed against the original file, so
every edit is an (offset, offset, new text) of the file as written. Operations that add keys to
the same missing mapping are merged first (two rules adding to a missing `Properties` write it
once). Edits are then grouped into hunks of whole lines, the unit of the diff, of `--write` and
of SARIF's `artifactChanges`; outside its hunks the file keeps every byte.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from msgspec import Struct, field

from tapaudit.fixing import render
from tapaudit.fixing.document import Document, Node

REVIEW_COMMENT = "# tapaudit: review this value"


class SetValue(Struct, frozen=True):
    """Put `value` at `path`: replace what is there, or add the keys that are missing."""

    path: tuple[str | int, ...]
    value: Any
    review: bool = False  # a value that needs the user's judgement: marked with REVIEW_COMMENT in YAML


class AppendItem(Struct, frozen=True):
    """Append `item` to the list at `path` (made when missing)."""

    path: tuple[str | int, ...]
    item: Any


Operation = SetValue | AppendItem


class Unplaceable(Exception):
    """The operation cannot be written as a safe edit of this text (a computed value, a flow
    collection holding what must change...): the finding is left, with this reason."""


class TextEdit(Struct, frozen=True):
    start: int
    end: int
    text: str
    owner: str  # the finding (fingerprint) it fixes
    # Insertions at one point go deepest first: a YAML block ends where its parent's next key may go.
    depth: int = 0


class Hunk(Struct):
    """Whole lines [start, end) of the original replaced by `text`, for the findings in `owners`."""

    start: int
    end: int
    text: str
    owners: list[str] = field(default_factory=list)


class _Insert(Struct):
    """Keys to add to an existing mapping (merged), or items to an existing sequence."""

    node: Node
    owner: str
    entries: dict = field(default_factory=dict)
    items: list = field(default_factory=list)
    review: set = field(default_factory=set)  # keys whose (scalar) value is marked for review


_MISSING = object()


def place(doc: Document, owned: Sequence[tuple[str, Operation]]) -> list[TextEdit]:
    """Text edits for `owned` (owner, operation) pairs, in order; Unplaceable names the first
    operation that cannot be written (the caller leaves its finding)."""
    inserts: dict[int, _Insert] = {}
    edits: list[TextEdit] = []
    for owner, op in owned:
        path = op.path
        nodes, rest = _walk(doc, path)
        last = nodes[-1]
        value = op.value if isinstance(op, SetValue) else op.item
        if not rest:
            if isinstance(op, AppendItem):
                if last.kind != "sequence" or last.tag is not None:
                    raise Unplaceable(f"{_where(path)} is not a list as written")
                inserts.setdefault(last.start, _Insert(last, owner)).items.append(value)
            else:
                edits.append(_replace(doc, nodes, path, value, op.review, owner))
            continue
        if last.kind != "mapping" or last.tag is not None or not isinstance(rest[0], str):
            raise Unplaceable(f"{_where(path[:len(path) - len(rest)])} is "
                              f"{'computed by ' + last.tag if last.tag else 'not a mapping as written'}")
        if any(not isinstance(step, str) for step in rest[1:]):
            raise Unplaceable(f"{_where(path)}: a list position that does not exist")
        insert = inserts.setdefault(last.start, _Insert(last, owner))
        target = insert.entries
        for step in rest[:-1]:
            target = target.setdefault(step, {})
            if not isinstance(target, dict):
                raise Unplaceable(f"{_where(path)}: two edits disagree")
        leaf = rest[-1]
        if isinstance(op, AppendItem):
            target.setdefault(leaf, []).append(value)
        else:
            target[leaf] = value
            if op.review and len(rest) == 1:
                insert.review.add(leaf)
    for insert in inserts.values():
        edits.append(_insert(doc, insert))
    return edits


def _walk(doc: Document, path: Sequence[str | int]) -> tuple[list[Node], list[str | int]]:
    nodes = doc.walk(path)
    for parent, node in pairwise(nodes):
        # An anchored node is shared by its aliases, and an alias's span is the anchor's.
        if doc.text.startswith("&", node.start) or not parent.start <= node.start <= node.end <= parent.end:
            raise Unplaceable(f"{_where(path)} is written through a YAML anchor or alias")
    steps = doc.steps(path)
    return nodes, list(steps[len(nodes) - 1:])


def _where(path: Sequence[str | int]) -> str:
    return ".".join(str(step) for step in path[1:] if step != "Properties" or path[0] != "Resources") \
        if path else "the template"


def _content_end(doc: Document, end: int) -> int:
    """The offset after the last character that is not a space or line break, before `end`."""
    text = doc.text
    while end > 0 and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def _insert_point(doc: Document, end: int) -> tuple[int, str]:
    """Where lines go after a node ending at `end`: the next line's start, and a newline to write
    first when the text ends without one."""
    at = doc.line_end(_content_end(doc, end))
    if at == len(doc.text) and not doc.text.endswith("\n"):
        return at, doc.newline
    return at, ""


# ---- YAML -------------------------------------------------------------------------------------
def _yaml_unit(doc: Document) -> int:
    resources = doc.node(("Resources",))
    first = doc.first_member_start(resources) if resources and resources.kind == "mapping" else None
    column = doc.column(first) if first is not None else 0
    return column if 2 <= column <= 8 else 2


def _replace(doc: Document, nodes: list[Node], path: Sequence[str | int], value: Any, review: bool,
             owner: str) -> TextEdit:
    node = nodes[-1]
    if doc.format == "json":
        return _json_replace(doc, node, value, owner)
    end = _content_end(doc, node.end)
    single = "\n" not in doc.text[node.start:end]
    simple = not isinstance(value, dict | list) or (isinstance(value, dict) and len(value) == 1
                                                    and next(iter(value)).startswith(("Fn::", "Ref")))
    parent = nodes[-2] if len(nodes) > 1 else None
    if single and (simple or (parent is not None and parent.inline)):
        edit = TextEdit(node.start, end, render.yaml_inline(value), owner)
        return _with_review_comment(doc, edit) if review else edit
    if parent is not None and parent.inline:
        raise Unplaceable(f"{_where(path)} is inside a YAML flow collection")
    unit = _yaml_unit(doc)
    if parent is not None and parent.kind == "sequence":
        lines = render.yaml_block(value, unit)
        pad = " " * doc.column(node.start)
        return TextEdit(node.start, end, (doc.newline + pad).join(lines), owner)
    start = node.start
    while start > 0 and doc.text[start - 1] in " \t":
        start -= 1
    pad = " " * (doc.column(_key_of(doc, nodes)) + unit)
    lines = render.yaml_block(value, unit)
    return TextEdit(start, end, "".join(doc.newline + pad + line for line in lines), owner)


def _with_review_comment(doc: Document, edit: TextEdit) -> TextEdit:
    """The edit, with REVIEW_COMMENT at the end of its line (inside a flow collection a comment
    would end the line early)."""
    eol = doc.line_end(edit.end)
    eol -= len(doc.newline) if doc.text.endswith(doc.newline, 0, eol) else 0
    text = edit.text + doc.text[edit.end:eol].rstrip(" \t") + "  " + REVIEW_COMMENT
    return TextEdit(edit.start, eol, text, edit.owner, edit.depth)


def _key_of(doc: Document, nodes: list[Node]) -> int:
    parent, node = nodes[-2], nodes[-1]
    doc.fill(parent)
    for key_at, value in parent.members.values():
        if value is node:
            return key_at
    return node.start


def _insert(doc: Document, insert: _Insert) -> TextEdit:
    node = insert.node
    if doc.format == "json":
        return _json_insert(doc, insert)
    if node.inline:
        members = [f"{render.yaml_inline(k)}: {render.yaml_inline(v)}" for k, v in insert.entries.items()] \
            if node.kind == "mapping" else [render.yaml_inline(i) for i in insert.items]
        close = _content_end(doc, node.end) - 1  # the closing bracket
        inner = doc.text[node.start + 1:close].strip()
        text = (", " if inner else "") + ", ".join(members)
        if insert.review:
            return _with_review_comment(doc, TextEdit(close, close, text, insert.owner))
        return TextEdit(close, close, text, insert.owner)
    unit = _yaml_unit(doc)
    if node.kind == "mapping":
        first = doc.first_member_start(node)
        pad = " " * doc.column(first if first is not None else node.start)
        lines = []
        for key, value in insert.entries.items():
            block = render.yaml_block({key: value}, unit)
            if key in insert.review:
                block[-1] += "  " + REVIEW_COMMENT
            lines += block
    else:
        dash = doc.text.rfind("-", 0, doc.first_member_start(node) or node.start)
        pad = " " * doc.column(dash)
        lines = []
        for item in insert.items:
            block = render.yaml_block(item, unit) if isinstance(item, dict | list) \
                else [render.yaml_inline(item)]
            lines += ["- " + block[0], *("  " + line for line in block[1:])]
    last = node.end if node.kind == "sequence" else doc.last_member_end(node) or node.end
    at, lead = _insert_point(doc, last)
    body = doc.newline.join(pad + line for line in lines)
    return TextEdit(at, at, lead + body + ("" if lead else doc.newline), insert.owner, len(pad))


# ---- JSON -------------------------------------------------------------------------------------
_JSON_INDENT = re.compile(r"\n([ \t]+)\S")


def _json_unit(doc: Document) -> str:
    found = _JSON_INDENT.search(doc.text)
    return found.group(1) if found else "  "


def _json_replace(doc: Document, node: Node, value: Any, owner: str) -> TextEdit:
    inline = "\n" not in doc.text[node.start:node.end] and not isinstance(value, dict | list)
    unit = None if inline or "\n" not in doc.text else _json_unit(doc)
    return TextEdit(node.start, node.end,
                    render.json_text(value, doc.indent_of(node.start), unit, _compact(doc)), owner)


def _compact(doc: Document) -> bool:
    return '": ' not in doc.text[:4096] and '",' in doc.text[:4096]


def _json_insert(doc: Document, insert: _Insert) -> TextEdit:
    """New members after the last one (`,` then the members), or inside an empty container;
    on their own lines at the siblings' indentation, or on the line when the container is."""
    node, text = insert.node, doc.text
    compact = _compact(doc)
    colon = ":" if compact else ": "
    if node.kind == "mapping":
        members = [(render.json_text(k, "", None, compact) + colon, v) for k, v in insert.entries.items()]
    else:
        members = [("", item) for item in insert.items]
    first = doc.first_member_start(node)
    own_lines = "\n" in text[node.start:first] if first is not None else not node.inline
    if own_lines:
        base = doc.indent_of(first) if first is not None else doc.indent_of(node.start) + _json_unit(doc)
        unit: str | None = _json_unit(doc)
        sep = doc.newline + base
    else:
        base, unit, sep = "", None, "" if compact else " "
    rendered = [key + render.json_text(v, base, unit, compact).replace("\n", doc.newline)
                for key, v in members]
    last = doc.last_member_end(node)
    if last is not None:
        return TextEdit(last, last, "".join("," + sep + member for member in rendered), insert.owner)
    body = ("," + sep).join(rendered)
    if own_lines:
        body = sep + body + doc.newline + doc.indent_of(node.start)
    return TextEdit(node.start + 1, node.end - 1, body, insert.owner)


# ---- hunks ------------------------------------------------------------------------------------
class Conflict(Exception):
    """Two findings' edits overlap."""


def hunks(doc: Document, edits: Sequence[TextEdit]) -> list[Hunk]:
    """Edits as whole-line hunks of the original, merged where they touch; overlapping edits
    (other than insertions at one point) raise Conflict."""
    text = doc.text
    ordered = [edit for _, edit in sorted(enumerate(edits),
                                          key=lambda p: (p[1].start, p[1].end, -p[1].depth, p[0]))]
    groups: list[tuple[int, int, list[TextEdit]]] = []
    previous_end = -1
    for edit in ordered:
        if edit.start < previous_end:
            raise Conflict(edit.owner)
        previous_end = edit.end
        start = doc.line_start(edit.start)
        at_line_end = edit.end == 0 or text[edit.end - 1] == "\n"
        end = edit.end if at_line_end and (edit.end > edit.start or start == edit.start) \
            else doc.line_end(edit.end)
        if groups and start <= groups[-1][1]:
            first, last, members = groups[-1]
            groups[-1] = (first, max(last, end), [*members, edit])
        else:
            groups.append((start, end, [edit]))
    result = []
    for start, end, members in groups:
        out, at = [], start
        for edit in members:
            out += [text[at:edit.start], edit.text]
            at = edit.end
        out.append(text[at:end])
        result.append(Hunk(start, end, "".join(out), list(dict.fromkeys(e.owner for e in members))))
    return result


def apply(text: str, parts: Sequence[Hunk]) -> str:
    out, at = [], 0
    for hunk in sorted(parts, key=lambda h: (h.start, h.end)):
        out.append(text[at:hunk.start])
        out.append(hunk.text)
        at = hunk.end
    out.append(text[at:])
    return "".join(out)
