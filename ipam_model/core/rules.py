"""The rule catalogue: stable ids shared by the CLI, the policy pack and SARIF.

Ids never change meaning once released; a retired rule keeps its id
reserved. ``source`` says where the rule comes from: one of Calico's own
validation layers (so the user knows Calico would refuse it too) or
``calico-ipam`` for checks Calico does not make.
"""
from __future__ import annotations

from dataclasses import dataclass

from .model import Finding, Location, Severity


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    summary: str
    source: str = "calico-ipam"

    def finding(self, message: str, subject: str, location: Location = Location(), *,
                stack: str | None = None, severity: Severity | None = None,
                related: tuple[Location, ...] = ()) -> Finding:
        return Finding(rule=self.id, name=self.name, severity=severity or self.severity,
                       message=message, subject=subject, location=location, stack=stack,
                       related=tuple(related))


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
CALICO = "Calico (clientv3, validator, CRD CEL)"

_ALL = [
    # Stack files: reading and the JSON Schema.
    Rule("CIP001", "stack-file-unreadable", E, "The stack file cannot be read, is empty, too large or not YAML."),
    Rule("CIP002", "stack-schema", E, "A key or value does not match the stack-config schema (unknown key, wrong type)."),
    Rule("CIP003", "duplicate-key", E, "A YAML mapping repeats a key; the later value would silently win."),
    Rule("CIP004", "yaml-unsafe", E, "YAML tags that construct objects, or alias expansion beyond the safe limit."),
    # Calico's IPPool rules (reference calico-ippool-rules.md §2, R1-R19).
    Rule("CIP101", "cidr-required", E, "IPPool CIDR must be specified (R1).", CALICO),
    Rule("CIP102", "cidr-invalid", E, "IPPool CIDR must be a valid subnet, prefix within /32 or /128 (R1, R19).", CALICO),
    Rule("CIP103", "cidr-not-masked", E, "IPPool CIDR must be strictly masked: host bits zero (R2).", CALICO),
    Rule("CIP104", "block-size-range", E, "blockSize must be 20-32 for IPv4 and 116-128 for IPv6 (R3).", CALICO),
    Rule("CIP105", "pool-smaller-than-block", E, "An enabled pool must be at least as large as one block (R4).", CALICO),
    Rule("CIP106", "ipip-on-ipv6", E, "IPIP is not supported on IPv6 pools (R5).", CALICO),
    Rule("CIP107", "ipip-and-vxlan", E, "ipipMode and vxlanMode cannot both be enabled (R6).", CALICO),
    Rule("CIP108", "encapsulation-mode-invalid", E, "ipipMode/vxlanMode must be Never, Always or CrossSubnet, case-sensitive (R7).", CALICO),
    Rule("CIP109", "allowed-use-invalid", E, "allowedUses entries must be Workload, Tunnel or LoadBalancer (R8).", CALICO),
    Rule("CIP110", "loadbalancer-exclusive", E, "LoadBalancer cannot be combined with Workload or Tunnel (R9).", CALICO),
    Rule("CIP111", "loadbalancer-encapsulation", E, "A LoadBalancer pool cannot have IPIP or VXLAN enabled (R10).", CALICO),
    Rule("CIP112", "loadbalancer-bgp-export", E, "A LoadBalancer pool cannot disable BGP export (R11).", CALICO),
    Rule("CIP113", "loadbalancer-node-selector", E, "A LoadBalancer pool must have nodeSelector exactly all() (R12).", CALICO),
    Rule("CIP114", "tunnel-namespace-selector", E, "A pool allowing Tunnel cannot have a namespaceSelector (R13).", CALICO),
    Rule("CIP115", "global-selector", E, "nodeSelector/namespaceSelector must not use global() (R14).", CALICO),
    Rule("CIP116", "selector-syntax", E, "nodeSelector/namespaceSelector must be a valid Calico selector, at most 1024 characters (R15).", CALICO),
    Rule("CIP117", "link-local-overlap", E, "A pool must not overlap 169.254.0.0/16 or fe80::/10 (R16).", CALICO),
    Rule("CIP118", "deprecated-field", E, "Deprecated ipip/nat-outgoing fields must be unset (R17).", CALICO),
    Rule("CIP119", "pool-name-invalid", E, "Pool names are DNS-1123 subdomains: lower case, digits, '-' and '.', at most 253 (R18).", CALICO),
    Rule("CIP120", "metadata-invalid", E, "Labels and annotations must be valid Kubernetes keys and values, annotations at most 256 KiB (R18).", CALICO),
    Rule("CIP121", "assignment-mode-invalid", E, "assignmentMode must be Automatic or Manual.", CALICO),
    Rule("CIP122", "namespace-selector-default-uses", W, "A namespaceSelector with defaulted allowedUses [Workload, Tunnel] trips R13: set allowedUses: [Workload]."),
    # Overlaps.
    Rule("CIP201", "pool-overlap", E, "Two pools of one stack overlap (disabled pools included)."),
    Rule("CIP202", "routing-domain-overlap", E, "Pools of two stacks in the same routing domain overlap."),
    Rule("CIP203", "service-cidr-overlap", E, "A pool overlaps the cluster's service CIDRs."),
    Rule("CIP204", "node-cidr-overlap", E, "A pool overlaps the cluster's node CIDRs."),
    Rule("CIP205", "live-pool-overlap", E, "A declared pool overlaps a live pool this stack does not declare."),
    Rule("CIP206", "cluster-cidr-invalid", E, "A service or node CIDR is not a valid, strictly masked network."),
    # Address space.
    Rule("CIP301", "public-address-space", W, "The pool is outside private space (RFC 1918, RFC 6598, ULA fd00::/8)."),
    Rule("CIP302", "loopback-overlap", W, "The pool overlaps loopback (127.0.0.0/8, ::1/128)."),
    Rule("CIP303", "multicast-overlap", W, "The pool overlaps multicast (224.0.0.0/4, ff00::/8)."),
    Rule("CIP304", "reserved-address-space", W, "The pool overlaps reserved space (0.0.0.0/8, 240.0.0.0/4, broadcast)."),
    # Namespace bindings.
    Rule("CIP401", "namespace-name-invalid", E, "Namespace names are DNS-1123 labels."),
    Rule("CIP402", "binding-unknown-pool", E, "A binding names a pool (or CIDR) the stack does not declare."),
    Rule("CIP403", "binding-family-mismatch", E, "A pool bound under ipv4Pools is IPv6 or the reverse."),
    Rule("CIP404", "binding-disabled-pool", E, "A bound pool is disabled: pods of the namespace fail to start."),
    Rule("CIP405", "binding-use-not-workload", E, "A bound pool does not allow Workload."),
    Rule("CIP406", "binding-loadbalancer-pool", E, "A bound pool is a LoadBalancer pool."),
    Rule("CIP407", "binding-cidr-not-exact", E, "A CIDR in a binding must equal a pool's CIDR exactly (subsets are not supported)."),
    Rule("CIP408", "binding-selector-ignored", W, "A bound pool has a nodeSelector/namespaceSelector: Calico ignores both for annotated requests (calico#10502)."),
    Rule("CIP409", "binding-manual-pool", I, "A bound pool is Manual: only annotated requests use it, as intended here."),
    Rule("CIP410", "binding-duplicate-pool", W, "A binding lists the same pool twice."),
    Rule("CIP411", "binding-automatic", I, "A namespace entry names no pool: Calico picks pools by selectors; its expectedPods count against them."),
    Rule("CIP412", "labels-invalid", E, "Namespace or node-group labels are not valid Kubernetes labels."),
    # Capacity.
    Rule("CIP501", "pool-capacity", I, "Per pool: addresses, blocks and block size."),
    Rule("CIP502", "blocks-fewer-than-nodes", W, "Fewer blocks than nodes that may use the pool: late nodes borrow (or fail under strict affinity)."),
    Rule("CIP503", "addresses-insufficient", E, "Expected pods exceed the addresses of the pools that serve them."),
    Rule("CIP504", "headroom-low", W, "Expected pods fit, but with less headroom than configured."),
    Rule("CIP505", "per-host-block-limit", E, "maxPods per node needs more blocks than maxBlocksPerHost allows."),
    Rule("CIP506", "pool-selects-no-nodes", W, "An Automatic pool's nodeSelector matches no declared node group."),
    Rule("CIP507", "block-size-recommendation", I, "The block size causes borrowing, refusals, block-limit overruns or large stranded waste, and a size that fixes it exists."),
    Rule("CIP508", "pool-exhaustion", W, "The simulator predicts allocations failing before the declared load is met."),
    Rule("CIP509", "predicted-borrowing", W, "The simulator predicts nodes borrowing addresses from other nodes' blocks."),
    Rule("CIP510", "ipam-config-invalid", E, "maxBlocksPerHost > 0 needs strictAffinity: true; Calico's SetIPAMConfig rejects it otherwise."),
    # Live state and plan safety.
    Rule("CIP601", "immutable-field-change", E, "cidr or blockSize would change: Calico forbids it; a migration is required."),
    Rule("CIP602", "disruptive-delete", E, "Deleting or replacing a pool with allocated addresses."),
    Rule("CIP603", "disable-bound-pool", E, "Disabling or deleting a pool that a namespace binding still names."),
    Rule("CIP604", "namespace-without-pool", E, "A binding change leaves a namespace with no usable pool."),
    Rule("CIP605", "namespace-missing", E, "A bound namespace does not exist in the cluster."),
    Rule("CIP606", "unowned-pool", I, "A live pool this stack does not own is listed, never modified."),
    Rule("CIP607", "operator-managed-pool", I, "A pool managed by the Tigera operator is never modified."),
    Rule("CIP608", "binding-change-existing-pods", I, "A binding change affects new pods only; existing pods keep their addresses until restarted."),
    Rule("CIP609", "annotation-invalid", E, "A live pool annotation is not a JSON list of strings, or names a missing pool."),
    Rule("CIP610", "blocks-outside-pools", W, "Live IPAM blocks lie outside every pool (orphaned allocations)."),
    Rule("CIP611", "drift", W, "The live cluster differs from what calico-ipam last applied (changed outside calico-ipam)."),
    Rule("CIP612", "calico-api-mismatch", E, "The stack's calicoApi is not the IPPool API the cluster serves: pulumi up would fail, or bypass Calico's validation."),
]

RULES: dict[str, Rule] = {r.id: r for r in _ALL}
BY_NAME: dict[str, Rule] = {r.name: r for r in _ALL}
assert len(RULES) == len(_ALL) and len(BY_NAME) == len(_ALL), "rule ids and names are unique"


def rule(key: str) -> Rule:
    """Look a rule up by id (``CIP201``) or name (``pool-overlap``)."""
    return RULES.get(key) or BY_NAME[key]
