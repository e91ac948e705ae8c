"""Node colours: a hue per node when there are few, a hue per node group and a
shade per node when there are many.

Each node gets a CSS class (``n0``, ``n1``, ...) that sets ``--h``, ``--s``
and ``--l`` (HSL); the stylesheet lightens them in dark mode. The hues are
spread around the wheel in an order that keeps neighbours apart.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

# Twelve hues that stay apart from each other and from the markers' colours.
HUES = (212, 28, 140, 350, 268, 184, 48, 318, 96, 240, 8, 164)
FEW_NODES = len(HUES)          # up to this many nodes, each node its own hue
LEGEND_NODES = 40              # up to this many, the legend names every node
UNGROUPED = "no node group"


@dataclass(frozen=True)
class Swatch:
    hue: int
    saturation: int            # percent
    lightness: int             # percent, light mode

    def css(self) -> str:
        return f"--h:{self.hue};--s:{self.saturation}%;--l:{self.lightness}%"


@dataclass(frozen=True)
class LegendGroup:
    name: str
    swatch: Swatch
    nodes: tuple[tuple[str, str], ...]   # (node, its CSS class)


class Palette:
    """The colour of every node, decided once for the page."""

    def __init__(self, nodes: Sequence[tuple[str, str | None]]):
        seen: dict[str, str | None] = {}
        for node, group in nodes:
            seen.setdefault(node, group)
        self.nodes = tuple(seen.items())
        groups = list(dict.fromkeys(g or UNGROUPED for g in seen.values()))
        self._group_hue = {g: HUES[i % len(HUES)] for i, g in enumerate(groups)}
        self._class: dict[str, str] = {}
        self._swatch: dict[str, Swatch] = {}
        within: dict[str, int] = {}
        for i, (node, group) in enumerate(self.nodes):
            key = group or UNGROUPED
            k = within[key] = within.get(key, -1) + 1
            self._class[node] = f"n{i}"
            self._swatch[node] = (Swatch(HUES[i], 62, 46) if len(self.nodes) <= FEW_NODES
                                  else _shade(self._group_hue[key], k))
        self.groups = tuple(groups)

    def css_class(self, node: str | None) -> str:
        """The node's class; ``nx`` (grey) for a block without a known node."""
        if node is None:
            return "nx"
        return self._class.get(node, "nx")

    def stylesheet(self) -> str:
        """One rule per node."""
        return "".join(f".{self._class[n]}{{{self._swatch[n].css()}}}" for n, _ in self.nodes)

    def legend(self) -> tuple[LegendGroup, ...]:
        """Groups in first-seen order with their nodes (every node only when few)."""
        out = []
        named = len(self.nodes) <= LEGEND_NODES
        for group in self.groups:
            members = [n for n, g in self.nodes if (g or UNGROUPED) == group]
            swatch = (self._swatch[members[0]] if len(self.nodes) <= FEW_NODES
                      else Swatch(self._group_hue[group], 62, 46))
            shown = tuple((n, self._class[n]) for n in members) if named else ()
            out.append(LegendGroup(group, swatch, shown if shown else ()))
        return tuple(out)

    def group_size(self, group: str) -> int:
        return sum(1 for _, g in self.nodes if (g or UNGROUPED) == group)


def _shade(hue: int, k: int) -> Swatch:
    """The k-th node of a group: the group's hue, nudged, at one of seven lightnesses."""
    nudge = ((k * 5) % 11) - 5          # -5..5 degrees
    lightness = 32 + (k * 3 % 7) * 5    # 32..62 %
    return Swatch((hue + nudge) % 360, 58 + (k % 3) * 8, lightness)
