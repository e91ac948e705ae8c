"""Desired (a Stack) against live (a LiveState): the plan, its safety gates, drift.

Pure functions over frozen dataclasses; the CLI (``plan``, ``drift``) and the
Pulumi program (``safety_findings`` before registering resources) share them.

What a plan says, per pool: create, update in place, replace (``cidr`` and
``blockSize`` are immutable in Calico; so is leaving ``LoadBalancer``
behind), delete (a live pool this stack owns but no longer declares), forget
(the same with ``retainOnDelete``: Pulumi drops it from its state and the pool
stays) or no-op. Specs are compared after Calico's defaults, so a live pool
that differs only in defaulted or server-side fields shows no change. Per
namespace: the two ``cni.projectcalico.org/ipv4pools|ipv6pools`` annotations
set, changed or removed. Pools this stack does not own are listed, never
changed. Proposed changes are always desired (the stack) against live.

Drift ("changed outside calico-ipam") is live against what calico-ipam last
applied, as Terraform compares live with its state rather than with the
configuration: every rendered pool records its spec in the
``calico-ipam.io/applied-spec`` annotation, so a pending edit of the stack
file is a proposed change, never drift. See ``drift`` for what happens
without that record.

A plan also carries ``calico-ipam check``'s findings about the stack, so it
is refused exactly when ``pulumi up`` would refuse.

Safety gates (reference calico-ippool-rules.md §4, §5) refuse what would
break running or future pods unless the user names the pool in
``--allow-disruption``; each carries the migration Calico's documentation
prescribes, with concrete names, CIDRs, commands and pod counts.
"""
from __future__ import annotations

import enum
import functools
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import netaddr
from deepdiff import DeepDiff

from ..core import rules
from ..core.live_state import (
    OWNER_CALICO_IPAM,
    OWNER_TIGERA_OPERATOR,
    LivePool,
    LiveState,
    PoolUsage,
)
from ..core.model import (
    API_CRD_V1,
    API_V3,
    APPLIED_SPEC_ANNOTATION,
    IPV4_POOLS_ANNOTATION,
    IPV6_POOLS_ANNOTATION,
    OWNERSHIP_LABEL,
    STACK_LABEL,
    Finding,
    Location,
    PoolSpec,
    Severity,
    Stack,
    frozen_map,
    sort_findings,
)
from ..live.normalise import applied_pool_spec

POOL_ANNOTATIONS = {4: IPV4_POOLS_ANNOTATION, 6: IPV6_POOLS_ANNOTATION}
IMMUTABLE_FIELDS = ("cidr", "blockSize")
# Where a temporary migration pool is looked for, in this order after the
# private range that holds the pool being migrated (RFC 1918, RFC 6598, ULA).
CANDIDATE_SPACE = {
    4: tuple(netaddr.IPNetwork(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                            "100.64.0.0/10")),
    6: (netaddr.IPNetwork("fd00::/8"),),
}
LINK_LOCAL = {4: netaddr.IPNetwork("169.254.0.0/16"), 6: netaddr.IPNetwork("fe80::/10")}


