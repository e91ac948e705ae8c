"""A model of Calico's IPAM AutoAssign: which block, which address, when it fails.

It follows libcalico-go ``ipam.go`` ``autoAssign`` as released up to v3.31/v3.32
(reference calico-ipam-allocation.md §2, §3, §7):

* pool choice: pod annotation over namespace annotation over the CNI's
  default pools; requested pools in the order given with selectors ignored;
  otherwise enabled ``Automatic`` pools whose nodeSelector and
  namespaceSelector match, in pool-name order; ``allowedUses`` is honoured
  (``chooser.py``);
* a node uses its affine blocks first, in datastore list order (the
  BlockAffinity name ``<node>-<cidr with . : / as ->``, so ``.32/29`` lists
  before ``.8/29``), one block at a time;
* a new block is the first unclaimed one in the node's FNV-1/Go math/rand
  walk (``gorand``), pool by pool;
* inside a block the head of the ``unallocated`` queue is taken: lowest
  never-used ordinal first, released ordinals go to the back;
* no unclaimed block: borrow from the first existing block with a free
  address in walk order, unless strict affinity is on;
* ``maxBlocksPerHost`` (0 means 20) stops new claims and fails the request
  without borrowing;
* a node's tunnel addresses (IPIP, VXLAN) are assigned when it starts.

* IPReservations: a reserved address is never handed out (the block's
  ``autoAssign`` skips it and leaves it in the queue), a block wholly reserved
  is never claimed nor borrowed from, and a block counts as full when every
  unreserved address is taken (``NumFreeAddresses``; libcalico-go
  lib/ipam/ipam_block.go:105-158, 223-239; ipam.go:522-525, 552-556, 895-898;
  ipam_block_reader_writer.go:159, 178-182);
* ``autoAllocateBlocks: false``: no new block is claimed and the request fails
  with "failed to find or claim a block", before any borrowing
  (ipam.go:569-639, 780-797).

Not modelled: v3.32's reclaim of other nodes' empty blocks, IP cooldown
(unreleased HEAD), Windows' reserved ordinals, concurrent CAS retries. /32 and /128 blocks are walked with the FNV seed although
Calico seeds them with the time (see ``gorand.walk_is_deterministic``).

``Simulator`` keeps per-node affine block lists, per-pool claimed blocks, a
skip table for the claim walk and a sorted index of blocks with free space,
so an allocation never scans every block. ``NaiveSimulator`` (``naive.py``)
is the same algorithm written as a direct scan of every block; tests and the
benchmark use it as the oracle.
"""
from __future__ import annotations

import bisect
import collections
import copy
from typing import Callable, Iterable, Mapping, Sequence

from ...core.cidr import ip_text, parse_cidr
from ...core.ipreservation import ReservedRanges
from ...core.model import Pool
from .chooser import (
    NODE_NAME_LABEL,
    TUNNEL,
    WORKLOAD,
    IpamSettings,
    NamespaceInfo,
    PoolChooser,
    PoolInfo,
    Refused,
)
from .cni import CniConfig, PodRequest, cni_add
from .messages import (
    MSG_BLOCK_LIMIT,
    MSG_NO_CLAIM,
    MSG_NOT_IN_POOL,
    MSG_STRICT,
    msg_affinity_mismatch,
    msg_already_assigned,
    msg_exhausted,
    msg_partial,
)
from .results import AllocationFailure, BlockUsage, PodAllocation, TunnelAllocation


