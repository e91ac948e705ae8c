"""What the IPAM model hands back: addresses, blocks and Calico's refusals.

Plain frozen records; ``to_dict`` gives the field names the ``simulate``
command prints as JSON.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PodAllocation:
    """One address given to one pod (or one family of a dual-stack pod)."""

    namespace: str
    pod: str
    node: str
    ip: str
    pool: str
    block: str
    borrowed: bool = False

    def to_dict(self) -> dict:
        return {"namespace": self.namespace, "pod": self.pod, "node": self.node,
                "ip": self.ip, "pool": self.pool, "block": self.block,
                "borrowed": self.borrowed}


@dataclass(frozen=True)
class TunnelAllocation:
    """A node's IPIP or VXLAN tunnel address (handle ``<kind>-tunnel-addr-<node>``)."""

    node: str
    kind: str  # "ipip" or "vxlan"
    ip: str
    pool: str
    block: str
    borrowed: bool = False

    def to_dict(self) -> dict:
        return {"node": self.node, "type": self.kind, "ip": self.ip, "pool": self.pool,
                "block": self.block, "borrowed": self.borrowed}


@dataclass(frozen=True)
class BlockUsage:
    """One IPAM block as ``calicoctl ipam show --show-blocks`` would count it."""

    cidr: str
    pool: str
    affinity: str | None  # "host:<node>" or None for an unaffine block
    allocated: int
    free: int             # neither allocated nor reserved
    reserved: int = 0     # covered by an IPReservation (never handed out)

    def to_dict(self) -> dict:
        return {"cidr": self.cidr, "pool": self.pool, "affinity": self.affinity,
                "allocated": self.allocated, "free": self.free, "reserved": self.reserved}


@dataclass(frozen=True)
class AllocationFailure:
    """A request Calico would refuse, with Calico's own message."""

    namespace: str | None
    pod: str | None
    node: str
    message: str
    kind: str = "workload"  # "workload" or the tunnel kind

    def to_dict(self) -> dict:
        return {"namespace": self.namespace, "pod": self.pod, "node": self.node,
                "type": self.kind, "message": self.message}
