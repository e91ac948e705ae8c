"""Step 1 of a plan: every pool, declared against live.

Per pool: create, update in place, replace (``cidr`` and ``blockSize`` are
immutable in Calico; so is leaving ``LoadBalancer`` behind), delete (a live
pool this stack owns but no longer declares), forget (the same with
``retainOnDelete``: Pulumi drops it from its state and the pool stays) or
no-op. Specs are compared after Calico's defaults, so a live pool that
differs only in defaulted or server-side fields shows no change. Pools this
stack does not own are listed, never changed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from ..calico.ippool import comparable
from ..calico.operator import CHECK_COMMAND
from ..calico.validate import validate_pool
from ..core.cidr import parse_cidr
from ..core.ippool import PoolSpec
from ..core.live_state import (
    OWNER_CALICO_IPAM,
    OWNER_TIGERA_OPERATOR,
    LivePool,
    LiveState,
)
from ..core.model import Finding, Severity, Stack
from ..core.rules import Help, I, Rule, Scope, W
from .compare import declared_metadata, owned, spec_changes
from .model import Action, PoolChange, UnmanagedPool

CIP606 = Rule("CIP606", "unowned-pool", I,
              "A live pool this stack does not own is listed, never modified.",
              scope=Scope.LIVE,
              help=Help("Pools of other stacks, made by hand or by other tools are not this "
                        "stack's to change; they are listed so that their usage and overlaps "
                        "stay visible.",
                        "Nothing to fix; declare the pool here (calico-ipam import) to manage "
                        "it."))
CIP607 = Rule("CIP607", "operator-managed-pool", I,
              "A pool managed by the Tigera operator is never modified.",
              scope=Scope.LIVE,
              help=Help("The Tigera operator reconciles the pools of its Installation resource "
                        "and undoes any other change.",
                        "Change the pool in the operator's Installation resource, or stop the "
                        "operator managing it before declaring it here."))
CIP624 = Rule("CIP624", "stored-cidr-not-canonical", W,
              "A live pool stores its CIDR in a non-canonical form: the CRD refuses the "
              "canonical text as a CIDR change, so the pool must be replaced.",
              scope=Scope.LIVE,
              help=Help("The IPPool CRD's rule self == oldSelf compares the stored CIDR text, "
                        "so applying the canonical form of the same network is refused as a "
                        "CIDR change.",
                        "Replace the pool (the plan's migration when it is in use), or keep "
                        "the stored text in the stack.",
                        calico=("api/pkg/apis/projectcalico/v3/ippool.go:105",)))
CIP620 = Rule("CIP620", "pool-owner-unknown", W,
              "The live state cannot tell whether the Tigera operator manages a pool this "
              "stack adopts: check the operator's Installation.",
              scope=Scope.LIVE,
              help=Help("Without the operator's Installation in the live state calico-ipam "
                        "cannot tell a pool the Tigera operator manages from one calico-node "
                        "created on a manifest install; the operator reverts edits to its "
                        "pools.",
                        "Run `kubectl get installations.operator.tigera.io default -o "
                        "jsonpath='{.spec.calicoNetwork.ipPools[*].cidr}'`: if it prints the "
                        "pool's CIDR, remove the pool from the stack. A calico-ipam snapshot "
                        "records the Installations and settles it."))


After = Mapping[str, tuple[PoolSpec, bool]]  # pool name -> (spec, being deleted), once applied


@dataclass(frozen=True)
class PoolDiff:
    """Pool changes by name, the live pools listed but never changed, and the
    refusals found on the way (declared pools owned elsewhere or invalid)."""

    changes: Mapping[str, PoolChange]
    unmanaged: tuple[UnmanagedPool, ...]
    findings: tuple[Finding, ...]


def diff_pools(stack: Stack, live: LiveState) -> PoolDiff:
    changes: dict[str, PoolChange] = {}
    findings: list[Finding] = []
    for name in sorted(stack.pool_specs):
        if name not in stack.pools:
            findings += _invalid_pool_errors(stack, name)
            continue
        change, refusal = _declared_pool(stack, live, name)
        if change is not None:
            changes[name] = change
            findings += _owner_unknown(stack, live, name)
            findings += _stored_cidr(stack, live, name)
        if refusal is not None:
            findings.append(refusal)
    unmanaged = []
    for name in sorted(live.pools):
        current = live.pools[name]
        if name in stack.pool_specs:
            if name in changes or name not in stack.pools:
                continue
            # declared, but owned by the operator or another stack: listed too
        elif owned(current, stack):
            changes[name] = _undeclared_own_pool(stack, live, current)
            continue
        unmanaged.append(UnmanagedPool(name, current.spec.cidr, current.owner,
                                       current.owner_stack, current.spec.disabled,
                                       current.deleting, live.usage_of(name)))
    return PoolDiff(changes, tuple(unmanaged), tuple(findings))


def _invalid_pool_errors(stack: Stack, name: str) -> list[Finding]:
    """A declared pool that fails Calico's rules: its errors, to name the rule."""
    return [f for f in validate_pool(name, dict(stack.pool_specs[name]),
                                     stack.pool_metadata.get(name),
                                     locate=lambda p: stack.pool_location(name, *p),
                                     stack=stack.name) if f.is_error]


