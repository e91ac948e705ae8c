"""plan/gates.py: CIP621, a pool created over IPAM blocks of another block size."""
from __future__ import annotations

import pytest
from plan_helpers import live_pool, stack

from ipam_model.core.cidr import parse_cidr
from ipam_model.core.live_state import LiveBlock
from ipam_model.core.model import API_CRD_V1, frozen_map
from ipam_model.live.normalise import build_live_state
from ipam_model.plan.build import build_plan
from ipam_model.plan.migrations import taken_cidrs
from ipam_model.views.plan.migration import migration_text


def block(cidr, allocated=1, node="host-test", by_namespace=None):
    parsed = parse_cidr(cidr)
    return LiveBlock(cidr=parsed.text, affinity=f"host:{node}" if node else None,
                     size=parsed.size, allocated=allocated,
                     by_namespace=frozen_map(by_namespace or ({"web": allocated}
                                                              if allocated else {})),
                     parsed=parsed)


def live_with(blocks, pools=()):
    return build_live_state("test snapshot", "projectcalico.org/v3", pools, [], [], blocks, [])


def gates_of(plan, rule="CIP621"):
    return [g for g in plan.gates if g.finding.rule == rule]


# libcalico-go lib/clientv3/ippool_e2e_test.go:1059-1134 ("should prevent the
# creation of a pool that covers existing blocks with a different blockSize"):
# pool 1.2.3.0/26 (blockSize 26) had one address allocated, then was deleted;
# its block 1.2.3.0/26 stays. Re-creating it with blockSize 28 fails, with 26
# it succeeds, 1.2.2.0/23 with blockSize 28 fails. :1136-1175: a pool of
# another CIDR and block size next to it is fine.
@pytest.mark.parametrize("cidr,block_size,refused", [
    ("1.2.3.0/26", 28, True),
    ("1.2.3.0/26", 26, False),
    ("1.2.2.0/23", 28, True),
    ("1.2.4.0/24", 29, False),
])
def test_calicos_e2e_cases(cidr, block_size, refused):
    s = stack({"ippool1": {"cidr": cidr, "blockSize": block_size}})
    plan = build_plan(s, live_with([block("1.2.3.0/26")]))
    found = gates_of(plan)
    assert bool(found) is refused
    if refused:
        finding = found[0].finding
        assert finding.is_error and finding.location.path[-1] == "blockSize"
        assert ("1.2.3.0/26 (in no live pool, affine to host-test, 1 address allocated)"
                in finding.message)
        assert ('Calico refuses to create it: "IPPool blocksSize conflicts with existing '
                'allocations that use a different blockSize"') in finding.message


def test_allow_disruption_cannot_lift_calicos_own_refusal():
    s = stack({"ippool1": {"cidr": "1.2.3.0/26", "blockSize": 28}})
    plan = build_plan(s, live_with([block("1.2.3.0/26")]), allow_disruption={"ippool1"})
    assert gates_of(plan)[0].finding.is_error and not gates_of(plan)[0].allowed
    text = migration_text(gates_of(plan)[0].migration)
    assert "Restart the pods that hold addresses" in text and "1 in web" in text
    assert "declare ippool1 with blockSize 26" in text


def test_crd_v1_stacks_are_told_about_the_corruption_instead():
    s = stack({"ippool1": {"cidr": "1.2.3.0/26", "blockSize": 28}}, calicoApi=API_CRD_V1)
    live = build_live_state("s", API_CRD_V1, [], [], [], [block("1.2.3.0/26")], [])
    message = gates_of(build_plan(s, live))[0].finding.message
    assert "nothing checks this" in message and "blocks of two sizes" in message


def test_replacement_of_an_empty_pool_through_v3_is_not_refused():
    """clientv3's Delete releases the pool's empty blocks (ippool.go:162-225,
    ipam.go:1725 ReleasePoolAffinities): the re-create finds none. Blocks that
    still hold addresses survive the delete and refuse it."""
    s = stack({"web": {"cidr": "10.10.0.0/24", "blockSize": 28}})
    old = live_pool("web", {"cidr": "10.10.0.0/24", "blockSize": 26})
    empty = live_with([block("10.10.0.0/26", allocated=0)], [old])
    assert not gates_of(build_plan(s, empty))
    busy = live_with([block("10.10.0.0/26", allocated=3)], [old])
    plan = build_plan(s, busy, allow_disruption={"web"})
    assert [g.allowed for g in plan.gates if g.finding.rule == "CIP601"] == [True]
    assert gates_of(plan) and gates_of(plan)[0].finding.is_error
    # Through crd.projectcalico.org/v1 a delete releases nothing: empty blocks stay.
    v1 = stack({"web": {"cidr": "10.10.0.0/24", "blockSize": 28}}, calicoApi=API_CRD_V1)
    v1_live = build_live_state("s", API_CRD_V1, [old], [], [],
                               [block("10.10.0.0/26", allocated=0)], [])
    assert gates_of(build_plan(v1, v1_live))


def test_blocks_of_the_other_family_and_updates_do_not_count():
    s = stack({"web": {"cidr": "10.10.0.0/24", "blockSize": 28},
               "v6": {"cidr": "fd00::/120", "blockSize": 124}})
    live = live_with([block("fd00::/122"), block("10.10.0.0/26")],
                     [live_pool("web", {"cidr": "10.10.0.0/24", "blockSize": 28})])
    # web exists (an update: Calico checks block sizes only on create); the v6
    # block is inside v6's CIDR with another size: refused.
    assert [g.finding.subject for g in gates_of(build_plan(s, live))] == ["pool/v6"]


def test_the_migration_temporary_pool_avoids_orphaned_blocks():
    """A replacement's temporary pool must not land on blocks a deleted pool
    left behind (CIP621 would refuse it, or it would adopt their addresses)."""
    s = stack({"web": {"cidr": "10.10.0.0/24", "blockSize": 28}})
    old = live_pool("web", {"cidr": "10.10.0.0/24", "blockSize": 26})
    orphan = block("10.0.0.0/26")
    live = live_with([block("10.10.0.0/26", allocated=3), orphan], [old])
    assert "10.0.0.0/26" in taken_cidrs(s, live)
    plan = build_plan(s, live)
    migration = [g for g in plan.gates if g.finding.rule == "CIP601"][0].migration
    temp = parse_cidr(migration.temporary_cidr)
    assert not temp.contains(parse_cidr("10.0.0.0/26")) and temp.text != "10.0.0.0/24"
