"""Which declared node group a node belongs to, for the legend's colours.

``simulate`` names its nodes ``<group>-<i>`` (``calico.ipam.from_stack.node_names``);
a live node is matched by that name first, then by carrying every label of a
group that declares labels (the most specific group wins); otherwise it
belongs to no group.
"""
from __future__ import annotations

import re
from typing import Mapping, Sequence

from ...core.model import NodeGroup


class NodeGroups:
    def __init__(self, groups: Sequence[NodeGroup]):
        # Longest names first: a node of group "web-1" is "web-1-0", not group "web"'s.
        self._named = [(re.compile(re.escape(g.name) + r"-\d+"), g.name)
                       for g in sorted(groups, key=lambda g: -len(g.name))]
        self._labelled = sorted((g for g in groups if g.labels), key=lambda g: -len(g.labels))

    def group_of(self, node: str, labels: Mapping[str, str] | None = None) -> str | None:
        for pattern, name in self._named:
            if pattern.fullmatch(node):
                return name
        for g in self._labelled:
            if labels and all(labels.get(k) == v for k, v in g.labels.items()):
                return g.name
        return None
