"""The declared load on the Calico IPAM model, and the bookkeeping of replays.

How the load is built:

* nodes: every node group, named ``<group>-<i>`` (i from 0) with the group's
  labels; every node starts first (tunnel addresses), in group order;
* pods: each namespace's ``expectedPods``, namespaces in name order, placed
  round-robin over the nodes, never more than a group's ``maxPods`` on a
  node; a pod gets one address per family that has an enabled Workload pool,
  or none when Calico refuses one of them (the CNI ADD, as ``simulate`` runs it).
"""
from __future__ import annotations

import copy

from ...calico.ipam.chooser import NODE_NAME_LABEL
from ...calico.ipam.cni import CniConfig, PodRequest
from ...calico.ipam.from_stack import families_in_use, node_names, simulator_for_stack
from ...calico.ipam.results import AllocationFailure
from ...calico.ipam.simulator import Simulator
from ...core.model import NodeGroup, Stack, frozen_map

_NO_ANNOTATIONS = frozen_map()  # the declared pods carry none (read-only, shared)


def first_failure(results: list) -> AllocationFailure | None:
    """The first refusal among one pod's allocations, or None."""
    return next((r for r in results if isinstance(r, AllocationFailure)), None)


class Load:
    """The declared load on a fresh simulator, with the round-robin placement state."""

    def __init__(self, stack: Stack):
        self.sim: Simulator = simulator_for_stack(stack)
        self.families = families_in_use(stack.pools.values())
        self.cni = CniConfig.for_families(self.families)
        self.nodes: list[tuple[str, str, int]] = []  # (node, group, max_pods)
        self.labels: dict[str, dict] = {}
        self.pods_on: dict[str, int] = {}
        self.free_slots = 0  # pods the nodes can still take (sum of maxPods - pods)
        self.cursor = 0
        self.serial = 0
        self.allocations = 0  # requests made so far: the work a copy of this load stands for
        self.tunnel_failures: list[AllocationFailure] = []
        for group in stack.cluster.node_groups:
            for name in node_names(group.name, group.count):
                self.start_node(name, group)
        # The declared pods' results, per namespace; never changed afterwards.
        self.results: dict[str, list[list]] = {}
        self.unschedulable: dict[str, int] = {}
        for ns, binding in sorted(stack.bindings.items()):
            out = self.results.setdefault(ns, [])
            expected = binding.expected_pods or 0
            placed = min(expected, self.free_slots)
            for _ in range(placed):
                out.append(self.place(ns))
            if expected > placed:
                self.unschedulable[ns] = expected - placed

    def start_node(self, name: str, group: NodeGroup) -> None:
        self.nodes.append((name, group.name, group.max_pods))
        self.labels[name] = {NODE_NAME_LABEL: name, **group.labels}
        self.pods_on[name] = 0
        self.free_slots += group.max_pods
        for r in self.sim.add_node(name, group.labels):
            self.allocations += 1
            if isinstance(r, AllocationFailure):
                self.tunnel_failures.append(r)

    def run_pod(self, namespace: str, node: str) -> list:
        """One pod on ``node``: the CNI ADD of one address per family in use
        (``calico.ipam.cni``, as ``simulate`` runs it): its allocations, or
        ``[failure]`` with nothing kept (a dual-stack pod whose IPv4 fails
        releases its IPv6)."""
        self.serial += 1
        self.allocations += len(self.families)
        got = self.sim.add_pod(PodRequest(namespace, f"{namespace}-{self.serial}", node,
                                          _NO_ANNOTATIONS), self.cni)
        return got if isinstance(got, list) else [got]

    def place(self, namespace: str) -> list | None:
        """One more pod on the next node with room; None when every node is full."""
        if self.free_slots <= 0:
            return None
        while True:
            node, _, max_pods = self.nodes[self.cursor % len(self.nodes)]
            self.cursor += 1
            if self.pods_on[node] < max_pods:
                self.pods_on[node] += 1
                self.free_slots -= 1
                return self.run_pod(namespace, node)

    def room(self) -> int:
        return self.free_slots

    def fork(self) -> "Load":
        """An independent copy to try more pods or nodes on (``Simulator.fork``).

        The declared pods' results are shared: neither copy changes them.
        """
        twin = copy.copy(self)
        twin.sim = self.sim.fork()
        twin.nodes = list(self.nodes)
        twin.labels = dict(self.labels)  # a node's labels are never changed once made
        twin.pods_on = dict(self.pods_on)
        twin.tunnel_failures = list(self.tunnel_failures)
        return twin


class Budget:
    """Replays (pods or nodes simulated on a copy of the load) share one bound.

    Copying the load counts as the requests that built it, so many small
    replays on a large stack cost what they really cost.
    """

    def __init__(self, allocations: int):
        self.left = allocations

    def spend_on_copy(self, copy_cost: int, step: int) -> bool:
        """Pay for a copy only if at least one step of the replay can follow it."""
        return copy_cost + step <= self.left and self.spend(copy_cost)

    def spend(self, n: int) -> bool:
        if n > self.left:
            return False
        self.left -= n
        return True


class Placement:
    """Where the extra pods go: round-robin from the load's cursor over nodes with room.

    Pod r (1-based) of the node at position p is the extra pod number
    ``index(r, p)`` (0-based): rounds are full turns of the cursor, so
    (round, position) orders the extra pods exactly as ``Load.place`` does.
    """

    def __init__(self, load: Load):
        count = len(load.nodes)
        start = load.cursor % count if count else 0
        order = [load.nodes[(start + i) % count] for i in range(count)]
        self.names = [n for n, _, m in order if m > load.pods_on[n]]
        self.rooms = [m - load.pods_on[n] for n, _, m in order if m > load.pods_on[n]]
        self.total = sum(self.rooms)

    def index(self, rnd: int, pos: int) -> int:
        before = sum(min(x, rnd - 1) for x in self.rooms)
        return before + sum(1 for x in self.rooms[:pos] if x >= rnd)

    @staticmethod
    def nth(members: list[tuple[int, int]], m: int) -> tuple[int, int] | None:
        """(round, position) of the m-th (1-based) request among ``members`` (pos, room)."""
        if m > sum(room for _, room in members):
            return None
        low, high = 1, max(room for _, room in members)
        while low < high:  # first round by which m requests have been made
            mid = (low + high) // 2
            if sum(min(room, mid) for _, room in members) >= m:
                high = mid
            else:
                low = mid + 1
        left = m - sum(min(room, low - 1) for _, room in members)
        for pos, room in sorted(members):
            if room >= low:
                left -= 1
                if left == 0:
                    return low, pos
        raise AssertionError("unreachable: the round holds the request")
