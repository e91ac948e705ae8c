"""Rules on the IPAMConfig a stack declares (``calico-ipam:ipamConfig``).

What Calico refuses always is an error: a value outside the
IPAMConfiguration CRD's bounds (maxBlocksPerHost above 1,000,000,
ipCooldownSeconds above 1200, api/config/crd/projectcalico.org_ipamconfigurations.yaml:60-103),
and strictAffinity and autoAllocateBlocks both false, which ``SetIPAMConfig``
refuses (libcalico-go/lib/ipam/ipam.go:2220-2222) and which would leave
nodes no way to get an address beyond the blocks they already hold.

``maxBlocksPerHost > 0`` with ``strictAffinity: false`` (CIP510) is only a
warning. Calico's own documentation shows exactly that config
(https://docs.tigera.io/calico/latest/reference/resources/ipamconfig, sample
YAML: strictAffinity false, maxBlocksPerHost 4), and the resource path
accepts it: clientv3 validates only the name ``default``
(libcalico-go/lib/clientv3/ipamconfig.go:45-52), the validator only that the
limit is not negative (lib/validator/v3/validator.go:1127-1134), and
``GetIPAMConfig`` reads it as stored (ipam.go:2166-2205). Only
``SetIPAMConfig`` (``calicoctl ipam configure``) refuses it, "MaxBlocksPerHost
requires StrictAffinity to be enabled" (ipam.go:2224-2229). Either way the
allocator enforces the limit before it would borrow: a node that owns the
limit's number of blocks may not claim another (ipam.go:777-779), the claim
fails with ``ErrBlockLimit`` (ipam.go:565-567, 73) and ``autoAssign`` returns
it at once (ipam.go:791-796), never reaching the borrowing loop
(ipam.go:876).
"""
from __future__ import annotations

from ..calico.ipam.messages import MSG_BLOCK_LIMIT
from ..calico.ipam_config import range_problems
from ..core.ipam_config import DEFAULT_MAX_BLOCKS_PER_HOST
from ..core.model import Finding, Stack
from ..core.rules import CALICO, E, Help, Rule, Scope, W
from .registry import CheckContext, check

CIP510 = Rule("CIP510", "block-limit-without-strict-affinity", W,
              "maxBlocksPerHost > 0 with strictAffinity false: Calico applies it, but the limit "
              "stops new blocks without any borrowing, and calicoctl ipam configure refuses it.",
              scope=Scope.STACK,
              help=Help("Calico applies this IPAMConfig, but the block limit takes effect before any "
                        "borrowing: a node that holds maxBlocksPerHost blocks gets no new block and its "
                        "next pod fails with ErrBlockLimit instead of borrowing an address; calicoctl "
                        "ipam configure refuses the same config.",
                        "Set `strictAffinity: true` with the limit (what calicoctl requires), or "
                        "`maxBlocksPerHost: 0` for no limit.",
                        calico=("libcalico-go/lib/ipam/ipam.go:2224",
                                "libcalico-go/lib/ipam/ipam.go:777",)))
CIP511 = Rule("CIP511", "ipam-config-out-of-range", E,
              "An IPAMConfig value is outside what Calico's IPAMConfiguration CRD accepts.",
              CALICO, scope=Scope.STACK,
              help=Help("The Kubernetes API server refuses an IPAMConfiguration outside the CRD's "
                        "bounds, so pulumi up fails on it and the cluster keeps its old IPAM settings.",
                        "Keep `maxBlocksPerHost` between 0 and 1,000,000 and `ipCooldownSeconds` "
                        "between 0 and 1200 in `calico-ipam:ipamConfig`.",
                        calico=("api/pkg/apis/projectcalico/v3/ipamconfig.go:73",
                                "api/pkg/apis/projectcalico/v3/ipamconfig.go:99",)))
CIP512 = Rule("CIP512", "ipam-config-no-allocation", E,
              "strictAffinity and autoAllocateBlocks are both false; Calico's SetIPAMConfig "
              "refuses it.",
              CALICO, scope=Scope.STACK,
              help=Help("With both off, no node could claim a block or borrow an address beyond what it "
                        "already holds; Calico's SetIPAMConfig refuses the combination.",
                        "Set `strictAffinity: true` or `autoAllocateBlocks: true` (Calico's default) in "
                        "`calico-ipam:ipamConfig`.",
                        calico=("libcalico-go/lib/ipam/ipam.go:2220",)))

SUBJECT = "ipamconfig/default"


def ipam_config_findings(stack: Stack) -> list[Finding]:
    """CIP510-CIP512 for the declared IPAMConfig (none when the stack declares none)."""
    config = stack.ipam_config
    if config is None:
        return []
    out = [CIP511.finding(f"IPAMConfig {problem}", SUBJECT, stack.ipam_config_location(name),
                          stack=stack.name)
           for name, problem in range_problems(config)]
    if not config.strict_affinity and not config.auto_allocate_blocks:
        out.append(CIP512.finding(
            "IPAMConfig strictAffinity false with autoAllocateBlocks false: Calico refuses it "
            "(\"Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time\", "
            "SetIPAMConfig), and nodes could never claim a block. Set autoAllocateBlocks: true "
            "(Calico's default)", SUBJECT, stack.ipam_config_location("autoAllocateBlocks"),
            stack=stack.name))
    if config.max_blocks_per_host > 0 and not config.strict_affinity:
        out.append(_block_limit_warning(stack))
    return out


def _block_limit_warning(stack: Stack) -> Finding:
    limit = stack.ipam_config.max_blocks_per_host
    return CIP510.finding(
        f"maxBlocksPerHost {limit} with strictAffinity false: Calico accepts this IPAMConfig "
        f"when it is applied as a resource (its own documentation's example is "
        f"strictAffinity false, maxBlocksPerHost 4), and only `calicoctl ipam configure` "
        f"refuses it (SetIPAMConfig: \"MaxBlocksPerHost requires StrictAffinity to be "
        f"enabled\"). Either way the limit comes before borrowing: a node holding {limit} "
        f"block{'s' if limit != 1 else ''} gets no new block, and its next pod fails with "
        f"\"{MSG_BLOCK_LIMIT}\" instead of borrowing an address from another node's block. "
        f"Set strictAffinity: true to say so, or maxBlocksPerHost: 0 for Calico's default of "
        f"{DEFAULT_MAX_BLOCKS_PER_HOST}", SUBJECT, stack.ipam_config_location("maxBlocksPerHost"),
        stack=stack.name)


@check(CIP510, CIP511, CIP512)
def check_ipam_config(ctx: CheckContext) -> list[Finding]:
    return ipam_config_findings(ctx.stack)
