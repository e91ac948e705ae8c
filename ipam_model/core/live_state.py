"""The normalised picture of a live cluster's Calico IPAM state.

Readers (the Kubernetes API, snapshot files, kubectl List output) produce a
``LiveState``; the planner only ever sees this. Everything is already
normalised: Calico's defaults applied to pool specs, server-side fields and
``pulumi.com/*`` annotations dropped, ownership decided. Blocks keep counts,
not per-address records, so a 100,000-block cluster stays small in memory.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .cidr import Cidr
from .ipam_config import IPAMConfig
from .ipreservation import ReservationSpec
from .model import API_V3, PoolSpec, frozen_map

__all__ = ["IPAMConfig", "LiveAffinity", "LiveBlock", "LiveIpamConfig", "LiveNamespace",
           "LiveNode", "LivePool", "LiveReservation", "LiveState", "PoolUsage"]

OWNER_CALICO_IPAM = "calico-ipam"        # carries our ownership label
OWNER_TIGERA_OPERATOR = "tigera-operator"  # created/managed by the operator
OWNER_OTHER = "other"                    # anything else: listed, never modified


@dataclass(frozen=True)
class LivePool:
    name: str
    spec: PoolSpec                                   # Calico defaults applied
    labels: Mapping[str, str] = field(default_factory=frozen_map)
    annotations: Mapping[str, str] = field(default_factory=frozen_map)
    owner: str = OWNER_OTHER
    owner_stack: str | None = None                   # our stack label, when ours
    deleting: bool = False                           # metadata.deletionTimestamp set
    # Why ``owner`` was decided, in the user's terms ("label app.kubernetes.io/
    # managed-by: tigera-operator"); empty for an unlabelled pool.
    owner_reason: str = ""
    # False when the Tigera operator might manage the pool but the source could
    # not tell (it holds no list of Installations): warned, never refused.
    owner_certain: bool = True
    # spec.cidr as stored, when it is not the canonical form Calico writes
    # ("FD00:0:0:0::/120"): the CRD's ``self == oldSelf`` rule compares the text.
    stored_cidr: str | None = None
    # The status condition Allocatable=False (kube-controllers' IP pool
    # controller): (reason, message); Calico then assigns nothing from the pool.
    not_allocatable: tuple[str, str] | None = None


@dataclass(frozen=True)
class LiveBlock:
    """One IPAMBlock, reduced to what planning needs."""

    cidr: str
    affinity: str | None                             # "host:node1", "virtual:…" or None
    size: int                                        # addresses in the block
    allocated: int                                   # ordinals in use (incl. tunnel IPs)
    by_namespace: Mapping[str, int] = field(default_factory=frozen_map)  # pods per namespace
    deleted: bool = False
    borrowed: int = 0                                # allocated by a node other than the affine one
    tunnels: int = 0                                 # IPIP/VXLAN/WireGuard tunnel addresses
    # The parsed CIDR, kept so that a 100,000-block cluster is parsed once.
    parsed: Cidr | None = field(default=None, compare=False, repr=False)

    @classmethod
    def counted(cls, cidr: str, affinity: str | None, size: int, allocated: int,
                by_namespace: Mapping[str, int], deleted: bool, borrowed: int, tunnels: int,
                parsed: Cidr | None) -> "LiveBlock":
        """``LiveBlock(...)`` with every field given, the instance's fields
        filled at once: the frozen dataclass's ``__init__`` sets each one
        through ``object.__setattr__``, nearly three times the cost, and a
        100,000-block snapshot pays it 100,000 times. LiveBlock has no
        ``__post_init__`` to skip (tests/core/test_live_state.py holds the two
        ways equal)."""
        block = object.__new__(cls)
        block.__dict__.update(cidr=cidr, affinity=affinity, size=size, allocated=allocated,
                              by_namespace=by_namespace, deleted=deleted, borrowed=borrowed,
                              tunnels=tunnels, parsed=parsed)
        return block

    @property
    def node(self) -> str | None:
        if self.affinity and self.affinity.startswith("host:"):
            return self.affinity[len("host:"):]
        return None


@dataclass(frozen=True)
class LiveAffinity:
    node: str
    cidr: str
    state: str = "confirmed"
    type: str = "host"


@dataclass(frozen=True)
class LiveNamespace:
    name: str
    labels: Mapping[str, str] = field(default_factory=frozen_map)
    annotations: Mapping[str, str] = field(default_factory=frozen_map)


@dataclass(frozen=True)
class LiveNode:
    name: str
    labels: Mapping[str, str] = field(default_factory=frozen_map)


@dataclass(frozen=True)
class LiveIpamConfig:
    """The cluster's IPAMConfig object (``default``), Calico's defaults applied."""

    spec: IPAMConfig
    labels: Mapping[str, str] = field(default_factory=frozen_map)
    annotations: Mapping[str, str] = field(default_factory=frozen_map)
    owner: str = OWNER_OTHER
    owner_stack: str | None = None
    api_version: str | None = None                   # as read (kubectl List output)


@dataclass(frozen=True)
class LiveReservation:
    """One IPReservation. ``spec.reserved_cidrs`` are the entries Calico reads, in
    canonical network form (a bare address is its /32 or /128); ``invalid`` the
    entries Calico logs and skips (libcalico-go lib/ipam/reserved.go:96-115)."""

    name: str
    spec: ReservationSpec
    invalid: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=frozen_map)
    annotations: Mapping[str, str] = field(default_factory=frozen_map)
    owner: str = OWNER_OTHER
    owner_stack: str | None = None
    deleting: bool = False


@dataclass(frozen=True)
class OperatorInstallation:
    """The Tigera operator's Installation resource, reduced to its IP pools
    (``spec.calicoNetwork.ipPools``: name and canonical CIDR)."""

    name: str
    pools: tuple[tuple[str, str], ...] = ()           # (name, CIDR) as listed
    deleting: bool = False


@dataclass(frozen=True)
class PoolUsage:
    """In-use facts of one pool, from the IPAMBlocks inside its CIDR."""

    allocated: int = 0
    blocks: int = 0
    nodes: tuple[str, ...] = ()
    by_namespace: Mapping[str, int] = field(default_factory=frozen_map)

    @property
    def in_use(self) -> bool:
        return self.allocated > 0


@dataclass(frozen=True)
class LiveState:
    source: str                                      # "snapshot.yaml" or "cluster (context …)"
    calico_api: str = API_V3                         # the IPPool API the cluster serves
    # True when no reader asked the cluster which IPPool API it serves (kubectl List
    # output): calico_api is then just the apiVersion of the pools in the file.
    calico_api_inferred: bool = False
    pools: Mapping[str, LivePool] = field(default_factory=frozen_map)
    namespaces: Mapping[str, LiveNamespace] = field(default_factory=frozen_map)
    nodes: Mapping[str, LiveNode] = field(default_factory=frozen_map)
    blocks: tuple[LiveBlock, ...] = ()
    affinities: tuple[LiveAffinity, ...] = ()
    # The IPAMConfig Calico uses: the object's spec, or Calico's defaults when
    # the cluster has none (ipam.go GetIPAMConfig); the object itself, if any.
    ipam_config: IPAMConfig = IPAMConfig()
    ipam_config_object: LiveIpamConfig | None = None
    reservations: Mapping[str, LiveReservation] = field(default_factory=frozen_map)
    usage: Mapping[str, PoolUsage] = field(default_factory=frozen_map)  # by pool name
    # Blocks inside no live pool (calicoctl's "orphaned allocation blocks").
    orphaned_blocks: tuple[LiveBlock, ...] = ()
    notes: tuple[str, ...] = ()                      # what the reader skipped (unknown kinds)
    # The operator's Installations, or None when the source did not list them
    # (kubectl output, an older snapshot, no permission): ownership by the
    # operator can then not be told for unlabelled pools.
    installations: tuple[OperatorInstallation, ...] | None = None

    def usage_of(self, pool: str) -> PoolUsage:
        """The pool's in-use facts (nothing in use when no block lies in it)."""
        return self.usage.get(pool) or PoolUsage()