class Action(str, enum.Enum):
    """What ``pulumi up`` would do to one object (Terraform's action vocabulary)."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    FORGET = "forget"
    NOOP = "no-op"

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "forget": ".",
                "no-op": " "}[self.value]

    @property
    def json_actions(self) -> list[str]:
        """Terraform's ``change.actions``; a replacement is delete-then-create
        because a named IPPool cannot exist twice."""
        if self is Action.REPLACE:
            return ["delete", "create"]
        return [self.value]


@dataclass(frozen=True)
class AttributeChange:
    """One field (pool) or annotation (namespace) before and after."""

    path: str
    before: Any
    after: Any
    forces_replacement: bool = False


@dataclass(frozen=True)
class PoolChange:
    name: str
    action: Action
    before: Mapping[str, Any] | None          # live spec, Calico field names, defaults applied
    after: Mapping[str, Any] | None           # declared spec, same form
    changes: tuple[AttributeChange, ...] = ()
    usage: PoolUsage = PoolUsage()
    adopt: bool = False                       # live pool without any owner label, declared here
    location: Location = Location()

    @property
    def address(self) -> str:
        return f"ippool/{self.name}"

    @property
    def replace_paths(self) -> tuple[str, ...]:
        return tuple(c.path for c in self.changes if c.forces_replacement)

    @property
    def unchanged(self) -> int:
        keys = set(self.before or ()) | set(self.after or ())
        return len(keys) - len(self.changes)


@dataclass(frozen=True)
class NamespaceChange:
    namespace: str
    action: Action
    before: Mapping[str, Any]                 # annotation key -> list (or the raw invalid text)
    after: Mapping[str, Any]
    changes: tuple[AttributeChange, ...] = ()
    pods: int = 0                             # pods with Calico addresses in the namespace now
    location: Location = Location()

    @property
    def address(self) -> str:
        return f"namespace/{self.namespace}"


@dataclass(frozen=True)
class UnmanagedPool:
    """A live pool this stack does not own: listed, never changed."""

    name: str
    cidr: str
    owner: str
    owner_stack: str | None
    disabled: bool
    deleting: bool
    usage: PoolUsage = PoolUsage()

    @property
    def address(self) -> str:
        return f"ippool/{self.name}"


@dataclass(frozen=True)
class MigrationStep:
    text: str
    commands: tuple[str, ...] = ()


@dataclass(frozen=True)
class Migration:
    """Calico's documented procedure, filled in with this cluster's names."""

    title: str
    source: str                               # the Calico documentation page it follows
    steps: tuple[MigrationStep, ...]
    temporary_pool: str | None = None
    temporary_cidr: str | None = None


@dataclass(frozen=True)
class Gate:
    """A safety gate: an error unless ``--allow-disruption`` names one of ``pools``."""

    finding: Finding
    pools: frozenset[str]
    migration: Migration | None = None
    allowed: bool = False


BASELINE_APPLIED = "applied-spec"  # the pool's calico-ipam.io/applied-spec annotation
BASELINE_STACK = "stack"          # the stack file, taken as what was applied (drift in CI)


@dataclass(frozen=True)
class DriftItem:
    """Something changed outside calico-ipam (Terraform's "Objects have changed outside").

    ``changes`` go from what was applied (``before``) to what is live
    (``after``); ``baseline`` says where "what was applied" came from.
    """

    address: str
    kind: str                                 # changed | deleted | overlap | invalid
    message: str
    changes: tuple[AttributeChange, ...] = ()
    finding: Finding | None = None
    baseline: str = BASELINE_APPLIED


@dataclass(frozen=True)
class Plan:
    stack: str
    stack_file: str | None
    source: str
    pools: tuple[PoolChange, ...]
    namespaces: tuple[NamespaceChange, ...]
    unmanaged: tuple[UnmanagedPool, ...]
    gates: tuple[Gate, ...]
    findings: tuple[Finding, ...]             # the plan's own: errors, warnings, notes
    drift: tuple[DriftItem, ...]
    checks: tuple[Finding, ...] = ()          # calico-ipam check's findings about the stack

    @property
    def changes(self) -> tuple:
        return tuple(c for c in self.pools + self.namespaces if c.action is not Action.NOOP)

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def errors(self) -> list[Finding]:
        out = [g.finding for g in self.gates if not g.allowed]
        out += [f for f in self.findings if f.is_error]
        out += [f for f in self.checks if f.is_error]
        return sort_findings(out)

    @property
    def check_warnings(self) -> list[Finding]:
        """check's warnings: shown as a short list (``calico-ipam check`` explains them)."""
        return [f for f in self.checks if f.severity is Severity.WARNING]

    @property
    def all_findings(self) -> list[Finding]:
        """Gates, the plan's own findings, and check's errors and warnings
        (check's notes belong to ``calico-ipam check``)."""
        return sort_findings([g.finding for g in self.gates] + list(self.findings)
                             + [f for f in self.checks if f.severity is not Severity.INFO])

    @property
    def summary(self) -> dict[str, int]:
        counts = Counter()
        for change in self.changes:
            if change.action is Action.REPLACE:
                counts["add"] += 1
                counts["destroy"] += 1
            else:
                counts[{"create": "add", "update": "change", "delete": "destroy",
                        "forget": "forget"}[change.action.value]] += 1
        return {"add": counts["add"], "change": counts["change"],
                "destroy": counts["destroy"], "forget": counts["forget"]}

    def migration_for(self, finding: Finding) -> Migration | None:
        for gate in self.gates:
            if gate.finding is finding:
                return gate.migration
        return None


# --------------------------------------------------------------------------- helpers

def _comparable(spec: PoolSpec) -> dict[str, Any]:
    """The spec as Calico reads it back; allowedUses is a set in Calico's CRD
    (``x-kubernetes-list-type: set``), so its order is not a change."""
    out = spec.to_calico()
    out["allowedUses"] = sorted(out["allowedUses"])
    return out


def _declared_metadata(pool, current: LivePool) -> tuple[dict[str, Any], dict[str, Any]]:
    """(live, declared) values of the labels and annotations the stack declares
    under the pool's ``metadata:``, keyed ``metadata.labels.<key>``. pulumi up
    sets exactly these (render adds the ownership labels and the applied-spec
    record, which are bookkeeping, never shown); undeclared keys are left alone."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for kind, declared, live_map, skip in (
            ("labels", pool.labels, current.labels, (OWNERSHIP_LABEL, STACK_LABEL)),
            ("annotations", pool.annotations, current.annotations, (APPLIED_SPEC_ANNOTATION,))):
        for key, value in declared.items():
            if key in skip:
                continue
            path = f"metadata.{kind}.{key}"
            before[path] = live_map.get(key)
            after[path] = str(value)
    return before, after


def _family(cidr: str) -> int:
    return 6 if ":" in cidr else 4


def _owned(live: LivePool, stack: Stack) -> bool:
    return live.owner == OWNER_CALICO_IPAM and live.owner_stack == stack.name


def _spec_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[AttributeChange, ...]:
    if before == after:  # the common case; DeepDiff costs ~1 ms a pool
        return ()
    diff = DeepDiff(dict(before), dict(after), ignore_order=True)
    changed = {str(key) for key in diff.affected_root_keys}
    out = []
    for key in [k for k in after if k in changed] + sorted(k for k in before
                                                            if k in changed and k not in after):
        old, new = before.get(key), after.get(key)
        forces = key in IMMUTABLE_FIELDS
        if key == "allowedUses":
            # clientv3 refuses moving a pool away from LoadBalancer (§4).
            forces = "LoadBalancer" in (old or ()) and set(new or ()) != {"LoadBalancer"}
        out.append(AttributeChange(key, old, new, forces))
    return tuple(out)


def parse_pools_annotation(value: str) -> tuple[list[str] | None, str | None]:
    """Calico's reading of ``cni.projectcalico.org/ipv4pools``: (list, None) or
    (None, why it fails the CNI ADD)."""
    entries, problem = _parse_pools_annotation(value)
    # A fresh list each call: callers own (and may change) what they get.
    return (list(entries) if entries is not None else None), problem


@functools.lru_cache(maxsize=4096)
def _parse_pools_annotation(value: str) -> tuple[tuple[str, ...] | None, str | None]:
    # Thousands of namespaces share a few annotation values: parse each once.
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        return None, f"is not valid JSON ({exc.msg} at character {exc.pos})"
    if not isinstance(parsed, list) or not all(isinstance(x, str) for x in parsed):
        return None, "is not a JSON list of strings such as [\"pool-a\"]"
    return tuple(parsed), None


def _cidr_or_none(entry: str) -> str | None:
    if "/" not in entry:
        return None
    try:
        return str(netaddr.IPNetwork(entry).cidr)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _pods_text(by_namespace: Mapping[str, int], limit: int = 6) -> str:
    items = sorted(by_namespace.items(), key=lambda kv: (-kv[1], kv[0]))
    parts = [f"{ns} {count}" for ns, count in items[:limit]]
    if len(items) > limit:
        parts.append(f"{len(items) - limit} more namespaces")
    return ", ".join(parts)


def usage_text(usage: PoolUsage) -> str:
    """``12 addresses in 3 blocks on 2 nodes (pods: web 10, db 2)``."""
    if not usage.blocks and not usage.allocated:
        return "no blocks, no addresses allocated"
    text = (f"{usage.allocated} address{'es' if usage.allocated != 1 else ''} allocated in "
            f"{usage.blocks} block{'s' if usage.blocks != 1 else ''} on {len(usage.nodes)} "
            f"node{'s' if len(usage.nodes) != 1 else ''}")
    if usage.by_namespace:
        text += f" (pods: {_pods_text(usage.by_namespace)})"
    return text


# --------------------------------------------------------------------------- temporary pool

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
    used.add(LINK_LOCAL[version])
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


def _unique_name(base: str, taken: set[str]) -> str:
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name[:253]


# --------------------------------------------------------------------------- the planner

class _Planner:
    def __init__(self, stack: Stack, live: LiveState, allow: frozenset[str]):
        self.stack = stack
        self.live = live
        self.allow = allow
        self.pool_changes: dict[str, PoolChange] = {}
        self.ns_changes: list[NamespaceChange] = []
        self.unmanaged: list[UnmanagedPool] = []
        self.gates: list[Gate] = []
        self.findings: list[Finding] = []
        # namespace -> family -> list of pool entries after the plan is applied
        self.effective: dict[str, dict[int, list[str]]] = {}
        self.live_annotations: dict[str, dict[int, list[str]]] = {}
        self.pods_by_namespace: Counter = Counter()
        for usage in live.usage.values():
            self.pods_by_namespace.update(usage.by_namespace)

    # ------------------------------------------------------------ findings
    def finding(self, rule_id: str, message: str, subject: str, location: Location = Location(),
                severity: Severity | None = None) -> Finding:
        return rules.rule(rule_id).finding(message, subject, location, stack=self.stack.name,
                                           severity=severity)

    def gate(self, rule_id: str, message: str, subject: str, pools: Iterable[str],
             location: Location, migration: Migration | None = None) -> None:
        pools = frozenset(pools)
        allowed = bool(pools & self.allow)
        if allowed:
            names = ", ".join(sorted(pools & self.allow))
            message += f" (allowed by --allow-disruption {names})"
        finding = self.finding(rule_id, message, subject, location,
                               Severity.WARNING if allowed else None)
        self.gates.append(Gate(finding, pools, migration, allowed))

    def usage(self, name: str) -> PoolUsage:
        return self.live.usage.get(name) or PoolUsage()

    # ------------------------------------------------------------ pools
    def plan_pools(self) -> None:
        stack, live = self.stack, self.live
        for name in sorted(stack.pool_specs):
            if name not in stack.pools:
                from ..calico.validate import validate_pool
                spec = dict(stack.pool_specs[name])
                for f in validate_pool(name, spec, stack.pool_metadata.get(name),
                                       locate=lambda p, n=name: stack.pool_location(n, *p),
                                       stack=stack.name):
                    if f.is_error:
                        self.findings.append(f)
                continue
            pool = stack.pools[name]
            after = _comparable(pool.spec)
            current = live.pools.get(name)
            location = stack.pool_location(name)
            if current is None:
                self.pool_changes[name] = PoolChange(name, Action.CREATE, None, after,
                                                     location=location)
                continue
            if current.owner == OWNER_TIGERA_OPERATOR:
                self.findings.append(self.finding(
                    "CIP607", f"pool {name} is declared in stack {stack.name} but the live pool "
                    f"{name} ({current.spec.cidr}) is managed by the Tigera operator, which "
                    "reverts edits; calico-ipam never modifies it. Change the pool in the "
                    "operator's Installation resource, or declare a pool with another name",
                    f"pool/{name}", location, Severity.ERROR))
                continue
            if current.owner == OWNER_CALICO_IPAM and current.owner_stack != stack.name:
                other = current.owner_stack or "(no stack label)"
                self.findings.append(self.finding(
                    "CIP606", f"pool {name} is declared in stack {stack.name} but the live pool "
                    f"{name} ({current.spec.cidr}) belongs to stack {other}; two stacks must "
                    "not manage one pool: rename it here or remove it from one stack",
                    f"pool/{name}", location, Severity.ERROR))
                continue
            before = _comparable(current.spec)
            meta_before, meta_after = _declared_metadata(pool, current)
            if meta_after:
                before, after = {**before, **meta_before}, {**after, **meta_after}
            changes = _spec_changes(before, after)
            adopt = not _owned(current, stack)
            if not changes:
                action = Action.NOOP
            elif any(c.forces_replacement for c in changes):
                action = Action.REPLACE
            else:
                action = Action.UPDATE
            self.pool_changes[name] = PoolChange(name, action, before, after, changes,
                                                 self.usage(name), adopt, location)
        for name in sorted(live.pools):
            current = live.pools[name]
            if name in stack.pool_specs:
                if name in self.pool_changes or name not in stack.pools:
                    continue
                # declared, but owned by the operator or another stack: listed too
            elif _owned(current, stack):
                action = Action.FORGET if stack.cluster.retain_on_delete else Action.DELETE
                self.pool_changes[name] = PoolChange(name, action, _comparable(current.spec), None,
                                                     usage=self.usage(name),
                                                     location=stack.locate("calico-ipam:pools"))
                continue
            self.unmanaged.append(UnmanagedPool(name, current.spec.cidr, current.owner,
                                                current.owner_stack, current.spec.disabled,
                                                current.deleting, self.usage(name)))

    def post_pools(self) -> dict[str, tuple[PoolSpec, bool]]:
        """Every pool after the plan is applied: name -> (spec, deleting)."""
        out = {}
        for name, current in self.live.pools.items():
            change = self.pool_changes.get(name)
            if change is not None and change.action is Action.DELETE:
                continue
            out[name] = (current.spec, current.deleting)
        for name, change in self.pool_changes.items():
            if change.action in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.NOOP):
                out[name] = (self.stack.pools[name].spec, False)
        return out

    # ------------------------------------------------------------ namespaces
    def plan_namespaces(self) -> None:
        stack, live = self.stack, self.live
        ours = {n for n, c in self.pool_changes.items()} | set(stack.pool_specs)
        ours |= {n for n, p in live.pools.items() if _owned(p, stack)}
        for name, ns in sorted(live.namespaces.items()):
            parsed: dict[int, list[str]] = {}
            for family, key in POOL_ANNOTATIONS.items():
                raw = ns.annotations.get(key)
                if raw is None:
                    continue
                entries, problem = parse_pools_annotation(raw)
                if entries is None:
                    parsed[family] = [raw]  # kept raw: shown as-is, never resolves
                    self._invalid.setdefault(name, {})[family] = problem
                else:
                    parsed[family] = entries
            self.live_annotations[name] = parsed
            self.effective[name] = dict(parsed)
        for name in sorted(stack.bindings):
            binding = stack.bindings[name]
            desired = binding.annotations()
            location = binding.location
            if name not in live.namespaces:
                if desired:
                    self.findings.append(self.finding(
                        "CIP605", f"namespace {name} is bound to "
                        f"{', '.join(binding.ipv4_pools + binding.ipv6_pools)} in stack "
                        f"{stack.name} but does not exist in the cluster ({live.source}); "
                        "create it first (kubectl create namespace "
                        f"{name}) or remove the binding", f"namespace/{name}", location))
                continue
            self._namespace(name, {f: desired.get(k) for f, k in POOL_ANNOTATIONS.items()},
                            ours, location)
        for name in sorted(live.namespaces):
            if name in stack.bindings:
                continue
            # Not bound any more: the annotation is removed only when it names
            # nothing but this stack's pools, i.e. it is the patch this stack made.
            current = self.live_annotations.get(name, {})
            if current and name not in self._invalid and all(
                    entries and all(e in ours for e in entries) for entries in current.values()):
                self._namespace(name, {4: None, 6: None}, ours, stack.locate(
                    "calico-ipam:namespaces"))

    _invalid: dict[str, dict[int, str]]

    def _namespace(self, name: str, desired: dict[int, list[str] | None], ours: set[str],
                   location: Location) -> None:
        current = self.live_annotations.get(name, {})
        invalid = self._invalid.get(name, {})
        changes, before, after = [], {}, {}
        for family, key in POOL_ANNOTATIONS.items():
            want = desired.get(family)
            have = current.get(family)
            if have is not None:
                before[key] = have[0] if family in invalid else have
            if want is None:
                # An unbound family is left alone unless it is this stack's own patch.
                if have is None or family in invalid or not all(e in ours for e in have):
                    if have is not None:
                        after[key] = before[key]
                    continue
                changes.append(AttributeChange(key, have, None))
                self.effective[name].pop(family, None)
                continue
            after[key] = list(want)
            if family in invalid:
                changes.append(AttributeChange(key, have[0], list(want)))
                self.findings.append(self.finding(
                    "CIP609", f"namespace {name}: annotation {key} = {have[0]!r} "
                    f"{invalid[family]}; pods created there now fail (Calico's CNI ADD parses "
                    "it with json.Unmarshal); this plan overwrites it", f"namespace/{name}",
                    location, Severity.WARNING))
            elif have != list(want):
                changes.append(AttributeChange(key, have, list(want)))
            self.effective[name][family] = list(want)
        pods = self.pods_by_namespace.get(name, 0)
        if not changes:
            action = Action.NOOP
        elif not before:
            action = Action.CREATE
        elif not after:
            action = Action.DELETE
        else:
            action = Action.UPDATE
        self.ns_changes.append(NamespaceChange(name, action, frozen_map(before),
                                               frozen_map(after), tuple(changes), pods, location))
        if changes and (pods or current):
            self.findings.append(self.finding(
                "CIP608", f"namespace {name}: the pool binding changes; Calico reads the "
                f"annotation only when a pod is created, so "
                + ("the existing pod keeps its address" if pods == 1 else
                   f"the {pods} existing pods keep their addresses" if pods else
                   "pods that exist by then keep their addresses")
                + f" until restarted (kubectl -n {name} rollout restart deployment)",
                f"namespace/{name}",
                location))

    # ------------------------------------------------------------ gates
    def resolve(self, entry: str, family: int, post: Mapping[str, tuple[PoolSpec, bool]]):
        """(pool name, why it is unusable or None) for one annotation entry."""
        cidr = _cidr_or_none(entry)
        if cidr is not None:
            match = [n for n, (spec, _) in post.items() if spec.cidr == cidr]
            if not match:
                return None, f"no pool has the CIDR {entry}"
            name = match[0]
        elif entry in post:
            name = entry
        else:
            return None, f"no pool {entry} exists after this plan"
        spec, deleting = post[name]
        if _family(spec.cidr) != family:
            return name, f"pool {name} is IPv{_family(spec.cidr)}"
        if spec.disabled:
            return name, f"pool {name} is disabled"
        if deleting:
            return name, f"pool {name} is being deleted"
        if "Workload" not in spec.allowed_uses:
            return name, f"pool {name} does not allow Workload"
        return name, None

    def run_gates(self) -> None:
        post = self.post_pools()
        changing = {c.namespace for c in self.ns_changes if c.action is not Action.NOOP}
        for name, change in self.pool_changes.items():
            usage = change.usage
            if change.action is Action.REPLACE and usage.in_use:
                fields = " and ".join(f"{c.path} {_show(c.before)} -> {_show(c.after)}"
                                      for c in change.changes if c.forces_replacement)
                self.gate("CIP601", f"pool {name}: {fields} would replace the pool, but it is "
                          f"in use: {usage_text(usage)}. Calico forbids changing "
                          f"{'/'.join(change.replace_paths)} in place (\"follow IP pool "
                          "migration guide to avoid corruption\"), and deleting it first strands "
                          "those pods", f"pool/{name}", {name},
                          self.stack.pool_location(name, change.replace_paths[0]),
                          self.replace_migration(change, post))
            if change.action is Action.DELETE and usage.in_use:
                self.gate("CIP602", f"pool {name} is no longer declared in stack "
                          f"{self.stack.name} and would be deleted, but it is in use: "
                          f"{usage_text(usage)}. Calico does not release the addresses of "
                          "running pods, which lose NAT and encapsulation", f"pool/{name}",
                          {name}, change.location, self.delete_migration(change, post))
            disables = (change.action is Action.UPDATE and change.before and change.after
                        and change.after["disabled"] and not change.before["disabled"])
            if disables or change.action is Action.DELETE:
                verb = "disable" if disables else "delete"
                for ns, families in sorted(self.effective.items()):
                    for family, entries in sorted(families.items()):
                        if any(self.names_pool(e, name, change) for e in entries):
                            key = POOL_ANNOTATIONS[family]
                            loc = (self.stack.binding_location(ns) if ns in self.stack.bindings
                                   else change.location)
                            self.gate("CIP603", f"this plan would {verb} pool {name}, but "
                                      f"namespace {ns} still names it in {key}; new pods there "
                                      f"fail with \"the given pool ({change.before['cidr']}) "
                                      "does not exist, or is not enabled\" (Calico does not fall "
                                      "back to other pools)", f"pool/{name}", {name}, loc,
                                      self.rebind_migration(name, ns, family, verb))
        for ns in sorted(changing):
            live_entries = self.live_annotations.get(ns, {})
            for family in (4, 6):
                entries = self.effective.get(ns, {}).get(family)
                key = POOL_ANNOTATIONS[family]
                if entries is None:
                    if family in live_entries and not self.auto_pools(family, post):
                        self.gate("CIP604", f"namespace {ns}: removing {key} leaves it with no "
                                  f"usable IPv{family} pool: no enabled Automatic pool allows "
                                  "Workload, so new pods fail to get an address",
                                  f"namespace/{ns}", set(live_entries[family]),
                                  self.stack.locate("calico-ipam:namespaces"))
                    continue
                if entries == live_entries.get(family):
                    continue
                problems = []
                names = set()
                for entry in entries:
                    pool, why = self.resolve(entry, family, post)
                    if why is None:
                        continue
                    change = self.pool_changes.get(pool) if pool else None
                    if change is not None and (change.action is Action.DELETE or (
                            change.action is Action.UPDATE and change.after["disabled"]
                            and not change.before["disabled"])):
                        continue  # CIP603 already refuses that pool
                    problems.append(f"{entry}: {why}")
                    names.add(pool or entry)
                if problems:
                    self.gate("CIP604", f"namespace {ns}: the new binding {key} = "
                              f"{_show(entries)} leaves it with no usable pool ("
                              f"{'; '.join(problems)}); Calico fails the whole request when one "
                              "entry is unusable", f"namespace/{ns}", names,
                              self.stack.binding_location(ns, "ipv4Pools" if family == 4
                                                          else "ipv6Pools"))

    def names_pool(self, entry: str, name: str, change: PoolChange) -> bool:
        if entry == name:
            return True
        cidr = _cidr_or_none(entry)
        return cidr is not None and change.before is not None and cidr == change.before["cidr"]

    def auto_pools(self, family: int, post) -> list[str]:
        return [n for n, (spec, deleting) in post.items()
                if _family(spec.cidr) == family and not spec.disabled and not deleting
                and "Workload" in spec.allowed_uses and spec.assignment_mode == "Automatic"]

    # ------------------------------------------------------------ migrations
    def taken_cidrs(self) -> list[str]:
        taken = [p.spec.cidr for p in self.live.pools.values()]
        taken += [p.spec.cidr for p in self.stack.pools.values()]
        taken += list(self.stack.cluster.service_cidrs) + list(self.stack.cluster.node_cidrs)
        return [c for c in taken if _cidr_or_none(c)]

    def restart_step(self, pool: str, cidr: str, usage: PoolUsage) -> MigrationStep:
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

    def namespaces_naming(self, name: str, change: PoolChange) -> list[tuple[str, int]]:
        return [(ns, fam) for ns, fams in sorted(self.effective.items())
                for fam, entries in sorted(fams.items())
                if any(self.names_pool(e, name, change) for e in entries)]

    def replace_migration(self, change: PoolChange, post) -> Migration:
        name, before, after = change.name, change.before, change.after
        stack = self.stack.name
        old_cidr = before["cidr"]
        version = _family(old_cidr)
        prefix = int(old_cidr.rsplit("/", 1)[1])
        temp_name = _unique_name(f"{name}-migration",
                                 set(self.live.pools) | set(self.stack.pool_specs))
        temp_cidr = propose_temporary_cidr(prefix, version, self.taken_cidrs(), prefer=old_cidr)
        block = after["blockSize"] if prefix <= after["blockSize"] else before["blockSize"]
        verify = "calicoctl ipam show --show-blocks"
        steps = []
        if temp_cidr is None:
            steps.append(MigrationStep(
                f"Choose a CIDR of the same size as {old_cidr} for a temporary pool "
                f"{temp_name}: no free /{prefix} is left in private address space that "
                "overlaps nothing declared or live"))
            temp_cidr = f"<free /{prefix}>"
        manifest = "\n".join([
            "calicoctl create -f - <<EOF",
            "apiVersion: projectcalico.org/v3", "kind: IPPool",
            f"metadata: {{name: {temp_name}}}", "spec:",
            f"  cidr: {temp_cidr}", f"  blockSize: {block}",
            f"  ipipMode: {after['ipipMode']}", f"  vxlanMode: {after['vxlanMode']}",
            f"  natOutgoing: {str(after['natOutgoing']).lower()}",
            f"  nodeSelector: {_show(after['nodeSelector'])}", "EOF"])
        steps.append(MigrationStep(
            f"Create a temporary pool {temp_name} with {temp_cidr} (the size of {old_cidr}; it "
            "overlaps no declared or live pool, service or node CIDR)", (manifest,)))
        naming = self.namespaces_naming(name, change)
        if naming:
            steps.append(MigrationStep(
                f"Point the namespaces that name {name} at the temporary pool, so that "
                "restarted pods can start", tuple(
                    f"kubectl annotate namespace {ns} --overwrite "
                    f"{POOL_ANNOTATIONS[fam]}='{json.dumps([temp_name])}'"
                    for ns, fam in naming)))
        steps.append(MigrationStep(
            f"Disable {name} so that no new pod gets an address from it (running pods keep "
            "theirs)", (f"calicoctl patch ippool {name} --patch '{{\"spec\": {{\"disabled\": "
                        "true}}'",)))
        steps.append(self.restart_step(name, old_cidr, change.usage))
        steps.append(MigrationStep(f"Verify that no block of {old_cidr} has addresses in use",
                                   (verify,)))
        steps.append(MigrationStep(f"Delete {name}", (f"calicoctl delete ippool {name}",)))
        new = ", ".join(f"{c.path} {_show(c.after)}" for c in change.changes)
        steps.append(MigrationStep(
            f"Re-create {name} as stack {stack} declares it ({new})"
            + (" and restore the namespace annotations" if naming else ""),
            (f"pulumi up --stack {stack}",)))
        steps.append(MigrationStep(f"Disable the temporary pool {temp_name}", (
            f"calicoctl patch ippool {temp_name} --patch '{{\"spec\": {{\"disabled\": true}}}}'",)))
        steps.append(self.restart_step(temp_name, temp_cidr, change.usage))
        steps.append(MigrationStep(f"Verify that no block of {temp_cidr} has addresses in use",
                                   (verify,)))
        steps.append(MigrationStep(f"Delete the temporary pool {temp_name}",
                                   (f"calicoctl delete ippool {temp_name}",)))
        block_only = change.replace_paths == ("blockSize",)
        return Migration(
            "change IP pool block size" if block_only else "migrate from one IP pool to another",
            "docs.tigera.io calico/networking/ipam/" + ("change-block-size" if block_only
                                                        else "migrate-pools"),
            tuple(steps), temp_name, temp_cidr)

    def delete_migration(self, change: PoolChange, post) -> Migration:
        name, cidr = change.name, change.before["cidr"]
        family = _family(cidr)
        steps = []
        naming = self.namespaces_naming(name, change)
        others = [p for p in self.auto_pools(family, post) if p != name]
        if naming:
            steps.append(MigrationStep(
                "Bind these namespaces to another pool in the stack file: "
                + ", ".join(f"{ns} ({POOL_ANNOTATIONS[fam]})" for ns, fam in naming)
                + f", then run pulumi up --stack {self.stack.name}"))
        elif not others:
            steps.append(MigrationStep(
                f"Add the new IPv{family} pool the pods should move to (stack "
                f"{self.stack.name} declares no other enabled pool that new pods would use)"))
        else:
            steps.append(MigrationStep(
                "New pods of unbound namespaces will get addresses from "
                + ", ".join(others[:5]) + (" …" if len(others) > 5 else "")))
        steps.append(MigrationStep(
            f"Disable {name}", (f"calicoctl patch ippool {name} --patch "
                                "'{\"spec\": {\"disabled\": true}}'",)))
        steps.append(self.restart_step(name, cidr, change.usage))
        steps.append(MigrationStep(f"Verify that no block of {cidr} has addresses in use, and "
                                   "that new pods get addresses from the new pool",
                                   ("calicoctl ipam show --show-blocks",)))
        steps.append(MigrationStep(f"Delete {name}: the plan then passes this gate",
                                   (f"pulumi up --stack {self.stack.name}",)))
        return Migration("migrate from one IP pool to another",
                         "docs.tigera.io calico/networking/ipam/migrate-pools", tuple(steps))

    def rebind_migration(self, name: str, ns: str, family: int, verb: str) -> Migration:
        key = "ipv4Pools" if family == 4 else "ipv6Pools"
        where = (self.stack.binding_location(ns, key) if ns in self.stack.bindings else None)
        text = (f"Bind namespace {ns} to another pool"
                + (f" in {where}" if where is not None else
                   f" (kubectl annotate namespace {ns} --overwrite "
                   f"{POOL_ANNOTATIONS[family]}='[\"<pool>\"]')")
                + f", or keep {name} enabled")
        return Migration(f"{verb} a bound pool", "docs.tigera.io calico/networking/ipam/"
                         "migrate-pools", (
                             MigrationStep(text),
                             MigrationStep(f"Restart the pods of {ns} after the rebinding so "
                                           f"that they leave {name}",
                                           (f"kubectl -n {ns} rollout restart deployment",)),
                             MigrationStep("Run the plan again", (
                                 f"calico-ipam plan --stack {self.stack.name}",))))

    # ------------------------------------------------------------ notes
    def note_unmanaged(self) -> None:
        for pool in self.unmanaged:
            rule_id = "CIP607" if pool.owner == OWNER_TIGERA_OPERATOR else "CIP606"
            owner = {"tigera-operator": "the Tigera operator",
                     "calico-ipam": f"stack {pool.owner_stack or '(no stack label)'}"}.get(
                         pool.owner, "nobody known (no calico-ipam ownership label)")
            self.findings.append(self.finding(
                rule_id, f"live pool {pool.name} ({pool.cidr}) is managed by {owner}; stack "
                f"{self.stack.name} lists it and never changes it", f"pool/{pool.name}"))

    def note_api_version(self) -> None:
        declared, served = self.stack.cluster.calico_api, self.live.calico_api
        if declared == served:
            return
        where = self.stack.cluster_location("calicoApi")
        subject = f"stack/{self.stack.name}"
        if declared == API_V3 and not self.live.calico_api_inferred:
            # The reader asked for projectcalico.org/v3 first and fell back to v1.
            self.findings.append(self.finding("CIP612", (
                f"stack {self.stack.name} applies IPPools as {API_V3}, but the cluster "
                f"({self.live.source}) serves only {API_CRD_V1} (no Calico API server): pulumi "
                f"up would fail with \"no matches for kind IPPool in version {API_V3}\". Set "
                f"calicoApi: {API_CRD_V1}, or install the Calico API server"), subject, where))
        elif declared == API_V3:
            self.findings.append(self.finding("CIP612", (
                f"the pools in {self.live.source} are {served} objects while stack "
                f"{self.stack.name} applies {API_V3}: if the cluster has no Calico API server, "
                f"pulumi up will fail with \"no matches for kind IPPool in version {API_V3}\"; "
                f"a `calico-ipam snapshot` of the cluster tells which API it serves"),
                subject, where, severity=Severity.WARNING))
        else:
            self.findings.append(self.finding("CIP612", (
                f"stack {self.stack.name} applies IPPools as {API_CRD_V1}, but {self.live.source} "
                f"serves {API_V3}: writes to {API_CRD_V1} bypass the Calico API server's "
                f"validation and defaulting, and clusters on native {API_V3} CRDs have no "
                f"{API_CRD_V1} IPPools at all. Set calicoApi: {API_V3}"),
                subject, where, severity=Severity.WARNING))

    def note_live_overlaps(self) -> None:
        # Calico refuses to create a pool overlapping an existing one, and where
        # nothing validates (crd.projectcalico.org/v1) pods get duplicate addresses.
        from ..rules.overlap import live_overlap_findings
        self.findings += live_overlap_findings(self.stack, self.live.pools)

    def build(self, with_drift: bool = True, checks: Sequence[Finding] = ()) -> Plan:
        self._invalid = {}
        self.plan_pools()
        self.plan_namespaces()
        self.run_gates()
        self.note_unmanaged()
        self.note_api_version()
        self.note_live_overlaps()
        # check reports a pool that fails Calico's rules too: keep one copy.
        seen = {_identity(f) for f in checks}
        findings = [f for f in self.findings if _identity(f) not in seen]
        return Plan(
            stack=self.stack.name, stack_file=self.stack.file, source=self.live.source,
            pools=tuple(self.pool_changes[n] for n in sorted(self.pool_changes)),
            namespaces=tuple(sorted(self.ns_changes, key=lambda c: c.namespace)),
            unmanaged=tuple(self.unmanaged), gates=tuple(self.gates),
            findings=tuple(sort_findings(findings)),
            drift=tuple(drift(self.stack, self.live)) if with_drift else (),
            checks=tuple(sort_findings(checks)))


def _identity(finding: Finding) -> tuple:
    return (finding.rule, finding.subject, finding.location, finding.message)


def build_plan(stack: Stack, live: LiveState, *,
               allow_disruption: Iterable[str] = frozenset(),
               context: Sequence[Stack] = (), run_check: bool = True) -> Plan:
    """What ``pulumi up --stack <stack>`` would change in the cluster, with the
    safety gates evaluated. ``allow_disruption`` names pools whose gates
    become warnings.

    With ``run_check`` (the default) the plan also holds ``calico-ipam
    check``'s findings about *stack* (``context``: the other stacks of the
    directory, for routing-domain overlaps), and its errors refuse the plan
    as they refuse ``pulumi up``.
    """
    checks: list[Finding] = []
    if run_check:
        from ..rules.runner import check_stacks
        checks = check_stacks([stack], context=context)
    return _Planner(stack, live, frozenset(allow_disruption)).build(checks=checks)


# --------------------------------------------------------------------------- drift

def drift(stack: Stack, live: LiveState, *, stack_is_applied: bool = False) -> list[DriftItem]:
    """What changed outside calico-ipam, in the stack's own terms.

    The baseline is what calico-ipam last applied, never the stack file as
    edited: a pool this stack owns whose live spec differs from its
    ``calico-ipam.io/applied-spec`` annotation (defaults and server fields are
    not differences), or whose annotation is unreadable; a bound namespace
    whose pool annotation is not valid JSON (calico-ipam never writes that).

    Without a record the answer depends on what is known. ``plan``
    (``stack_is_applied`` False) reports nothing for a pool without the
    annotation (applied by an older calico-ipam, or adopted after
    ``import``): the stack file may hold the user's pending edit. ``drift``
    in scheduled CI on main passes True: the stack file there *is* what was
    applied, so such a pool is compared with the stack, a declared pool
    missing from the cluster was deleted outside calico-ipam, a bound
    namespace whose annotation differs from the binding was changed, and an
    undeclared live pool overlapping a declared one was added (``plan``
    reports that overlap as the error CIP205 instead).
    """
    items: list[DriftItem] = []

    def item(address, kind, message, changes=(), rule_id="CIP611", location=Location(),
             baseline=BASELINE_APPLIED):
        subject = address.replace("ippool/", "pool/", 1)
        finding = rules.rule(rule_id).finding(message, subject, location, stack=stack.name)
        items.append(DriftItem(address, kind, message, tuple(changes), finding, baseline))

    def fields(changes):
        return ", ".join(f"{c.path} {_show(c.before)} -> {_show(c.after)}" for c in changes)

    for name in sorted(stack.pools):
        pool = stack.pools[name]
        current = live.pools.get(name)
        location = stack.pool_location(name)
        if current is None:
            if stack_is_applied:
                item(f"ippool/{name}", "deleted", f"pool {name} ({pool.spec.cidr}) is declared "
                     f"in stack {stack.name}, which is what was applied, but is missing from "
                     "the cluster: deleted outside calico-ipam", location=location,
                     baseline=BASELINE_STACK)
            continue  # for plan: simply a create
        if not _owned(current, stack):
            continue  # adoption or a conflict: the plan's business, not drift
        applied, problem = applied_pool_spec(current)
        if problem is not None:
            item(f"ippool/{name}", "invalid", f"pool {name}: annotation "
                 f"{APPLIED_SPEC_ANNOTATION} {problem}; it was edited outside calico-ipam, so "
                 "what calico-ipam last applied is unknown (pulumi up rewrites it)",
                 location=location)
            continue
        if applied is not None:
            changes = _spec_changes(_comparable(applied), _comparable(current.spec))
            if changes:
                item(f"ippool/{name}", "changed", f"pool {name} has changed outside "
                     f"calico-ipam since it was last applied: {fields(changes)} "
                     "(applied -> live)", changes, location=location)
        elif stack_is_applied:
            changes = _spec_changes(_comparable(pool.spec), _comparable(current.spec))
            if changes:
                item(f"ippool/{name}", "changed", f"pool {name} differs from stack "
                     f"{stack.name}: {fields(changes)} (stack -> live); it carries no "
                     f"{APPLIED_SPEC_ANNOTATION} annotation (applied by an older calico-ipam "
                     "or adopted by import), so the stack file is taken as what was applied",
                     changes, location=location, baseline=BASELINE_STACK)
    for name in sorted(stack.bindings):
        binding = stack.bindings[name]
        ns = live.namespaces.get(name)
        if ns is None:
            continue  # the plan reports CIP605
        for family, key in POOL_ANNOTATIONS.items():
            want = binding.annotations().get(key)
            raw = ns.annotations.get(key)
            if want is None:
                continue
            location = stack.binding_location(name, "ipv4Pools" if family == 4 else "ipv6Pools")
            if raw is None:
                if stack_is_applied:
                    item(f"namespace/{name}", "deleted", f"namespace {name}: annotation {key} "
                         f"is missing (stack {stack.name} binds {_show(want)}): removed outside "
                         "calico-ipam", [AttributeChange(key, want, None)], location=location,
                         baseline=BASELINE_STACK)
                continue
            entries, problem = parse_pools_annotation(raw)
            if entries is None:
                item(f"namespace/{name}", "invalid", f"namespace {name}: annotation {key} = "
                     f"{raw!r} {problem}; new pods there fail to start (declared "
                     f"{_show(want)})", [AttributeChange(key, want, raw)], "CIP609", location)
            elif entries != want and stack_is_applied:
                item(f"namespace/{name}", "changed", f"namespace {name}: annotation {key} has "
                     f"changed outside calico-ipam: {_show(want)} -> {_show(entries)} "
                     "(stack -> live)", [AttributeChange(key, want, entries)],
                     location=location, baseline=BASELINE_STACK)
    if stack_is_applied:
        from ..rules.overlap import live_overlap_findings
        for finding in live_overlap_findings(stack, live.pools):
            items.append(DriftItem(finding.subject.replace("pool/", "ippool/", 1), "overlap",
                                   finding.message, (), finding, BASELINE_STACK))
    return items
