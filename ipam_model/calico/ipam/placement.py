"""Which node the next pod of a load runs on: round-robin over the nodes, never
more than a node's ``maxPods``.

The one scheduling constraint calico-ipam models is the kubelet's: a node
refuses pods beyond its ``maxPods`` (kubelet ``--max-pods``, 110 by default),
so those pods never reach Calico's CNI plugin and never take an address. A
node whose ``maxPods`` is unknown (named with ``simulate --node`` outside
every node group) takes any number.
"""
from __future__ import annotations


class RoundRobin:
    """The round-robin cursor over the nodes, and the pods each node runs."""

    def __init__(self) -> None:
        self.nodes: list[tuple[str, int | None]] = []  # (name, maxPods or None: unbounded)
        self.pods_on: dict[str, int] = {}
        self.cursor = 0

    def add_node(self, name: str, max_pods: int | None) -> None:
        self.nodes.append((name, max_pods))
        self.pods_on.setdefault(name, 0)

    def has_room(self, name: str, max_pods: int | None) -> bool:
        return max_pods is None or self.pods_on[name] < max_pods

    def next_node(self) -> str | None:
        """The next node in turn with room, counted as running one more pod;
        None when every node is at its ``maxPods`` (the cursor does not move)."""
        for step in range(len(self.nodes)):
            name, max_pods = self.nodes[(self.cursor + step) % len(self.nodes)]
            if self.has_room(name, max_pods):
                self.cursor += step + 1
                self.pods_on[name] += 1
                return name
        return None

    def count_pod(self, name: str) -> None:
        """A pod placed on *name* by the user (a scenario's ``node:``)."""
        self.pods_on[name] = self.pods_on.get(name, 0) + 1

    def release(self, name: str) -> None:
        """A pod of *name* deleted: its slot is free again."""
        if self.pods_on.get(name, 0) > 0:
            self.pods_on[name] -= 1
