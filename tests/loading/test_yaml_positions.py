"""Issue 16: locating every resource of a large YAML template is linear. Each mapping on a path
is read once, whatever the number of lookups (it was read once per lookup: 29 s for 10,000
resources). Counted, not timed."""

from __future__ import annotations

from tapaudit.loading.parse import parse_document


class _CountingList(list):
    """A node's children that count how often they are walked."""

    walks = 0

    def __iter__(self):
        type(self).walks += 1
        return super().__iter__()


def test_each_mapping_is_read_once_however_many_lookups():
    count = 2_000
    text = "Resources:\n" + "".join(f"  R{i}:\n    Type: AWS::SQS::Queue\n" for i in range(count))
    document = parse_document(text)
    source_map = document.source_map
    resources_node = source_map._root.value[0][1]
    resources_node.value = _CountingList(resources_node.value)
    for i in range(count):
        assert source_map.locate(["Resources", f"R{i}", "Type"]) == (3 + 2 * i, 5)
    assert _CountingList.walks == 1


def test_last_of_merged_keys_and_short_forms_still_locate():
    text = ("Base: &base {Size: 1}\nResources:\n  A:\n    Properties:\n      <<: *base\n"
            "      Size: 2\n      Name: !If [C, !Ref X, y]\n")
    source_map = parse_document(text).source_map
    assert source_map.locate(["Resources", "A", "Properties", "Size"]) == (6, 7)
    assert source_map.locate(["Resources", "A", "Properties", "Name", "Fn::If", 1]) == (7, 21)
    assert source_map.locate(["Resources", "Missing", "Type"]) == (2, 1)
