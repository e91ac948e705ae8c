"""Rules on the cluster's IPAMConfig as the stack declares it.

The stack's ``strictAffinity`` and ``maxBlocksPerHost`` describe the
cluster's IPAMConfig (calico-ipam reads it, never writes it). Calico's
``SetIPAMConfig`` refuses ``maxBlocksPerHost > 0`` unless ``strictAffinity``
is true, and the IPAM library rejects such a config on read when it was
written to the CRD directly (reference calico-ipam-allocation.md §2 step 3);
``calicoctl ipam configure`` cannot produce it. A stack declaring it plans
capacity for a cluster that cannot exist.
"""
from __future__ import annotations

from ..core.model import DEFAULT_MAX_BLOCKS_PER_HOST, Finding, Stack
from ..core.rules import E, Help, Rule, Scope
from .registry import CheckContext, check

CIP510 = Rule("CIP510", "ipam-config-invalid", E,
              "maxBlocksPerHost > 0 needs strictAffinity: true; Calico's SetIPAMConfig rejects it "
              "otherwise.",
              scope=Scope.STACK,
              help=Help("Calico's SetIPAMConfig refuses maxBlocksPerHost without strict "
                        "affinity (\"MaxBlocksPerHost requires StrictAffinity to be enabled\"): "
                        "the IPAM configuration cannot be applied.",
                        "Set `strictAffinity: true`, or `maxBlocksPerHost: 0` (Calico's default "
                        "of 20).",
                        calico=("libcalico-go/lib/ipam/ipam.go:2224",)))



def ipam_config_findings(stack: Stack) -> list[Finding]:
    cluster = stack.cluster
    if cluster.max_blocks_per_host > 0 and not cluster.strict_affinity:
        message = (
            f"maxBlocksPerHost {cluster.max_blocks_per_host} with strictAffinity false: Calico "
            f"only accepts a per-host block limit together with strict affinity "
            f"(SetIPAMConfig; `calicoctl ipam configure --max-blocks-per-host` refuses it), so "
            f"this IPAMConfig cannot exist in the cluster. Without strict affinity the limit is "
            f"Calico's default of {DEFAULT_MAX_BLOCKS_PER_HOST}: write maxBlocksPerHost: 0, or "
            f"set strictAffinity: true if nodes must never borrow addresses")
        return [CIP510.finding(message, f"stack/{stack.name}",
                                       stack.cluster_location("maxBlocksPerHost"),
                                       stack=stack.name)]
    return []


@check(CIP510)
def check_ipam_config(ctx: CheckContext) -> list[Finding]:
    return ipam_config_findings(ctx.stack)