def _declared_pool(stack: Stack, live: LiveState, name: str
                   ) -> tuple[PoolChange | None, Finding | None]:
    """The change of one valid declared pool, or the refusal to touch it."""
    pool = stack.pools[name]
    after = comparable(pool.spec)
    current = live.pools.get(name)
    location = stack.pool_location(name)
    if current is None:
        return PoolChange(name, Action.CREATE, None, after, location=location), None
    if current.owner == OWNER_TIGERA_OPERATOR:
        return None, CIP607.finding(
            f"pool {name} is declared in stack {stack.name} but the live pool {name} "
            f"({current.spec.cidr}) is managed by the Tigera operator ({current.owner_reason}), "
            "which reverts edits; calico-ipam never modifies it. Change the pool in the "
            "operator's Installation (spec.calicoNetwork.ipPools), or remove it from there "
            "and from the cluster before declaring it here", f"pool/{name}", location,
            stack=stack.name, severity=Severity.ERROR)
    if current.owner == OWNER_CALICO_IPAM and current.owner_stack != stack.name:
        other = current.owner_stack or "(no stack label)"
        return None, CIP606.finding(
            f"pool {name} is declared in stack {stack.name} but the live pool {name} "
            f"({current.spec.cidr}) belongs to stack {other}; two stacks must not manage one "
            "pool: rename it here or remove it from one stack", f"pool/{name}", location,
            stack=stack.name, severity=Severity.ERROR)
    before = comparable(current.spec)
    if current.stored_cidr is not None:
        # Stored as "FD00:0:0:0::/120": render sends the canonical text, and the
        # CRD's rule "self == oldSelf" compares text, so the apply is refused
        # ("CIDR cannot be changed"): a replacement, however equal the networks.
        before["cidr"] = current.stored_cidr
    meta_before, meta_after = declared_metadata(pool, current)
    if meta_after:
        before, after = {**before, **meta_before}, {**after, **meta_after}
    changes = spec_changes(before, after)
    if not changes:
        action = Action.NOOP
    elif any(c.forces_replacement for c in changes):
        action = Action.REPLACE
    else:
        action = Action.UPDATE
    return PoolChange(name, action, before, after, changes, live.usage_of(name),
                      not owned(current, stack), location), None


def _owner_unknown(stack: Stack, live: LiveState, name: str) -> list[Finding]:
    """CIP620: the stack adopts an unlabelled live pool, and the live state holds
    no list of the operator's Installations to rule the operator out."""
    current = live.pools.get(name)
    if current is None or current.owner_certain:
        return []
    return [CIP620.finding(
        f"stack {stack.name} adopts live pool {name} ({current.spec.cidr}), which has no "
        f"ownership label, but {live.source} lists no Tigera operator Installations, so "
        "calico-ipam cannot tell whether the operator manages it (the name decides nothing: "
        "calico-node creates default-ipv4-ippool on manifest installs). Check with "
        f"{CHECK_COMMAND}: if it prints {current.spec.cidr}, the operator manages the pool and "
        "reverts calico-ipam's changes, so remove it from this stack; if the command says "
        "the resource type is unknown, no operator runs. A calico-ipam snapshot (or kubectl "
        "output that includes kubectl get installations.operator.tigera.io -o yaml) settles it",
        f"pool/{name}", stack.pool_location(name), stack=stack.name)]


def _stored_cidr(stack: Stack, live: LiveState, name: str) -> list[Finding]:
    """CIP624: the live pool's CIDR text is not what Calico writes (it bypassed
    the API server's normalisation: clientv3 ippool.go validateAndSetDefaults)."""
    current = live.pools.get(name)
    if current is None or current.stored_cidr is None:
        return []
    return [CIP624.finding(
        f"live pool {name} stores its CIDR as {current.stored_cidr!r}, not in the canonical "
        f"form {current.spec.cidr} that Calico's API server writes and calico-ipam renders; "
        "the IPPool CRD's rule \"self == oldSelf\" compares the text, so applying "
        f"{current.spec.cidr} is refused (\"CIDR cannot be changed; follow IP pool migration "
        "guide to avoid corruption.\"): the plan replaces the pool", f"pool/{name}",
        stack.pool_location(name, "cidr"), stack=stack.name)]


def _undeclared_own_pool(stack: Stack, live: LiveState, current: LivePool) -> PoolChange:
    """A pool this stack owns but no longer declares: deleted, or forgotten when retained."""
    action = Action.FORGET if stack.cluster.retain_on_delete else Action.DELETE
    return PoolChange(current.name, action, comparable(current.spec), None,
                      usage=live.usage_of(current.name),
                      location=stack.locate("calico-ipam:pools"))


def pools_after(stack: Stack, live: LiveState, changes: Mapping[str, PoolChange]
                ) -> dict[str, tuple[PoolSpec, bool]]:
    """Every pool once the plan is applied: name -> (spec, being deleted)."""
    out = {}
    for name, current in live.pools.items():
        change = changes.get(name)
        if change is not None and change.action is Action.DELETE:
            continue
        out[name] = (current.spec, current.deleting)
    for name, change in changes.items():
        if change.action in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.NOOP):
            out[name] = (stack.pools[name].spec, False)
    return out


def automatic_pools(after: After, family: int) -> list[str]:
    """Enabled Automatic Workload pools of *family* once applied: where unannotated pods go."""
    return [n for n, (spec, deleting) in after.items()
            if parse_cidr(spec.cidr).version == family and not spec.disabled and not deleting
            and "Workload" in spec.allowed_uses and spec.assignment_mode == "Automatic"]
