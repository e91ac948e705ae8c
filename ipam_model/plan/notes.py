"""Step 4 of a plan: what it notes besides changes and gates.

Pools this stack lists but never changes (CIP606/CIP607), the IPPool API the
stack applies against the one the cluster serves (CIP612), declared pools
overlapping live pools the stack does not declare (CIP205): Calico refuses
to create a pool overlapping an existing one, and where nothing validates
(``crd.projectcalico.org/v1``) pods get duplicate addresses; IPAM blocks
that lie in no live pool (CIP610); live pools Calico does not allocate from
(status Allocatable=False, CIP622) or whose selector breaks pool selection
for every unannotated pod (CIP623).
"""
from __future__ import annotations

from ..calico.selector import SelectorError, parse_selector
from ..core.cidr import parse_cidr
from ..core.live_state import OWNER_TIGERA_OPERATOR, LiveState
from ..core.model import API_CRD_V1, API_V3, Finding, Severity, Stack
from ..core.rules import Help, Help, E, Help, Rule, Scope, W
from ..core.words import plural
from ..rules.overlap import live_overlap_findings
from .model import UnmanagedPool
from .pools import CIP606, CIP607, After

CIP610 = Rule("CIP610", "blocks-outside-pools", W,
              "Live IPAM blocks lie outside every pool (orphaned allocations).",
              scope=Scope.LIVE,
              help=Help("IPAM blocks outside every pool are left from deleted or changed pools; "
                        "their addresses are still allocated and can collide with a new pool.",
                        "Find them with `calicoctl ipam check`, and release leaked addresses "
                        "with `calicoctl ipam release` once their pods are gone."))
CIP622 = Rule("CIP622", "pool-not-allocatable", W,
              "A live pool's status says Allocatable=False (an overlap): Calico assigns no "
              "address from it.",
              scope=Scope.LIVE,
              help=Help("Calico skips a pool whose status condition says Allocatable=False "
                        "(kube-controllers sets it on overlapping pools): pods that name it "
                        "fail, others get addresses elsewhere.",
                        "Remove the overlap: disable or migrate one of the overlapping pools.",
                        calico=("libcalico-go/lib/clientv3/client.go:234",)))
CIP623 = Rule("CIP623", "live-selector-invalid", E,
              "A live pool's selector does not parse: Calico's pool selection fails for "
              "every pod without a pool annotation.",
              scope=Scope.LIVE,
              help=Help("Calico evaluates every enabled Automatic pool's nodeSelector and "
                        "namespaceSelector for a pod without a pool annotation; one that does "
                        "not parse fails the pool selection, so those pods get no address.",
                        "Fix or remove the selector (calicoctl patch ippool), or declare the "
                        "pool here with a valid one.",
                        calico=("libcalico-go/lib/ipam/ipam.go:324",
                                "libcalico-go/lib/ipam/ipam.go:336")))
CIP612 = Rule("CIP612", "calico-api-mismatch", W,
              "The stack's calicoApi is not the IPPool API the cluster serves: pulumi up would "
              "fail, or bypass Calico's validation.",
              scope=Scope.LIVE,
              help=Help("With projectcalico.org/v3 against a cluster without the Calico API "
                        "server pulumi up fails; with crd.projectcalico.org/v1 against one "
                        "that serves v3, writes bypass Calico's validation or fail. A warning "
                        "while that is possible; an error when the cluster was read and "
                        "refused projectcalico.org/v3, so pulumi up would certainly fail.",
                        "Set `calico-ipam:cluster.calicoApi` to the API the cluster serves (a "
                        "calico-ipam snapshot records it)."))


_OWNER_WORDS = {"tigera-operator": "the Tigera operator"}


