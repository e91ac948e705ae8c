"""Step 3 of a plan: the safety gates (reference calico-ippool-rules.md §4, §5).

A gate refuses what would break running or future pods, with the migration
Calico's documentation prescribes, unless the user names the pool in
``--allow-disruption``: then it stays visible as a warning.

* CIP601: replacing a pool with allocated addresses (cidr/blockSize change);
* CIP602: deleting a pool with allocated addresses;
* CIP603: disabling or deleting a pool a namespace annotation still names
  (Calico does not fall back to other pools);
* CIP604: a binding change that leaves a namespace with no usable pool;
* CIP621: a pool created over IPAM blocks of another block size (Calico
  refuses it; ``--allow-disruption`` cannot lift it).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Iterator, Mapping

from ..calico.annotations import POOL_ANNOTATIONS
from ..core.cidr import parse_cidr
from ..core.live_state import LiveState
from ..core.model import API_CRD_V1, API_V3, Location, Severity, Stack
from ..core.rules import Help, E, Help, Rule, Scope
from ..core.words import plural, show
from . import migrations
from .model import Action, Gate, Migration, PoolChange, usage_text
from .namespaces import NamespaceDiff
from .pools import After, automatic_pools

CIP601 = Rule("CIP601", "immutable-field-change", E,
              "cidr or blockSize would change: Calico forbids it; a migration is required.",
              scope=Scope.LIVE,
              help=Help("Calico forbids changing cidr or blockSize of an existing pool; "
                        "replacing a pool in use pulls the addresses from under its running "
                        "pods.",
                        "Follow the migration calico-ipam plan prints (temporary pool, disable, "
                        "restart the pods, delete, re-create); `--allow-disruption POOL` only "
                        "once it is drained.",
                        calico=("api/pkg/apis/projectcalico/v3/ippool.go:105",
                                "api/pkg/apis/projectcalico/v3/ippool.go:130",
                                "libcalico-go/lib/clientv3/ippool.go:395",
                                "libcalico-go/lib/clientv3/ippool.go:442")))
CIP602 = Rule("CIP602", "disruptive-delete", E,
              "Deleting or replacing a pool with allocated addresses.",
              scope=Scope.LIVE,
              help=Help("Deleting a pool with allocated addresses leaves running pods with "
                        "addresses no pool covers; Calico's delete disables the pool and "
                        "releases its block affinities.",
                        "Drain the pool first (disable it, restart its pods: the migration in "
                        "the plan), then delete it.",
                        calico=("libcalico-go/lib/clientv3/ippool.go:162",)))
CIP603 = Rule("CIP603", "disable-bound-pool", E,
              "Disabling or deleting a pool that a namespace binding still names.",
              scope=Scope.LIVE,
              help=Help("Namespaces whose annotation still names the pool cannot start new pods "
                        "once it is disabled (\"the given pool ... does not exist, or is not "
                        "enabled\").",
                        "Re-point the namespaces' bindings to another pool in the same change, "
                        "then disable.",
                        calico=("libcalico-go/lib/ipam/ipam.go:301",)))
CIP604 = Rule("CIP604", "namespace-without-pool", E,
              "A binding change leaves a namespace with no usable pool.",
              scope=Scope.LIVE,
              help=Help("After the change no enabled pool of the family serves the namespace: "
                        "its new pods fail to get addresses.",
                        "Bind the namespace to an enabled pool of every family it uses.",
                        calico=("libcalico-go/lib/ipam/ipam.go:301",)))
CIP621 = Rule("CIP621", "block-size-conflict", E,
              "A pool would be created over IPAM blocks of another block size: Calico "
              "refuses it.",
              scope=Scope.LIVE,
              help=Help("Calico refuses to create a pool over IPAM blocks of another block "
                        "size; through crd.projectcalico.org/v1 nothing checks and one pool "
                        "would hold blocks of two sizes.",
                        "Release or migrate the blocks listed (`calicoctl ipam show "
                        "--show-blocks`), or choose a CIDR that holds none; "
                        "`--allow-disruption` does not lift it.",
                        calico=("libcalico-go/lib/clientv3/ippool.go:99",
                                "libcalico-go/lib/clientv3/ippool.go:103")))
# Calico's own refusals: no --allow-disruption makes pulumi up succeed.
UNLIFTABLE = frozenset({CIP621.id})



@dataclass(frozen=True)
class GateInputs:
    """What every gate looks at: the stack, the live state, the pool changes,
    the namespace diff and the pools once the plan is applied."""

    stack: Stack
    live: LiveState
    pools: Mapping[str, PoolChange]
    spaces: NamespaceDiff
    after: After


def gates(inputs: GateInputs, allow: frozenset[str]) -> tuple[Gate, ...]:
    """Every gate, in pool order then namespace order, lifted where ``allow`` names a pool."""
    found = []
    for name, change in inputs.pools.items():
        found += replace_in_use(inputs, change)
        found += block_size_conflict(inputs, change)
        found += delete_in_use(inputs, change)
        found += disable_bound(inputs, change)
    found += namespace_without_pool(inputs)
    return tuple(g if g.finding.rule in UNLIFTABLE else lift(g, allow) for g in found)


def lift(gate: Gate, allow: frozenset[str]) -> Gate:
    """A gate whose pools ``--allow-disruption`` names becomes a warning."""
    named = gate.pools & allow
    if not named:
        return gate
    finding = replace(gate.finding, severity=Severity.WARNING,
                      message=gate.finding.message
                      + f" (allowed by --allow-disruption {', '.join(sorted(named))})")
    return replace(gate, finding=finding, allowed=True)


def _gate(stack: Stack, rule: Rule, message: str, subject: str, pools: Iterable[str],
          location: Location, migration: Migration | None = None) -> Gate:
    finding = rule.finding(message, subject, location, stack=stack.name)
    return Gate(finding, frozenset(pools), migration)


def replace_in_use(inputs: GateInputs, change: PoolChange) -> list[Gate]:
    """CIP601: a replacement of a pool with allocated addresses."""
    if change.action is not Action.REPLACE or not change.usage.in_use:
        return []
    name = change.name
    fields = " and ".join(f"{c.path} {show(c.before, None)} -> {show(c.after, None)}"
                          for c in change.changes if c.forces_replacement)
    if _same_network_rewritten(change):
        fields += (" (the same network written differently: the CRD's rule self == oldSelf "
                   "compares the stored text)")
    return [_gate(inputs.stack, CIP601, (
        f"pool {name}: {fields} would replace the pool, but it is in use: "
        f"{usage_text(change.usage)}. Calico forbids changing {'/'.join(change.replace_paths)} "
        "in place (\"follow IP pool migration guide to avoid corruption\"), and deleting it "
        "first strands those pods"), f"pool/{name}", {name},
        inputs.stack.pool_location(name, change.replace_paths[0]),
        migrations.replace(inputs.stack, inputs.live, change, inputs.spaces.effective))]


def _same_network_rewritten(change: PoolChange) -> bool:
    before, after = change.before["cidr"], change.after["cidr"]
    return before != after and parse_cidr(before).text == after


def block_size_conflict(inputs: GateInputs, change: PoolChange) -> list[Gate]:
    """CIP621: a pool created (or re-created by a replacement) over IPAM blocks of
    another size. clientv3 refuses the create ("IPPool blocksSize conflicts with
    existing allocations that use a different blockSize", libcalico-go
    lib/clientv3/ippool.go:71-108, every block of the family overlapping the
    CIDR); through crd.projectcalico.org/v1 nothing checks and one pool would
    hold blocks of two sizes. Calico's delete releases the empty blocks of the
    pool it deletes (ippool.go:162-225 Delete, :211 calling ipam.go:1725
    ReleasePoolAffinities), so a
    replacement through projectcalico.org/v3 leaves only the blocks with
    addresses in use. ``--allow-disruption`` does not lift it: Calico refuses."""
    if change.action not in (Action.CREATE, Action.REPLACE):
        return []
    stack, name = inputs.stack, change.name
    spec = stack.pools[name].spec
    cidr = parse_cidr(spec.cidr)
    old = parse_cidr(change.before["cidr"]) if change.action is Action.REPLACE else None
    released = stack.cluster.calico_api == API_V3  # by clientv3's Delete
    conflicts = []
    for block in inputs.live.blocks:
        b = block.parsed or parse_cidr(block.cidr)
        if (b is None or b.version != cidr.version or b.prefixlen == spec.block_size
                or b.first > cidr.last or cidr.first > b.last):
            continue
        if old is not None and released and block.allocated == 0 and old.contains(b):
            continue
        conflicts.append(block)
    if not conflicts:
        return []
    sizes = sorted({parse_cidr(b.cidr).prefixlen for b in conflicts})
    listed = ", ".join(f"{b.cidr} ({_block_owner(inputs.live, b)}, "
                       f"{plural(b.allocated, 'address', 'addresses')} allocated)"
                       for b in conflicts[:5])
    more = f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
    verb = "created" if change.action is Action.CREATE else "re-created by the replacement"
    consequence = (
        "Calico refuses to create it: \"IPPool blocksSize conflicts with existing allocations "
        "that use a different blockSize\"" if stack.cluster.calico_api == API_V3 else
        f"through {API_CRD_V1} nothing checks this, and the pool would hold IPAM blocks of two "
        "sizes, which Calico's migration guide calls corruption")
    message = (f"pool {name} ({spec.cidr}, blockSize {spec.block_size}) would be {verb} over "
               f"{plural(len(conflicts), 'IPAM block')} of block size "
               f"{'/'.join(map(str, sizes))}: {listed}{more}; {consequence}. "
               "--allow-disruption cannot lift this gate")
    return [_gate(stack, CIP621, message, f"pool/{name}", {name},
                  stack.pool_location(name, "blockSize"),
                  migrations.release_blocks(stack, name, spec.cidr, conflicts, sizes))]


def _block_owner(live: LiveState, block) -> str:
    inside = [n for n, p in live.pools.items() if parse_cidr(p.spec.cidr).contains(
        block.parsed or parse_cidr(block.cidr))]
    where = f"in live pool {inside[0]}" if inside else "in no live pool"
    return where + (f", affine to {block.node}" if block.node else "")


def delete_in_use(inputs: GateInputs, change: PoolChange) -> list[Gate]:
    """CIP602: deleting a pool with allocated addresses."""
    if change.action is not Action.DELETE or not change.usage.in_use:
        return []
    name = change.name
    return [_gate(inputs.stack, CIP602, (
        f"pool {name} is no longer declared in stack {inputs.stack.name} and would be deleted, "
        f"but it is in use: {usage_text(change.usage)}. Calico does not release the addresses "
        "of running pods, which lose NAT and encapsulation"), f"pool/{name}", {name},
        change.location,
        migrations.delete(inputs.stack, change, inputs.spaces.effective, inputs.after))]


def disables(change: PoolChange) -> bool:
    return bool(change.action is Action.UPDATE and change.before and change.after
                and change.after["disabled"] and not change.before["disabled"])


def disable_bound(inputs: GateInputs, change: PoolChange) -> list[Gate]:
    """CIP603: a disabled or deleted pool that a namespace annotation still names."""
    if not disables(change) and change.action is not Action.DELETE:
        return []
    verb = "disable" if disables(change) else "delete"
    stack, name, out = inputs.stack, change.name, []
    for ns, family in migrations.namespaces_naming(inputs.spaces.effective, change):
        key = POOL_ANNOTATIONS[family]
        where = stack.binding_location(ns) if ns in stack.bindings else change.location
        out.append(_gate(stack, CIP603, (
            f"this plan would {verb} pool {name}, but namespace {ns} still names it in {key}; "
            f"new pods there fail with \"the given pool ({change.before['cidr']}) does not "
            "exist, or is not enabled\" (Calico does not fall back to other pools)"),
            f"pool/{name}", {name}, where, migrations.rebind(stack, name, ns, family, verb)))
    return out


def namespace_without_pool(inputs: GateInputs) -> list[Gate]:
    """CIP604: every changed namespace whose entries, once applied, leave no usable pool."""
    out = []
    changing = sorted(c.namespace for c in inputs.spaces.changes if c.action is not Action.NOOP)
    for ns in changing:
        for family in (4, 6):
            out += _family_without_pool(inputs, ns, family)
    return out


def _family_without_pool(inputs: GateInputs, ns: str, family: int) -> Iterator[Gate]:
    stack = inputs.stack
    live_entries = inputs.spaces.live_entries.get(ns, {})
    entries = inputs.spaces.effective.get(ns, {}).get(family)
    key = POOL_ANNOTATIONS[family]
    if entries is None:
        if family in live_entries and not automatic_pools(inputs.after, family):
            yield _gate(stack, CIP604, (
                f"namespace {ns}: removing {key} leaves it with no usable IPv{family} pool: no "
                "enabled Automatic pool allows Workload, so new pods fail to get an address"),
                f"namespace/{ns}", set(live_entries[family]),
                stack.locate("calico-ipam:namespaces"))
        return
    if entries == live_entries.get(family):
        return
    problems, names = _unusable_entries(inputs, entries, family)
    if problems:
        yield _gate(stack, CIP604, (
            f"namespace {ns}: the new binding {key} = {show(entries, None)} leaves it with no "
            f"usable pool ({'; '.join(problems)}); Calico fails the whole request when one "
            "entry is unusable"), f"namespace/{ns}", names,
            stack.binding_location(ns, "ipv4Pools" if family == 4 else "ipv6Pools"))


def _unusable_entries(inputs: GateInputs, entries: list[str], family: int
                      ) -> tuple[list[str], set[str]]:
    """("entry: why" for each unusable entry, the pools or entries involved)."""
    problems, names = [], set()
    for entry in entries:
        pool, why = resolve(entry, family, inputs.after)
        if why is None:
            continue
        change = inputs.pools.get(pool) if pool else None
        if change is not None and (change.action is Action.DELETE or disables(change)):
            continue  # CIP603 already refuses that pool
        problems.append(f"{entry}: {why}")
        names.add(pool or entry)
    return problems, names


def resolve(entry: str, family: int, after: After) -> tuple[str | None, str | None]:
    """(pool name, why it is unusable or None) for one annotation entry, once applied."""
    cidr = parse_cidr(entry) if "/" in entry else None
    if cidr is not None:
        match = [n for n, (spec, _) in after.items() if spec.cidr == cidr.text]
        if not match:
            return None, f"no pool has the CIDR {entry}"
        name = match[0]
    elif entry in after:
        name = entry
    else:
        return None, f"no pool {entry} exists after this plan"
    spec, deleting = after[name]
    version = parse_cidr(spec.cidr).version
    if version != family:
        return name, f"pool {name} is IPv{version}"
    if spec.disabled:
        return name, f"pool {name} is disabled"
    if deleting:
        return name, f"pool {name} is being deleted"
    if "Workload" not in spec.allowed_uses:
        return name, f"pool {name} does not allow Workload"
    return name, None
