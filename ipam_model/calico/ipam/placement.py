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
        self.nodes: list[str] = []                  # in turn order; a name given twice is one node
        self.max_pods: dict[str, int | None] = {}   # None: no limit known
        self.pods_on: dict[str, int] = {}
        self.cursor = 0
        # Known up front so that pods beyond every node's maxPods cost no scan
        # of the nodes (a million of them on 100,000 full nodes would never end).
        self.room = 0        # pods the bounded nodes can still take
        self.unbounded = 0   # nodes without a maxPods

    def add_node(self, name: str, max_pods: int | None) -> None:
        if name not in self.max_pods:
            self.max_pods[name] = max_pods
            self.pods_on[name] = 0
            if max_pods is None:
                self.unbounded += 1
            else:
                self.room += max_pods
        self.nodes.append(name)

    def has_room(self, name: str) -> bool:
        limit = self.max_pods.get(name)
        return limit is None or self.pods_on.get(name, 0) < limit

    def next_node(self) -> str | None:
        """The next node in turn with room, counted as running one more pod;
        None when every node is at its ``maxPods`` (the cursor does not move)."""
        if not self.room and not self.unbounded:
            return None
        for step in range(len(self.nodes)):
            name = self.nodes[(self.cursor + step) % len(self.nodes)]
            if self.has_room(name):
                self.cursor += step + 1
                self.count_pod(name)
                return name
        return None

    def count_pod(self, name: str) -> None:
        """One more pod on *name* (also a scenario pod placed with ``node:``)."""
        if self._bounded(name) and self.has_room(name):
            self.room -= 1
        self.pods_on[name] = self.pods_on.get(name, 0) + 1

    def release(self, name: str) -> None:
        """A pod of *name* deleted: its slot is free again."""
        if self.pods_on.get(name, 0) > 0:
            self.pods_on[name] -= 1
            if self._bounded(name) and self.has_room(name):
                self.room += 1

    def _bounded(self, name: str) -> bool:
        return self.max_pods.get(name) is not None
