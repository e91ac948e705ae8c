"""The migrations a gate prescribes: Calico's documented procedures, filled in.

Replacing a pool in use follows "change IP pool block size" (blockSize only)
or "migrate from one IP pool to another" (docs.tigera.io
calico/networking/ipam/): a temporary pool of the same size in free private
space, the namespaces pointed at it, the old pool disabled, its pods
restarted, verified empty and deleted, re-created as declared, and the
temporary pool taken down the same way. Deleting a pool in use and
disabling a bound pool get the shorter versions. Every step names this
cluster's pools, CIDRs, namespaces and pod counts.
"""
from __future__ import annotations

import json
from typing import Iterable, Mapping

import netaddr

from ..calico.annotations import POOL_ANNOTATIONS
from ..calico.ippool import migration_fields
from ..core.cidr import LINK_LOCAL, PRIVATE_V4, SHARED_V4, ULA_V6, parse_cidr
from ..core.live_state import LiveState, PoolUsage
from ..core.model import Stack
from ..core.words import show
from .model import Migration, MigrationStep, PoolChange
from .pools import After, automatic_pools

# Where a temporary migration pool is looked for, in this order after the
# private range that holds the pool being migrated (RFC 1918, RFC 6598, ULA).
CANDIDATE_SPACE = {4: tuple(netaddr.IPNetwork(c) for c, _ in PRIVATE_V4 + SHARED_V4),
                   6: tuple(netaddr.IPNetwork(c) for c, _ in ULA_V6)}
VERIFY = "calicoctl ipam show --show-blocks"
DOCS = "docs.tigera.io calico/networking/ipam/"


def propose_temporary_cidr(prefixlen: int, version: int, taken: Iterable[str],
                           prefer: str | None = None) -> str | None:
    """The first aligned CIDR of ``/prefixlen`` in private space that overlaps
    none of ``taken`` (declared and live pools, service and node CIDRs).

    The private range holding ``prefer`` (the pool being migrated) is tried
    first, so a temporary pool stays near the address plan it replaces. None
    when private space of that family is exhausted.
    """
    space = list(CANDIDATE_SPACE[version])
    if prefer is not None:
        pref = netaddr.IPNetwork(prefer)
        space.sort(key=lambda net: 0 if pref in net or net in pref else 1)
    used = netaddr.IPSet()
    for cidr in taken:
        net = netaddr.IPNetwork(cidr)
        if net.version == version:
            used.add(net.cidr)
    used.add(netaddr.IPNetwork(LINK_LOCAL[version]))
    for candidate in space:
        if candidate.prefixlen > prefixlen:
            continue
        free = netaddr.IPSet([candidate]) - used
        # Maximal free CIDRs in address order; any free aligned /prefixlen lies
        # inside one of them, and the first one large enough starts with one.
        for block in free.iter_cidrs():
            if block.prefixlen <= prefixlen:
                return str(netaddr.IPNetwork(f"{block.network}/{prefixlen}"))
    return None


def unique_name(base: str, taken: set[str]) -> str:
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name[:253]


def taken_cidrs(stack: Stack, live: LiveState) -> list[str]:
    """Every CIDR a temporary pool must not overlap: live and declared pools,
    service and node CIDRs (those that parse)."""
    taken = [p.spec.cidr for p in live.pools.values()]
    taken += [p.spec.cidr for p in stack.pools.values()]
    taken += list(stack.cluster.service_cidrs) + list(stack.cluster.node_cidrs)
    # Blocks outside every pool (a deleted pool's): a pool over them of another
    # block size is refused by Calico (CIP621), of the same size would take
    # over their allocations.
    taken += [b.cidr for b in live.orphaned_blocks]
    return [c for c in taken if parse_cidr(c) is not None]


def names_pool(entry: str, change: PoolChange) -> bool:
    """Whether an annotation entry names the changed pool, by name or by its CIDR
    (compared as networks: the stored CIDR may not be canonical)."""
    if entry == change.name:
        return True
    cidr = parse_cidr(entry) if "/" in entry else None
    before = parse_cidr(change.before["cidr"]) if change.before is not None else None
    return cidr is not None and before is not None and cidr.text == before.text


def namespaces_naming(effective: Mapping[str, Mapping[int, list]], change: PoolChange
                      ) -> list[tuple[str, int]]:
    """(namespace, family) of every annotation that names the pool once applied."""
    return [(ns, fam) for ns, fams in sorted(effective.items())
            for fam, entries in sorted(fams.items())
            if any(names_pool(e, change) for e in entries)]