def unmanaged_notes(stack: Stack, live: LiveState,
                    unmanaged: tuple[UnmanagedPool, ...]) -> list[Finding]:
    """CIP606/CIP607: the pools listed but never changed, with why they are not ours."""
    out = []
    for pool in unmanaged:
        note = CIP607 if pool.owner == OWNER_TIGERA_OPERATOR else CIP606
        owner = {**_OWNER_WORDS,
                 "calico-ipam": f"stack {pool.owner_stack or '(no stack label)'}"}.get(
                     pool.owner, "nobody known (no calico-ipam ownership label)")
        current = live.pools.get(pool.name)
        if current is not None and current.owner_reason and pool.owner != "calico-ipam":
            owner += f" ({current.owner_reason})"
        out.append(note.finding(
            f"live pool {pool.name} ({pool.cidr}) is managed by {owner}; stack {stack.name} "
            "lists it and never changes it", f"pool/{pool.name}", stack=stack.name))
    return out


def api_version_notes(stack: Stack, live: LiveState) -> list[Finding]:
    """CIP612: the stack's calicoApi is not the IPPool API the cluster serves.

    A warning (the rule's severity) when pulumi up may fail or would write
    around Calico's validation; an error only when it would certainly fail: the
    reader asked the cluster for projectcalico.org/v3 and was refused.
    """
    declared, served = stack.cluster.calico_api, live.calico_api
    if declared == served:
        return []
    where, subject = stack.cluster_location("calicoApi"), f"stack/{stack.name}"
    if declared == API_V3 and not live.calico_api_inferred:
        # The reader asked for projectcalico.org/v3 first and fell back to v1.
        message, severity = (
            f"stack {stack.name} applies IPPools as {API_V3}, but the cluster ({live.source}) "
            f"serves only {API_CRD_V1} (no Calico API server): pulumi up would fail with \"no "
            f"matches for kind IPPool in version {API_V3}\". Set calicoApi: {API_CRD_V1}, or "
            "install the Calico API server"), Severity.ERROR
    elif declared == API_V3:
        message, severity = (
            f"the pools in {live.source} are {served} objects while stack {stack.name} applies "
            f"{API_V3}: if the cluster has no Calico API server, pulumi up will fail with \"no "
            f"matches for kind IPPool in version {API_V3}\"; a `calico-ipam snapshot` of the "
            "cluster tells which API it serves"), None
    else:
        message, severity = (
            f"stack {stack.name} applies IPPools as {API_CRD_V1}, but {live.source} serves "
            f"{API_V3}: writes to {API_CRD_V1} bypass the Calico API server's validation and "
            f"defaulting, and clusters on native {API_V3} CRDs have no {API_CRD_V1} IPPools at "
            f"all. Set calicoApi: {API_V3}"), None
    return [CIP612.finding(message, subject, where, stack=stack.name,
                                   severity=severity)]


def live_overlap_notes(stack: Stack, live: LiveState) -> list[Finding]:
    """CIP205: declared pools overlapping live pools this stack does not declare;
    an error for a pool pulumi up creates (Calico refuses it), a warning for one
    it updates in place (Calico checks overlaps only on create)."""
    existing = frozenset(n for n, pool in stack.pools.items()
                         if n in live.pools and live.pools[n].spec.cidr == pool.spec.cidr)
    return live_overlap_findings(stack, live.pools, existing)


# A condition the pool's own spec explains is no news: disabled, being deleted.
_EXPLAINED = {"PoolDisabled": lambda p: p.spec.disabled, "Terminating": lambda p: p.deleting}


def not_allocatable_notes(stack: Stack, live: LiveState) -> list[Finding]:
    """CIP622: live pools whose status says Allocatable=False for a reason their
    spec does not explain (CIDROverlap): Calico assigns nothing from them."""
    out = []
    for name, pool in live.pools.items():
        if pool.not_allocatable is None:
            continue
        reason, message = pool.not_allocatable
        if _EXPLAINED.get(reason, lambda p: False)(pool):
            continue
        out.append(CIP622.finding(
            f"live pool {name} ({pool.spec.cidr}) has the status condition Allocatable=False "
            f"({reason or 'no reason'}: {message or 'no message'}), set by Calico's "
            "kube-controllers: Calico assigns no address from it, and pods whose annotation "
            f"names it fail with \"the given pool ({pool.spec.cidr}) does not exist, or is not "
            "enabled\"" + (". Overlapping pools: disable or migrate one of them"
                            if reason == "CIDROverlap" else ""),
            f"pool/{name}", _pool_or_pools(stack, name), stack=stack.name))
    return out


