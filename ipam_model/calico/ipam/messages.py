"""Calico's own error messages, word for word, so users can match them with
their pod events (libcalico-go ``ipam.go``, cni-plugin ``utils.go``
``ResolvePools``)."""
from __future__ import annotations

from typing import Sequence

MSG_NO_QUALIFIED_POOL = "cannot find a qualified ippool"
MSG_BLOCK_LIMIT = "cannot allocate new block due to per host block limit"
MSG_STRICT = "No more free affine blocks and strict affinity enabled"
# AssignIP (the ipAddrs annotation): ipam.go:978 (its trailing newline left out).
MSG_NOT_IN_POOL = "The provided IP address is not in a configured pool"
# findOrClaimBlock with autoAllocateBlocks false (libcalico-go lib/ipam/ipam.go:639).
MSG_NO_CLAIM = "failed to find or claim a block"


def msg_pool_not_enabled(cidr: str) -> str:
    return f"the given pool ({cidr}) does not exist, or is not enabled"


def msg_no_pools_for_node(node: str) -> str:
    return f"no configured Calico pools for node {node}"


def msg_no_pool_for_use(use: str) -> str:
    return f"{MSG_NO_QUALIFIED_POOL}, no pools match the required use ({use})"


def msg_partial(version: int, extra: str) -> str:
    """AutoAssign's summary when a request of one address got none."""
    return f"Assigned 0 out of 1 requested IPv{version} addresses; {extra}"


def msg_exhausted(cidrs: Sequence[str]) -> str:
    return "No IPs available in pools: [" + " ".join(cidrs) + "]"


def msg_bad_pool_entry(entry: str) -> str:
    """ResolvePools: an entry that is neither a CIDR nor a pool name."""
    return f'error parsing pool "{entry}": invalid CIDR address: {entry}'


def msg_wrong_family(network: str, version: int) -> str:
    """ResolvePools: a pool of the other address family."""
    return f'"{network}" isn\'t a IPv{version} address'


def msg_affinity_mismatch(block: str, affinity: str | None) -> str:
    """allocationBlock.assign with strict affinity: another node's block, or one
    without affinity."""
    if affinity is None:
        return f"Attempt to assign from block {block} with no affinity"
    return "Block host affinity does not match"


def msg_already_assigned(ip: str) -> str:
    """allocationBlock.assign of a taken address: ErrorResourceAlreadyExists
    (libcalico-go lib/errors/errors.go:108-110), as ipam_test.go:4280 expects it."""
    return f"resource already exists: {ip} with error: Address already assigned in block"