def restart_step(pool: str, cidr: str, usage: PoolUsage) -> MigrationStep:
    by_ns = sorted(usage.by_namespace.items(), key=lambda kv: (-kv[1], kv[0]))
    pods = sum(n for _, n in by_ns)
    other = usage.allocated - pods
    text = (f"Restart the pods that hold addresses in {pool} ({cidr}): "
            + (", ".join(f"{n} in {ns}" for ns, n in by_ns) or "none recorded")
            + f" ({pods} pod{'s' if pods != 1 else ''})")
    if other > 0:
        text += (f"; {other} more address{'es are' if other != 1 else ' is'} tunnel or "
                 "non-pod addresses, which calico-node moves when the pool is disabled")
    text += ". Pods without a controller must be deleted by hand (kubectl delete pod)"
    return MigrationStep(text, tuple(f"kubectl -n {ns} rollout restart deployment"
                                     for ns, _ in by_ns))


def _disable(name: str) -> str:
    return f"calicoctl patch ippool {name} --patch '{{\"spec\": {{\"disabled\": true}}}}'"


def replace(stack: Stack, live: LiveState, change: PoolChange,
            effective: Mapping[str, Mapping[int, list]]) -> Migration:
    """A replacement of a pool in use, through a temporary pool of its size."""
    name, before = change.name, change.before
    old = parse_cidr(before["cidr"])
    temp_name = unique_name(f"{name}-migration", set(live.pools) | set(stack.pool_specs))
    temp_cidr = propose_temporary_cidr(old.prefixlen, old.version, taken_cidrs(stack, live),
                                       prefer=before["cidr"])
    steps = []
    if temp_cidr is None:
        steps.append(MigrationStep(
            f"Choose a CIDR of the same size as {before['cidr']} for a temporary pool "
            f"{temp_name}: no free /{old.prefixlen} is left in private address space that "
            "overlaps nothing declared or live"))
        temp_cidr = f"<free /{old.prefixlen}>"
    naming = namespaces_naming(effective, change)
    steps += _into_temporary_pool(change, temp_name, temp_cidr, naming)
    steps += _leave(name, before["cidr"], change.usage, f"calicoctl delete ippool {name}")
    new = ", ".join(f"{c.path} {show(c.after, None)}" for c in change.changes)
    steps.append(MigrationStep(
        f"Re-create {name} as stack {stack.name} declares it ({new})"
        + (" and restore the namespace annotations" if naming else ""),
        (f"pulumi up --stack {stack.name}",)))
    steps += _leave(temp_name, temp_cidr, change.usage, f"calicoctl delete ippool {temp_name}",
                    temporary=True)
    block_only = change.replace_paths == ("blockSize",)
    return Migration(
        "change IP pool block size" if block_only else "migrate from one IP pool to another",
        DOCS + ("change-block-size" if block_only else "migrate-pools"),
        tuple(steps), temp_name, temp_cidr)


def _into_temporary_pool(change: PoolChange, temp_name: str, temp_cidr: str,
                         naming: list[tuple[str, int]]) -> list[MigrationStep]:
    """Create the temporary pool and point the namespaces naming the old one at it."""
    before, after = change.before, change.after
    prefix = parse_cidr(before["cidr"]).prefixlen
    block = after["blockSize"] if prefix <= after["blockSize"] else before["blockSize"]
    manifest = "\n".join([
        "calicoctl create -f - <<EOF", "apiVersion: projectcalico.org/v3", "kind: IPPool",
        f"metadata: {{name: {temp_name}}}", "spec:", f"  cidr: {temp_cidr}",
        f"  blockSize: {block}", *(f"  {key}: {text}" for key, text in migration_fields(after)),
        "EOF"])
    steps = [MigrationStep(
        f"Create a temporary pool {temp_name} with {temp_cidr} (the size of {before['cidr']}; "
        "it overlaps no declared or live pool, service or node CIDR)", (manifest,))]
    if naming:
        steps.append(MigrationStep(
            f"Point the namespaces that name {change.name} at the temporary pool, so that "
            "restarted pods can start", tuple(
                f"kubectl annotate namespace {ns} --overwrite "
                f"{POOL_ANNOTATIONS[fam]}='{json.dumps([temp_name])}'" for ns, fam in naming)))
    return steps