def selector_notes(stack: Stack, live: LiveState, after: After) -> list[Finding]:
    """CIP623: a pool that, once the plan is applied, is enabled, Automatic and
    has a node- or namespaceSelector Calico cannot parse: pool selection then
    fails for every pod without a pool annotation of its family
    (libcalico-go lib/ipam/ipam.go:318-347 in determinePools, pools.go:36-66)."""
    out = []
    for name, (spec, deleting) in sorted(after.items()):
        current = live.pools.get(name)
        if (spec.disabled or deleting or spec.assignment_mode != "Automatic"
                or (current is not None and current.not_allocatable is not None)):
            continue
        for field, text in (("nodeSelector", spec.node_selector),
                            ("namespaceSelector", spec.namespace_selector)):
            problem = _selector_problem(text)
            if problem is None:
                continue
            version = parse_cidr(spec.cidr).version
            out.append(CIP623.finding(
                f"live pool {name} ({spec.cidr}) has {field} {text!r}, which Calico cannot "
                f"parse ({problem}): Calico's pool selection fails on it for every pod without "
                f"a pool annotation that asks for an IPv{version} address, on every node. Fix "
                f"the selector or disable the pool (calicoctl patch ippool {name} --patch "
                "'{\"spec\": {\"disabled\": true}}')", f"pool/{name}",
                _pool_or_pools(stack, name), stack=stack.name))
            break
    return out


def _selector_problem(text: str) -> str | None:
    try:
        parse_selector(text)
    except SelectorError as exc:
        return str(exc)
    return None


def _pool_or_pools(stack: Stack, name: str):
    return stack.pool_location(name) if name in stack.pool_specs else stack.locate(
        "calico-ipam:pools")


def orphaned_block_notes(stack: Stack, live: LiveState, shown: int = 5) -> list[Finding]:
    """CIP610: IPAM blocks outside every live pool, what ``calicoctl ipam show
    --show-blocks`` lists as "orphaned allocation blocks" (libcalico-go
    lib/ipam/ipam.go:2405-2416 GetUtilization, which gathers them under
    0.0.0.0/0, so only the IPv4 ones; here both families count). Their pool
    was deleted (or its CIDR changed by a raw CRD write) while addresses were
    allocated: Calico never assigns from a block outside an enabled pool, but
    the pods holding its addresses keep them, without the pool's NAT and
    encapsulation."""
    orphans = live.orphaned_blocks
    if not orphans:
        return []
    allocated = sum(b.allocated for b in orphans)
    listed = ", ".join(f"{b.cidr} ({_holder(b)}, {plural(b.allocated, 'address', 'addresses')} "
                       "allocated)" for b in orphans[:shown])
    more = f" and {len(orphans) - shown} more" if len(orphans) > shown else ""
    return [CIP610.finding(
        f"{plural(len(orphans), 'IPAM block')} in {live.source} lie outside every IP pool, "
        f"with {plural(allocated, 'address', 'addresses')} still allocated: {listed}{more}. "
        "Calico assigns no new address from them; the pods holding one keep it without the "
        "deleted pool's NAT and encapsulation until they are restarted, then Calico's garbage "
        "collection releases the block. If the pool was deleted by mistake, declare it again "
        "with the same CIDR (calicoctl ipam show --show-blocks lists the IPv4 ones as "
        "orphaned allocation blocks)",
        f"stack/{stack.name}", stack.locate("calico-ipam:pools"), stack=stack.name)]


def _holder(block) -> str:
    return f"affine to {block.node}" if block.node else "no affinity"
