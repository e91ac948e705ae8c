"""Collecting raw objects into a ``LiveState``, one object at a time."""
from __future__ import annotations

from collections import Counter
from typing import Any

from ..core.live_state import (
    LiveAffinity,
    LiveBlock,
    LiveIpamConfig,
    LiveNamespace,
    LiveNode,
    LivePool,
    LiveReservation,
    LiveState,
    OperatorInstallation,
)
from ..core.model import API_CRD_V1, API_V3
from .normalise import (
    Where,
    build_live_state,
    input_error,
    normalise_affinity,
    normalise_block,
    normalise_installation,
    normalise_ipam_config_object,
    normalise_namespace,
    normalise_node,
    normalise_pool,
    normalise_reservation,
    object_name,
)

# kind -> the attribute of a collector it feeds. IPAMConfiguration is the
# projectcalico.org/v3 name of IPAMConfig (calico-ipam-allocation.md §1.3);
# Installation is the Tigera operator's (operator.tigera.io/v1), read to tell
# which pools the operator manages.
SUPPORTED_KINDS = {
    "IPPool": "pools", "Namespace": "namespaces", "Node": "nodes", "IPAMBlock": "blocks",
    "BlockAffinity": "affinities", "IPAMConfig": "ipam_configs",
    "IPAMConfiguration": "ipam_configs", "IPReservation": "reservations",
    "Installation": "installations",
}
INSTALLATION = "Installation"

# What the message for a file of other kinds suggests listing instead.
READ_KINDS = ("IPPool", "IPAMConfig", "Namespace", "Node", "BlockAffinity", "IPAMBlock")
READ_RESOURCES = ("ippools.crd.projectcalico.org", "ipamconfigs.crd.projectcalico.org",
                  "namespaces", "nodes", "blockaffinities.crd.projectcalico.org",
                  "ipamblocks.crd.projectcalico.org")


class LiveCollector:
    """Normalises raw objects one at a time; ``result()`` builds the LiveState.

    ``start(kind)`` forgets what was collected of that kind, so a reader that
    restarts a list (410 Gone, a retry) never keeps half of an old listing,
    and records that the kind was listed (an empty list says "none"; a kind
    never listed says nothing). ``skip(kind, why)`` undoes that for a list
    that could not be read.
    """

    def __init__(self) -> None:
        self.pools: dict[str, LivePool] = {}
        self.namespaces: dict[str, LiveNamespace] = {}
        self.nodes: dict[str, LiveNode] = {}
        self.blocks: list[LiveBlock] = []
        self.affinities: list[LiveAffinity] = []
        self.ipam_configs: dict[str, LiveIpamConfig] = {}
        self.reservations: dict[str, LiveReservation] = {}
        self.installations: dict[str, OperatorInstallation] = {}
        self.listed: set[str] = set()
        self.notes: list[str] = []
        self._ignored: Counter = Counter()
        self.pool_api: str | None = None

    def start(self, kind: str) -> None:
        attr = SUPPORTED_KINDS[kind]
        value = getattr(self, attr)
        value.clear()
        self.listed.add(kind)

    def skip(self, kind: str, why: str) -> None:
        """A list that could not be read (an optional kind): nothing of it is kept."""
        getattr(self, SUPPORTED_KINDS[kind]).clear()
        self.listed.discard(kind)
        self.notes.append(f"{kind} objects were not read: {why}")

    def mark_listed(self, kinds) -> None:
        """Kinds a snapshot's header says were listed (its ``counts``)."""
        self.listed.update(k for k in kinds if k in SUPPORTED_KINDS)

    def add(self, obj: Any, file: str | None = None, where: Where = ()) -> None:
        if not isinstance(obj, dict):
            raise input_error(f"expected a Kubernetes object (a mapping), got {type(obj).__name__}",
                        file, where)
        kind = obj.get("kind")
        if not isinstance(kind, str) or not kind:
            raise input_error("kind is missing", file, where)
        if kind not in SUPPORTED_KINDS:
            self._ignored[kind] += 1
            return
        if kind == "IPAMBlock":  # most objects of a cluster
            self.blocks.append(normalise_block(obj, file, where))
        elif kind == "IPPool":
            pool = normalise_pool(obj, file, where)
            if pool.name in self.pools:
                raise input_error(f"IPPool {pool.name!r} appears twice", file, where)
            self.pools[pool.name] = pool
            api = obj.get("apiVersion")
            if api in (API_V3, API_CRD_V1):
                self.pool_api = api
        elif kind == "Namespace":
            ns = normalise_namespace(obj, file, where)
            self.namespaces[ns.name] = ns
        elif kind == "Node":
            node = normalise_node(obj, file, where)
            self.nodes[node.name] = node
        elif kind == "BlockAffinity":
            aff = normalise_affinity(obj, file, where)
            if aff is not None:
                self.affinities.append(aff)
        elif kind == INSTALLATION:
            inst = normalise_installation(obj, file, where)
            self.installations[inst.name] = inst
        elif kind == "IPReservation":
            reservation = normalise_reservation(obj, file, where)
            if reservation.name in self.reservations:
                raise input_error(f"IPReservation {reservation.name!r} appears twice", file,
                                  where)
            self.reservations[reservation.name] = reservation
        else:
            name = object_name(obj, file, where)
            self.ipam_configs[name] = normalise_ipam_config_object(obj, file, where)

    def only_ignored(self) -> bool:
        """Objects were read, and every one was of a kind calico-ipam does not read."""
        return bool(self._ignored) and not (self.pools or self.namespaces or self.nodes
                                            or self.blocks or self.affinities
                                            or self.ipam_configs)

    def ignored_kinds(self) -> str:
        """The kinds left out, with their counts: ``Pod (3), Service (1)``."""
        return ", ".join(f"{k} ({n})" for k, n in sorted(self._ignored.items()))

    def ignored_note(self) -> str | None:
        if not self._ignored:
            return None
        return f"ignored objects of kinds calico-ipam does not read: {self.ignored_kinds()}"

    def result(self, source: str, calico_api: str | None = None) -> LiveState:
        # IPAMConfig is a singleton named "default"; anything else is not read by Calico.
        config = self.ipam_configs.get("default")
        notes = [*self.notes, *(n for n in (self.ignored_note(),) if n)]
        # An Installation in the input answers the question even when the
        # source never said it listed them (kubectl output holding one).
        known = INSTALLATION in self.listed or bool(self.installations)
        return build_live_state(source, calico_api or self.pool_api or API_V3,
                                self.pools.values(), self.namespaces.values(), self.nodes.values(),
                                self.blocks, self.affinities, None, notes,
                                calico_api_inferred=calico_api is None,
                                ipam_config_object=config,
                                reservations=self.reservations.values(),
                                installations=tuple(self.installations.values()) if known
                                else None)