def _leave(name: str, cidr: str, usage: PoolUsage, delete: str, temporary: bool = False
           ) -> list[MigrationStep]:
    """Disable a pool, restart its pods, verify it is empty, delete it."""
    what = f"the temporary pool {name}" if temporary else name
    disable = (f"Disable {what}" if temporary else
               f"Disable {name} so that no new pod gets an address from it (running pods keep "
               "theirs)")
    return [MigrationStep(disable, (_disable(name),)),
            restart_step(name, cidr, usage),
            MigrationStep(f"Verify that no block of {cidr} has addresses in use", (VERIFY,)),
            MigrationStep(f"Delete {what}", (delete,))]


def delete(stack: Stack, change: PoolChange, effective: Mapping[str, Mapping[int, list]],
           after: After) -> Migration:
    """Deleting a pool in use: rebind or let new pods go elsewhere, then disable, drain, delete."""
    name, cidr = change.name, change.before["cidr"]
    family = parse_cidr(cidr).version
    naming = namespaces_naming(effective, change)
    others = [p for p in automatic_pools(after, family) if p != name]
    if naming:
        first = MigrationStep(
            "Bind these namespaces to another pool in the stack file: "
            + ", ".join(f"{ns} ({POOL_ANNOTATIONS[fam]})" for ns, fam in naming)
            + f", then run pulumi up --stack {stack.name}")
    elif not others:
        first = MigrationStep(
            f"Add the new IPv{family} pool the pods should move to (stack {stack.name} "
            "declares no other enabled pool that new pods would use)")
    else:
        first = MigrationStep("New pods of unbound namespaces will get addresses from "
                              + ", ".join(others[:5]) + (" …" if len(others) > 5 else ""))
    steps = (first,
             MigrationStep(f"Disable {name}", (_disable(name),)),
             restart_step(name, cidr, change.usage),
             MigrationStep(f"Verify that no block of {cidr} has addresses in use, and that new "
                           "pods get addresses from the new pool", (VERIFY,)),
             MigrationStep(f"Delete {name}: the plan then passes this gate",
                           (f"pulumi up --stack {stack.name}",)))
    return Migration("migrate from one IP pool to another", DOCS + "migrate-pools", steps)


def rebind(stack: Stack, name: str, ns: str, family: int, verb: str) -> Migration:
    """A pool a namespace still names is disabled or deleted: rebind, restart, plan again."""
    key = "ipv4Pools" if family == 4 else "ipv6Pools"
    where = stack.binding_location(ns, key) if ns in stack.bindings else None
    text = (f"Bind namespace {ns} to another pool"
            + (f" in {where}" if where is not None else
               f" (kubectl annotate namespace {ns} --overwrite "
               f"{POOL_ANNOTATIONS[family]}='[\"<pool>\"]')")
            + f", or keep {name} enabled")
    return Migration(f"{verb} a bound pool", DOCS + "migrate-pools", (
        MigrationStep(text),
        MigrationStep(f"Restart the pods of {ns} after the rebinding so that they leave {name}",
                      (f"kubectl -n {ns} rollout restart deployment",)),
        MigrationStep("Run the plan again", (f"calico-ipam plan --stack {stack.name}",))))


def release_blocks(stack: Stack, name: str, cidr: str, blocks, sizes: list[int]) -> Migration:
    """Blocks of another size in the way of a pool: empty them, let Calico release
    them, or declare the pool with their size."""
    usage = PoolUsage(allocated=sum(b.allocated for b in blocks), blocks=len(blocks),
                      nodes=tuple(sorted({b.node for b in blocks if b.node})),
                      by_namespace=_pods_by_namespace(blocks))
    steps = []
    if usage.allocated:
        steps.append(restart_step(f"the blocks of block size {'/'.join(map(str, sizes))}",
                                  cidr, usage))
    steps += [
        MigrationStep("Empty blocks are released by Calico's kube-controllers (IPAM garbage "
                      "collection, after its grace period) or when their pool is deleted with "
                      "calicoctl; check that none is left in " + cidr, (VERIFY,)),
        MigrationStep(f"Or declare {name} with blockSize {sizes[0]}, the size of the blocks "
                      "already there, or with a CIDR that holds none of them"),
        MigrationStep("Run the plan again", (f"calico-ipam plan --stack {stack.name}",))]
    return Migration("release the blocks of another size", DOCS + "change-block-size",
                     tuple(steps))


def _pods_by_namespace(blocks) -> dict[str, int]:
    out: dict[str, int] = {}
    for block in blocks:
        for ns, n in block.by_namespace.items():
            out[ns] = out.get(ns, 0) + n
    return out
