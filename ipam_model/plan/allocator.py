"""What Calico's allocator will read once a plan is applied: the IPAMConfig and
the reserved CIDRs that ``check``'s forecast and ``simulate`` then assume.

The IPAMConfig is the declared one when the stack declares it (``pulumi up``
applies it), else the cluster's, which calico-ipam leaves as it is (Calico's
defaults when the cluster has none, ipam.go ``GetIPAMConfig``). The
reservations are the declared ones plus every live IPReservation the plan
leaves in place (not declared here, or forgotten with ``retainOnDelete``):
Calico honours every IPReservation in the cluster
(libcalico-go lib/ipam/ipam.go:2607-2632).
"""
from __future__ import annotations

from ..calico.ipreservation import networks_of
from ..core.ipreservation import ReservedCidr
from ..core.live_state import LiveState
from ..core.model import (
    ORIGIN_DECLARED,
    ORIGIN_DEFAULT,
    ORIGIN_LIVE,
    AllocatorSettings,
    Stack,
)
from .compare import owned


def allocator_after(stack: Stack, live: LiveState) -> AllocatorSettings:
    if stack.ipam_config is not None:
        config, origin = stack.ipam_config, ORIGIN_DECLARED
    else:
        config = live.ipam_config
        origin = ORIGIN_LIVE if live.ipam_config_object is not None else ORIGIN_DEFAULT
    reserved = list(stack.allocator.reserved)
    for name, current in sorted(live.reservations.items()):
        if name in stack.reservation_specs:
            continue  # the declared one is what pulumi up leaves
        if owned(current, stack) and not stack.cluster.retain_on_delete:
            continue  # this plan deletes it
        reserved += [ReservedCidr(c, name) for c in networks_of(current.spec)]
    return AllocatorSettings(config, origin, live.source, tuple(reserved))
