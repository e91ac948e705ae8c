"""A plan's IPAMConfig step: ``ipamconfig/default``, declared against live.

The stack declares it (``calico-ipam:ipamConfig``) or leaves it alone. A
declared one is created when the cluster has none (Calico then runs on its
defaults, ipam.go ``GetIPAMConfig``), updated in place when its fields differ
after Calico's defaults, adopted when it carries no ownership labels, and
refused when another stack owns it. One this stack owns but no longer
declares is forgotten, never deleted: deleting it would silently put the
cluster back on Calico's defaults (strict affinity off, 20 blocks a node).

A change that makes allocations fail is a gate (CIP613), lifted by
``--allow-disruption ipamconfig/default``: a lower ``maxBlocksPerHost`` than
the blocks a node already holds (that node gets no new block:
libcalico-go lib/ipam/ipam.go:777-779, 791-796), or turning
``autoAllocateBlocks`` off (no node claims a new block any more,
ipam.go:569-639).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..calico.ipam_config import changed_fields
from ..core.cidr import parse_cidr
from ..core.ipam_config import IPAMConfig
from ..core.live_state import OWNER_CALICO_IPAM, LiveState
from ..core.model import Finding, Stack
from ..core.rules import E, Help, Rule, Scope
from ..core.words import plural
from .compare import owned
from .model import KIND_IPAM_CONFIG, Action, AttributeChange, Gate, ObjectChange

CIP613 = Rule("CIP613", "ipam-config-restricts-allocation", E,
              "An IPAMConfig change makes allocations fail: a block limit below what nodes "
              "hold, or autoAllocateBlocks turned off.",
              scope=Scope.LIVE,
              help=Help("After pulumi up, pods fail to get addresses: a node that already holds more "
                        "blocks than the new maxBlocksPerHost gets no new block, and with "
                        "autoAllocateBlocks off no node claims a new block at all.",
                        "Keep the limit at or above the blocks nodes hold (the plan names them) and "
                        "autoAllocateBlocks on; if the change is intended, run with `--allow-disruption "
                        "ipamconfig/default`.",
                        calico=("libcalico-go/lib/ipam/ipam.go:777",
                                "libcalico-go/lib/ipam/ipam.go:791",)))
CIP615 = Rule("CIP615", "object-owned-elsewhere", E,
              "A declared IPAMConfig or IPReservation is owned by another stack.",
              scope=Scope.LIVE,
              help=Help("Two stacks would fight over one cluster object: each pulumi up would overwrite "
                        "what the other applied.",
                        "Declare the IPAMConfig or the reservation in one stack only; remove it from "
                        "this one or from the owning stack (the message names it)."))

NAME = "default"
ADDRESS = f"{KIND_IPAM_CONFIG}/{NAME}"


@dataclass(frozen=True)
class ObjectDiff:
    """Changes of one kind, the refusals found on the way, and the gates."""

    changes: tuple[ObjectChange, ...] = ()
    findings: tuple[Finding, ...] = ()
    gates: tuple[Gate, ...] = ()


def diff_ipam_config(stack: Stack, live: LiveState) -> ObjectDiff:
    declared, current = stack.ipam_config, live.ipam_config_object
    location = stack.ipam_config_location()
    if declared is None:
        if current is not None and owned(current, stack):
            return ObjectDiff((ObjectChange(KIND_IPAM_CONFIG, NAME, Action.FORGET,
                                            current.spec.comparable(), None,
                                            location=stack.locate()),))
        return ObjectDiff()
    after = declared.comparable()
    if current is None:
        change = ObjectChange(KIND_IPAM_CONFIG, NAME, Action.CREATE, None, after,
                              location=location)
        return ObjectDiff((change,), gates=tuple(_gates(stack, live, live.ipam_config,
                                                        declared)))
    if current.owner == OWNER_CALICO_IPAM and current.owner_stack != stack.name:
        return ObjectDiff(findings=(CIP615.finding(
            f"ipamconfig/default is declared in stack {stack.name} but the cluster's "
            f"IPAMConfig belongs to stack {current.owner_stack or '(no stack label)'}; one "
            "cluster has one IPAMConfig, "
            "so only one stack may declare it: remove calico-ipam:ipamConfig from one of them",
            ADDRESS, location, stack=stack.name),))
    changes = tuple(AttributeChange(name, old, new)
                    for name, old, new in changed_fields(current.spec, declared))
    action = Action.UPDATE if changes else Action.NOOP
    change = ObjectChange(KIND_IPAM_CONFIG, NAME, action, current.spec.comparable(), after,
                          changes, not owned(current, stack), location)
    return ObjectDiff((change,), gates=tuple(_gates(stack, live, current.spec, declared)))


def _blocks_per_node(live: LiveState) -> Counter:
    """(node, family) -> affine blocks (what autoAssign counts against the limit)."""
    held: Counter = Counter()
    for block in live.blocks:
        node = block.node
        if node is None or block.deleted:
            continue
        parsed = block.parsed or parse_cidr(block.cidr)
        if parsed is not None:
            held[(node, parsed.version)] += 1
    return held


def _gates(stack: Stack, live: LiveState, before: IPAMConfig, after: IPAMConfig) -> list[Gate]:
    """CIP613 for a change that makes allocations fail."""
    out = []
    where = stack.ipam_config_location
    limit = after.effective_max_blocks_per_host
    if limit < before.effective_max_blocks_per_host:
        over = sorted((n, v, c) for (n, v), c in _blocks_per_node(live).items() if c >= limit)
        if over:
            shown = ", ".join(f"{n} ({c} IPv{v} blocks)" for n, v, c in over[:5])
            more = f" and {len(over) - 5} more" if len(over) > 5 else ""
            out.append(_gate(stack, (
                f"ipamconfig/default: maxBlocksPerHost {after.max_blocks_per_host} lets a node "
                f"hold {limit} blocks, but {plural(len(over), 'node')} already hold that many or "
                f"more: {shown}{more}. Those nodes get no new block, so once their blocks are "
                "full their new pods fail with \"cannot allocate new block due to per host "
                "block limit\" (Calico does not borrow at the limit)"),
                where("maxBlocksPerHost")))
    if before.auto_allocate_blocks and not after.auto_allocate_blocks:
        out.append(_gate(stack, (
            "ipamconfig/default: autoAllocateBlocks false stops every node from claiming a new "
            "block; a node whose blocks are full fails new pods with \"failed to find or claim "
            "a block\", and a new node gets no address at all"), where("autoAllocateBlocks")))
    return out


def _gate(stack: Stack, message: str, location) -> Gate:
    message += (f". Once that is intended, --allow-disruption {ADDRESS} lifts this gate (for "
                f"pulumi up: CALICO_IPAM_ALLOW_DISRUPTION={ADDRESS})")
    return Gate(CIP613.finding(message, ADDRESS, location, stack=stack.name),
                frozenset({ADDRESS}))