class _Block:
    __slots__ = ("info", "index", "base", "size", "affinity", "fresh", "released",
                 "allocated", "list_key", "cidr", "skipped", "reserved", "capacity",
                 "reserved_taken")

    def __init__(self, info: PoolInfo, index: int, affinity: str | None,
                 reserved: list[tuple[int, int]] = ()):
        self.info = info
        self.index = index
        self.size = info.block_addresses
        self.base = info.base + index * self.size
        self.affinity = affinity  # node name, or None
        # Calico's ``unallocated`` queue is [fresh, fresh+1, ..., size-1] + released,
        # less ``skipped``: ordinals from fresh on taken out of turn (ipAddrs).
        self.fresh = 0
        self.released: collections.deque[int] = collections.deque()
        self.allocated = 0
        self.list_key = info.list_key(index)
        self.cidr = info.block_cidr(index)
        self.skipped: set[int] | None = None
        # Reserved ordinals as sorted [first, last] spans: skipped, never taken; they
        # stay in Calico's queue, so the order of the others is unchanged.
        self.reserved = list(reserved)
        self.capacity = self.size - sum(b - a + 1 for a, b in self.reserved)
        # reserved ordinals assigned by AssignIP (ipAddrs), which ignores reservations
        self.reserved_taken: set[int] | None = None

    @property
    def free(self) -> int:
        """Addresses that can still be handed out (Calico's NumFreeAddresses)."""
        return self.capacity - self.allocated

    def take(self) -> int:
        """The head of the queue (allocationBlock.autoAssign), past reserved
        ordinals and those taken out of turn."""
        skipped = self.skipped
        while True:
            if self.reserved:
                self._skip_reserved()
            if self.fresh >= self.size:
                break
            ordinal = self.fresh
            self.fresh += 1
            if skipped and ordinal in skipped:
                skipped.discard(ordinal)
                continue
            self.allocated += 1
            return ordinal
        self.allocated += 1
        return self.released.popleft()

    def take_at(self, ordinal: int) -> bool:
        """Take *ordinal* wherever it is in the queue (allocationBlock.assign);
        False when it is allocated already. A reserved ordinal can be taken so
        (AssignIP does not read reservations); it never counted as free."""
        if self.reserved and self._is_reserved(ordinal):
            taken = self.reserved_taken
            if taken is None:
                taken = self.reserved_taken = set()
            if ordinal in taken:
                return False
            taken.add(ordinal)
            self.allocated += 1
            self.capacity += 1
            return True
        if ordinal in self.released:  # freed before: in the queue's tail
            self.released.remove(ordinal)
        elif ordinal >= self.fresh and not (self.skipped and ordinal in self.skipped):
            if self.skipped is None:
                self.skipped = set()
            self.skipped.add(ordinal)
        else:
            return False
        self.allocated += 1
        return True

    def _skip_reserved(self) -> None:
        for first, last in self.reserved:
            if first <= self.fresh <= last:
                self.fresh = last + 1
            elif first > self.fresh:
                break

    def _is_reserved(self, ordinal: int) -> bool:
        return any(first <= ordinal <= last for first, last in self.reserved)

    def give_back(self, ordinal: int) -> None:
        self.allocated -= 1
        if self.reserved_taken and ordinal in self.reserved_taken:
            self.reserved_taken.discard(ordinal)  # back to reserved: never auto-assigned
            self.capacity -= 1
            return
        self.released.append(ordinal)

    def copy(self) -> "_Block":
        twin = _Block.__new__(_Block)
        twin.info, twin.index, twin.base, twin.size = self.info, self.index, self.base, self.size
        twin.affinity, twin.fresh, twin.allocated = self.affinity, self.fresh, self.allocated
        twin.released = collections.deque(self.released)
        twin.list_key, twin.cidr = self.list_key, self.cidr
        twin.skipped = set(self.skipped) if self.skipped else None
        twin.reserved, twin.capacity = self.reserved, self.capacity  # reserved: shared
        twin.reserved_taken = set(self.reserved_taken) if self.reserved_taken else None
        return twin


