"""Node colours: a hue per node when few, a hue per node group and a shade per
node when many; the legend names nodes only while it stays readable."""
from __future__ import annotations

from ipam_model.views.html.colours import FEW_NODES, HUES, LEGEND_NODES, UNGROUPED, Palette


def hue_of(palette: Palette, node: str) -> int:
    css = palette.stylesheet()
    rule = css.split(f".{palette.css_class(node)}{{", 1)[1].split("}", 1)[0]
    return int(rule.split("--h:", 1)[1].split(";", 1)[0])


def test_few_nodes_get_distinct_hues():
    nodes = [(f"n{i}", "g" if i % 2 else None) for i in range(FEW_NODES)]
    palette = Palette(nodes)
    assert len({hue_of(palette, n) for n, _ in nodes}) == FEW_NODES
    assert [g.name for g in palette.legend()] == [UNGROUPED, "g"]  # in first-seen order


def test_many_nodes_are_coloured_by_group_and_shaded_per_node():
    nodes = [(f"a-{i}", "a") for i in range(300)] + [(f"b-{i}", "b") for i in range(300)]
    palette = Palette(nodes)
    for node, group in nodes:
        base = HUES[0] if group == "a" else HUES[1]
        assert min(abs(hue_of(palette, node) - base), 360 - abs(hue_of(palette, node) - base)) <= 5
    shades = {palette.stylesheet().split(f".{palette.css_class(n)}{{", 1)[1].split("}", 1)[0]
              for n, _ in nodes[:7]}
    assert len(shades) == 7  # neighbours in a group look different
    legend = palette.legend()
    assert [(g.name, g.nodes) for g in legend] == [("a", ()), ("b", ())]  # too many to name
    assert palette.group_size("a") == 300


def test_the_legend_names_every_node_while_few_and_unknown_nodes_are_grey():
    nodes = [(f"n{i}", "g") for i in range(LEGEND_NODES)]
    palette = Palette(nodes)
    assert len(palette.legend()[0].nodes) == LEGEND_NODES
    assert palette.css_class("someone-else") == "nx" and palette.css_class(None) == "nx"
    assert Palette(nodes + [("n0", "other")]).nodes == Palette(nodes).nodes  # first group wins
