"""views.forecast: what the forecast says about one pool (the HTML page's
outlook, the check table's "runs out after")."""
from __future__ import annotations

from ipam_model.declared.build import stack_from_config
from ipam_model.declared.files import load_stack
from ipam_model.rules.forecast import forecast
from ipam_model.views.forecast import pool_exhaustion, pool_outlook


def test_the_outlook_names_when_the_pool_runs_out_and_for_whom():
    result = forecast(load_stack("stacks/Pulumi.dev.yaml", "dev"))
    lines = pool_outlook(result, "external-pool")
    assert lines[0] == ("172.16.0.0/26 with /29 blocks: 3 of 8 claimed; 9 needed by 3 nodes at "
                        "21 addresses each")
    assert "runs out: external-ns: 58 more pods before one fails" in lines
    # the node group's first failure names this pool's CIDR, not internal-pool's
    assert any(line.startswith("runs out: node group workers: 41 more nodes") for line in lines)
    assert not any("node group" in line for line in pool_outlook(result, "internal-pool"))
    assert pool_outlook(result, "no-such-pool") == []


def test_namespaces_that_fill_their_nodes_first_share_one_line():
    result = forecast(load_stack("stacks/Pulumi.prod.yaml", "prod"), node_groups=False)
    lines = pool_outlook(result, "prod-default-v4")
    assert ("runs out: batch, monitoring, web: not before the nodes reach maxPods (1,988 more "
            "pods fit)") in lines
    assert pool_exhaustion(result, "prod-default-v4") == "not before nodes are full"
    assert pool_exhaustion(result, "prod-payments-v4") == "904 more payments pods"
    assert pool_exhaustion(result, "prod-lb") == ""


def test_block_size_advice_and_borrowing_are_part_of_the_outlook():
    from forecast_helpers import make_stack

    result = forecast(make_stack(nodes=5, expected=50, max_pods=10))
    lines = pool_outlook(result, "pool-a")
    assert "4 addresses borrowed across nodes" in lines
    assert ("block size: now blockSize 29 makes the declared load need 10 blocks of the 8 there "
            "are (4 borrowed addresses); blockSize 31 gives 32 blocks of 2 addresses for 5 "
            "nodes") in lines[-1]


def test_a_stack_without_nodes_has_no_outlook():
    stack = stack_from_config("bare", {"pools": {"a": {"cidr": "10.1.0.0/24"}}})
    assert pool_outlook(forecast(stack), "a") == []