class _PoolState:
    __slots__ = ("info", "blocks", "skip", "with_space", "starts", "walled", "walled_starts",
                 "walled_count", "reserved")

    def __init__(self, info: PoolInfo, reserved: ReservedRanges):
        self.info = info
        self.blocks: dict[int, _Block] = {}
        # skip[i] = j: every index from i (walk order) up to j was claimed or
        # wholly reserved when recorded; cleared whenever a block is deleted.
        self.skip: dict[int, int] = {}
        self.with_space: list[int] = []  # sorted indices of existing blocks with a free address
        self.starts: dict[str, int] = {}
        self.reserved = reserved
        # Blocks wholly reserved, as sorted [first, last] index spans: never claimed.
        self.walled = self._walled_spans()
        self.walled_starts = [a for a, _ in self.walled]
        self.walled_count = sum(b - a + 1 for a, b in self.walled)

    def _walled_spans(self) -> list[tuple[int, int]]:
        info = self.info
        if not info.num_blocks or not self.reserved:
            return []
        return self.reserved.whole_blocks(parse_cidr(info.cidr), info.block_size)

    def reserved_ordinals(self, index: int) -> list[tuple[int, int]]:
        """The reserved ordinals of block *index*, as spans."""
        size = self.info.block_addresses
        base = self.info.base + index * size
        return [(a - base, b - base)
                for a, b in self.reserved.spans_in(self.info.version, base, base + size - 1)]

    def _walled_end(self, index: int) -> int | None:
        pos = bisect.bisect_right(self.walled_starts, index) - 1
        if pos >= 0 and self.walled[pos][1] >= index:
            return self.walled[pos][1]
        return None

    def start(self, node: str) -> int:
        s = self.starts.get(node)
        if s is None:
            s = self.starts[node] = self.info.walk_start(node)
        return s

    def first_unclaimed(self, start: int) -> int | None:
        """The first block index from *start* in walk order that is neither
        claimed nor wholly reserved (findUsableBlock skips those,
        ipam_block_reader_writer.go:178-182)."""
        n = self.info.num_blocks
        blocks = self.blocks
        if len(blocks) + self.walled_count >= n:
            return None
        skip = self.skip
        i = start
        path = []
        while True:
            if i in blocks:
                path.append(i)
                i = skip.get(i, i + 1)
            elif self.walled and (end := self._walled_end(i)) is not None:
                i = end + 1
            else:
                break
            if i >= n:
                i = 0
        for p in path:
            skip[p] = i
        return i

    def first_with_space(self, start: int) -> _Block | None:
        ws = self.with_space
        if not ws:
            return None
        pos = bisect.bisect_left(ws, start)
        return self.blocks[ws[pos] if pos < len(ws) else ws[0]]

    def mark_full(self, index: int) -> None:
        ws = self.with_space
        pos = bisect.bisect_left(ws, index)
        if pos < len(ws) and ws[pos] == index:
            del ws[pos]

    def mark_space(self, index: int) -> None:
        ws = self.with_space
        pos = bisect.bisect_left(ws, index)
        if pos == len(ws) or ws[pos] != index:
            ws.insert(pos, index)

    def copy(self, twin_of: Callable[[_Block], _Block]) -> "_PoolState":
        twin = _PoolState.__new__(_PoolState)
        twin.info = self.info
        twin.blocks = {i: twin_of(b) for i, b in self.blocks.items()}
        twin.skip = dict(self.skip)
        twin.with_space = list(self.with_space)
        twin.starts = dict(self.starts)
        twin.reserved, twin.walled = self.reserved, self.walled  # never changed: shared
        twin.walled_starts, twin.walled_count = self.walled_starts, self.walled_count
        return twin


class _Node:
    __slots__ = ("name", "labels", "affine", "by_pool", "removed")

    def __init__(self, name: str, labels: Mapping[str, str]):
        self.name = name
        self.labels = {NODE_NAME_LABEL: name, **labels}
        self.affine: list[_Block] = []  # in datastore list order
        # The same blocks per pool, each list in that order: a request of one pool
        # (nearly all) looks at its own blocks only, not at every affine block.
        self.by_pool: dict[str, list[_Block]] = {}
        self.removed = False

    def add_affine(self, block: _Block) -> None:
        for blocks in (self.affine, self.by_pool.setdefault(block.info.name, [])):
            keys = [b.list_key for b in blocks]
            blocks.insert(bisect.bisect_left(keys, block.list_key), block)

    def remove_affine(self, block: _Block) -> None:
        if block in self.affine:
            self.affine.remove(block)
            self.by_pool[block.info.name].remove(block)

    def copy(self, twin_of: Callable[[_Block], _Block]) -> "_Node":
        twin = _Node.__new__(_Node)
        twin.name, twin.removed = self.name, self.removed
        twin.labels = self.labels  # never changed once made: shared
        twin.affine = [twin_of(b) for b in self.affine]
        twin.by_pool = {name: [twin_of(b) for b in blocks]
                        for name, blocks in self.by_pool.items()}
        return twin


