"""The declared load and its fork: more pods on a copy leave the original as it was."""
from forecast_helpers import make_stack

from ipam_model.rules.forecast.load import Budget, Load, Placement, first_failure


def snapshot(load):
    return (load.room(), load.cursor, load.serial, load.allocations, dict(load.pods_on),
            list(load.nodes), list(load.tunnel_failures), load.sim.blocks(), load.sim.pods(),
            load.sim.tunnels())


def test_a_forked_load_takes_more_pods_and_nodes_without_touching_the_original():
    stack = make_stack(nodes=4, expected=20, ipip="Always", strict=True)
    load = Load(stack)
    before = snapshot(load)
    fork = load.fork()
    group = stack.cluster.node_groups[0]
    on_fork = [fork.place("app") for _ in range(50)]
    fork.start_node("w-4", group)
    assert snapshot(load) == before and "w-4" not in load.labels
    assert any(first_failure(r) for r in on_fork)  # the pool ran out on the fork
    fresh = Load(stack)
    assert [fresh.place("app") for _ in range(50)] == on_fork
    fresh.start_node("w-4", group)
    assert snapshot(fork) == snapshot(fresh)
    again = Load(stack)
    assert [load.place("app") for _ in range(3)] == [again.place("app") for _ in range(3)]


def test_placement_orders_extra_pods_as_place_does():
    stack = make_stack(nodes=3, expected=4, max_pods=3)
    load = Load(stack)
    placement = Placement(load)
    assert placement.total == load.room() == 5
    order = sorted((placement.index(r, p), placement.names[p])
                   for p, room in enumerate(placement.rooms) for r in range(1, room + 1))
    placed = [load.place("app")[0].node for _ in range(load.room())]
    assert [name for _, name in order] == placed


def test_budget_pays_for_a_copy_only_when_a_step_can_follow():
    budget = Budget(10)
    assert not budget.spend_on_copy(8, 3) and budget.left == 10
    assert budget.spend_on_copy(8, 2) and budget.left == 2
    assert not budget.spend(3) and budget.spend(2) and budget.left == 0


def test_a_dual_stack_pod_whose_ipv4_fails_holds_no_ipv6_as_in_simulate():
    """The forecast runs each pod as simulate does (the CNI ADD of
    calico/ipam/cni.py): when the IPv4 pool is exhausted the pod's IPv6 address
    is released (cni-plugin pkg/ipamplugin/ipam_plugin.go:412-450), so the
    IPv6 pool is not used up by pods that never started."""
    from dataclasses import replace

    from ipam_model.core.model import Pool, PoolSpec

    base = make_stack(cidr="10.0.0.0/30", bs=30, nodes=1, expected=6)
    v6 = Pool("v6", PoolSpec("fd00::/120", 122))
    stack = replace(base, pools={**base.pools, "v6": v6})
    load = Load(stack)
    results = load.results["app"]
    assert [len(r) for r in results] == [2, 2, 2, 2, 1, 1]
    assert all(first_failure(r) for r in results[4:])
    [v6_block] = [b for b in load.sim.blocks() if ":" in b.cidr]
    assert v6_block.allocated == 4