class Simulator(IpamSettings):
    """Calico IPAM for one cluster: nodes start, pods get addresses, pods go away.

    ``pools`` are ``model.Pool`` objects (disabled ones included, as Calico
    lists them); ``namespaces`` maps a namespace name to its labels and pool
    annotations; ``cni_ipv4_pools``/``cni_ipv6_pools`` are the CNI network
    config's ``ipam.ipv4_pools``.
    """

    def __init__(self, pools: Iterable[Pool], **settings):
        super().__init__(pools, **settings)
        self._pools = {info.name: _PoolState(info, self.reserved) for info in self._chooser.infos}
        self._nodes: dict[str, _Node] = {}
        # (node, namespace, family) -> allowed pools; pools and labels never change
        self._routes: dict[tuple[str, str, int], tuple] = {}
        self._pods: dict[tuple[str, str], list[tuple[_Block, int, PodAllocation]]] = {}
        self._tunnels: dict[tuple[str, str], tuple[_Block, int, TunnelAllocation]] = {}
        self.failures: list[AllocationFailure] = []

    @property
    def chooser(self) -> PoolChooser:
        """The pool choice this simulator uses (to ask what a request would get
        without making it)."""
        return self._chooser

    def fork(self) -> "Simulator":
        """An independent copy: what either does next never changes the other.

        Blocks, nodes and indexes are copied; the pool geometry and the
        allocation records are immutable and shared. The chooser's caches are
        copied rather than shared, as a fork may start a node of the same
        name with other labels.
        """
        twins: dict[int, _Block] = {}

        def twin_of(block: _Block) -> _Block:
            twin = twins.get(id(block))
            if twin is None:
                twin = twins[id(block)] = block.copy()
            return twin

        fork = copy.copy(self)
        fork.namespaces = dict(self.namespaces)
        fork._chooser = self._chooser.fork()
        fork._pools = {name: state.copy(twin_of) for name, state in self._pools.items()}
        fork._nodes = {name: node.copy(twin_of) for name, node in self._nodes.items()}
        fork._routes = dict(self._routes)  # values: the chooser's immutable answers
        fork._pods = {key: [(twin_of(b), ordinal, a) for b, ordinal, a in entries]
                      for key, entries in self._pods.items()}
        fork._tunnels = {key: (twin_of(b), ordinal, t)
                         for key, (b, ordinal, t) in self._tunnels.items()}
        fork.failures = list(self.failures)
        return fork

    # -- nodes ---------------------------------------------------------------

    def add_node(self, name: str, labels: Mapping[str, str] | None = None
                 ) -> list[TunnelAllocation | AllocationFailure]:
        """Start a node: register its labels and assign its tunnel addresses.

        calico-node assigns them in Calico's order (IPIP, VXLAN, VXLAN IPv6)
        and stops at the first failure, releasing what this pass assigned
        (allocateip.go:222-282 reconcileTunnelAddrs): the node then has none.
        """
        node = self._nodes.get(name)
        if node is None or node.removed:
            fresh = _Node(name, labels or {})
            if node is not None:  # a re-added node finds its leftover affinities
                fresh.affine, fresh.by_pool = node.affine, node.by_pool
                self._chooser.forget(name)  # its labels may have changed
                self._routes = {k: v for k, v in self._routes.items() if k[0] != name}
            node = self._nodes[name] = fresh
        results: list[TunnelAllocation | AllocationFailure] = []
        assigned = []
        for kind, (version, pools) in self._chooser.tunnel_pools(name, node.labels).items():
            if (name, kind) in self._tunnels:
                continue
            try:
                allowed = self._chooser.choose(version, name, node.labels, None,
                                               [p.cidr for p in pools], TUNNEL)
                block, ordinal, borrowed = self._assign(node, allowed, version)
            except Refused as exc:
                for done in assigned:
                    block, ordinal, _ = self._tunnels.pop((name, done))
                    self._free(block, ordinal)
                failure = AllocationFailure(None, None, name, str(exc), kind)
                self.failures.append(failure)
                return [failure]
            tunnel = TunnelAllocation(name, kind, ip_text(block.base + ordinal, version),
                                      block.info.name, block.cidr, borrowed)
            self._tunnels[(name, kind)] = (block, ordinal, tunnel)
            assigned.append(kind)
            results.append(tunnel)
        return results

    def remove_node(self, name: str) -> None:
        """Delete a node: its addresses are leaks, its empty blocks go (kube-controllers)."""
        node = self._nodes.get(name)
        if node is None or node.removed:
            return
        node.removed = True
        for key in [k for k, v in self._pods.items() if v and v[0][2].node == name]:
            self.release(*key)
        for kind in [k for (n, k) in self._tunnels if n == name]:
            block, ordinal, _ = self._tunnels.pop((name, kind))
            self._free(block, ordinal)
        for block in list(node.affine):
            if block.allocated == 0:
                self._delete_block(block)
        # Non-empty blocks (others borrowed from them) keep the affinity until
        # they empty; ``_free`` deletes them then.

    # -- pods ----------------------------------------------------------------

    def allocate(self, namespace: str, pod: str, node: str, *,
                 pools: Sequence[str] | None = None, version: int = 4
                 ) -> PodAllocation | AllocationFailure:
        """One AutoAssign of one address of ``version`` for a pod (one family;
        ``add_pod`` is the whole CNI ADD).

        ``pools`` is the pod's ``cni.projectcalico.org/ipv4pools`` annotation
        (names or CIDRs); it overrides the namespace's annotation.
        """
        try:
            return self.auto_assign(namespace, pod, node, pools, version)
        except Refused as exc:
            failure = AllocationFailure(namespace, pod, node, str(exc))
            self.failures.append(failure)
            return failure

    def add_pod(self, pod: PodRequest, cni: CniConfig) -> list[PodAllocation] | AllocationFailure:
        """CNI ADD for one pod (``cni.cni_add``): its addresses of every family
        it asks for, or Calico's refusal with nothing kept."""
        return cni_add(self, pod, cni)

    def namespace_info(self, namespace: str) -> NamespaceInfo:
        ns = self.namespaces.get(namespace)
        if ns is None:
            ns = self.namespaces[namespace] = NamespaceInfo(namespace)
        return ns

    def _node(self, node: str) -> _Node:
        n = self._nodes.get(node)
        if n is None or n.removed:
            self.add_node(node)
            n = self._nodes[node]
        return n

    def auto_assign(self, namespace: str, pod: str, node: str, pools: Sequence[str] | None,
                    version: int) -> PodAllocation:
        """AutoAssign of one address; raises Refused with Calico's message."""
        n = self._node(node)
        route = self._routes.get((node, namespace, version)) if pools is None else None
        if route is None:
            route = self._chooser.choose(version, node, n.labels, self.namespace_info(namespace),
                                         pools, WORKLOAD)
            if pools is None:
                self._routes[(node, namespace, version)] = route
        block, ordinal, borrowed = self._assign(n, route, version)
        return self._record(namespace, pod, node, block, ordinal, borrowed)

    def _record(self, namespace: str, pod: str, node: str, block: _Block, ordinal: int,
                borrowed: bool) -> PodAllocation:
        result = PodAllocation(namespace, pod, node, ip_text(block.base + ordinal,
                                                             block.info.version),
                               block.info.name, block.cidr, borrowed)
        key = (namespace, pod)
        entry = self._pods.get(key)
        if entry is None:
            self._pods[key] = [(block, ordinal, result)]
        else:
            entry.append((block, ordinal, result))
        return result

    def assign_ip(self, namespace: str, pod: str, node: str, version: int,
                  address: int) -> PodAllocation:
        """AssignIP of one given address (the ipAddrs annotation: libcalico-go
        lib/ipam/ipam.go:961-1100 as released): the first enabled pool holding
        it, its block claimed for the node if nobody has it (no block limit),
        strict affinity refusing another node's block."""
        n = self._node(node)
        info = next((p for p in self._chooser.infos if p.enabled and p.version == version
                     and p.base <= address < p.base + p.num_blocks * p.block_addresses), None)
        if info is None:
            raise Refused(MSG_NOT_IN_POOL)
        state = self._pools[info.name]
        index = (address - info.base) // info.block_addresses
        block = state.blocks.get(index)
        if block is None:
            block = self._claim(state, index, n)
        elif self.strict_affinity and block.affinity != node:
            raise Refused(msg_affinity_mismatch(block.cidr, block.affinity))
        if not block.take_at(address - block.base):
            raise Refused(msg_already_assigned(ip_text(address, version)))
        if block.allocated == block.capacity:
            state.mark_full(index)
        return self._record(namespace, pod, node, block, address - block.base,
                            block.affinity != node)

    def release(self, namespace: str, pod: str) -> list[PodAllocation]:
        """CNI DEL: free the pod's addresses at once (Calico up to v3.32)."""
        entries = self._pods.pop((namespace, pod), [])
        for block, ordinal, _ in entries:
            self._free(block, ordinal)
        return [e[2] for e in entries]

    def release_empty_blocks(self) -> list[str]:
        """kube-controllers' GC after the grace period: a node's empty blocks are
        released while it owns more than one (its first block in list order stays)."""
        released = []
        for node in self._nodes.values():
            if node.removed:
                continue
            for block in list(node.affine):
                if len(node.affine) <= 1:
                    break
                if block.allocated == 0:
                    released.append(block.cidr)
                    self._delete_block(block)
        return released

    # -- the algorithm ---------------------------------------------------------

    def _assign(self, node: _Node, allowed: tuple[list[PoolInfo], frozenset[str]],
                version: int) -> tuple[_Block, int, bool]:
        allowed, allowed_names = allowed
        owned = 0
        if len(allowed) == 1:  # (a) affine blocks in list order: the pool's own, in order
            for block in node.by_pool.get(allowed[0].name, ()):
                owned += 1
                if block.allocated < block.capacity:
                    return block, self._take(block), False
        else:
            for block in node.affine:
                if block.info.name in allowed_names:
                    owned += 1
                    if block.allocated < block.capacity:
                        return block, self._take(block), False
        if owned >= self.max_blocks_per_host:  # (b) per-host limit: no borrowing
            raise Refused(MSG_BLOCK_LIMIT)
        if not self.auto_allocate_blocks:  # no new block, and no borrowing either
            raise Refused(MSG_NO_CLAIM)
        for info in allowed:  # (c) first unclaimed block in the walk, pool by pool
            state = self._pools[info.name]
            index = state.first_unclaimed(state.start(node.name))
            if index is not None:
                block = self._claim(state, index, node)
                return block, self._take(block), False
        if self.strict_affinity:
            raise Refused(msg_partial(version, MSG_STRICT), partial=True)
        for info in allowed:  # borrowing: first existing block with space in the walk
            state = self._pools[info.name]
            block = state.first_with_space(state.start(node.name))
            if block is not None:
                return block, self._take(block), True
        raise Refused(msg_partial(version, msg_exhausted([p.cidr for p in allowed])),
                      partial=True)

    def _claim(self, state: _PoolState, index: int, node: _Node) -> _Block:
        reserved = state.reserved_ordinals(index) if self.reserved else ()
        block = _Block(state.info, index, node.name, reserved)
        state.blocks[index] = block
        state.mark_space(index)
        node.add_affine(block)
        return block

    def _take(self, block: _Block) -> int:
        ordinal = block.take()
        if block.allocated == block.capacity:
            self._pools[block.info.name].mark_full(block.index)
        return ordinal

    def _free(self, block: _Block, ordinal: int) -> None:
        was_full = block.allocated == block.capacity
        block.give_back(ordinal)
        if was_full and block.allocated < block.capacity:  # a reserved one gives no room
            self._pools[block.info.name].mark_space(block.index)
        if block.allocated == 0:
            owner = self._nodes.get(block.affinity) if block.affinity else None
            if block.affinity is None or owner is None or owner.removed:
                self._delete_block(block)

    def _delete_block(self, block: _Block) -> None:
        state = self._pools[block.info.name]
        if state.blocks.get(block.index) is not block:
            return
        del state.blocks[block.index]
        state.mark_full(block.index)
        state.skip.clear()
        if block.affinity is not None:
            owner = self._nodes.get(block.affinity)
            if owner is not None:
                owner.remove_affine(block)

    # -- reading the state -----------------------------------------------------

    def pods(self) -> list[PodAllocation]:
        return [e[2] for entries in self._pods.values() for e in entries]

    def tunnels(self) -> list[TunnelAllocation]:
        return [t[2] for t in self._tunnels.values()]

    def node_blocks(self, node: str) -> list[str]:
        """The node's affine blocks, in the order Calico tries them."""
        n = self._nodes.get(node)
        return [b.cidr for b in n.affine] if n else []

    def blocks(self) -> list[BlockUsage]:
        """Every existing block, by pool (name order) then address."""
        out = []
        for state in self._pools.values():
            for index in sorted(state.blocks):
                b = state.blocks[index]
                out.append(BlockUsage(b.cidr, b.info.name,
                                      f"host:{b.affinity}" if b.affinity else None,
                                      b.allocated, b.free, b.size - b.capacity))
        return out

    def pool_usage(self) -> dict[str, tuple[int, int]]:
        """Per pool: (addresses in use, ``ipam show`` FREE = pool size - in use -
        reserved, as Calico's GetUtilization counts Available)."""
        reserved = self.pool_reserved()
        out = {}
        for name, state in self._pools.items():
            total = state.info.num_blocks * state.info.block_addresses
            used = sum(b.allocated for b in state.blocks.values())
            out[name] = (used, total - used - reserved[name])
        return out

    def pool_reserved(self) -> dict[str, int]:
        """Per pool: addresses an IPReservation covers (countPoolSpace, reserved.go:52-92)."""
        out = {}
        for name, state in self._pools.items():
            info = state.info
            size = info.num_blocks * info.block_addresses
            out[name] = sum(b - a + 1 for a, b in
                            self.reserved.spans_in(info.version, info.base, info.base + size - 1)
                            ) if size and self.reserved else 0
        return out
