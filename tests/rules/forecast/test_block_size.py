"""Block-size advice (CIP507): stranded space, and a size only when it fixes a problem."""
from pathlib import Path

from forecast_helpers import make_stack, rules_of

from ipam_model.core.model import (
    ClusterSettings,
    NodeGroup,
    Pool,
    PoolSpec,
    Stack,
    frozen_map,
)
from ipam_model.rules.forecast import forecast, forecast_findings
from ipam_model.rules.forecast.block_size import recommend_block_size

DATA = Path(__file__).resolve().parents[2] / "data"


def test_recommended_block_size_reduces_stranded_space():
    pool = Pool("p", PoolSpec("10.0.0.0/16", 26))
    assert recommend_block_size(pool, [(100, 110)], max_blocks_per_host=20,
                                strict_affinity=False) == (28, 18, 2)


def test_no_recommendation_when_current_is_best():
    pool = Pool("p", PoolSpec("10.0.0.0/16", 28))
    assert recommend_block_size(pool, [(100, 110)], max_blocks_per_host=20,
                                strict_affinity=False)[0] is None


def test_recommendation_keeps_a_block_per_node_and_half_the_host_limit():
    pool = Pool("p", PoolSpec("10.0.0.0/24", 26))
    # /26 gives 4 blocks for 10 nodes (no "now"); /28 is the first with a block per
    # node; /29 and /30 strand the same 2 addresses with more blocks; /31 needs 15
    # blocks a node, more than half of the limit of 20.
    assert recommend_block_size(pool, [(10, 30)], max_blocks_per_host=20,
                                strict_affinity=False) == (28, None, 2)
    # Under strict affinity nothing fits: 10 nodes x 30 addresses > 256.
    assert recommend_block_size(pool, [(10, 30)], max_blocks_per_host=20,
                                strict_affinity=True) == (None, None, None)


def test_no_block_size_advice_without_a_concrete_problem():
    # /16 with /26 blocks, 100 nodes at maxPods 110: a /28 would strand less, but every
    # node has its blocks and nothing borrows, fails or runs short: no migration advice.
    pool = Pool("wide", PoolSpec("10.0.0.0/16", 26))
    stack = Stack(name="t", file=None,
                  cluster=ClusterSettings(node_groups=(NodeGroup("w", 100),)),
                  pool_specs=frozen_map(), pool_metadata=frozen_map(),
                  pools=frozen_map({"wide": pool}), bindings=frozen_map())
    assert not rules_of(forecast_findings(stack), "CIP507")
    assert forecast(stack).pools[0].recommended_block_size is None


def test_block_size_advice_when_the_declared_load_borrows_and_a_size_fixes_it():
    # 5 nodes x 10 pods in 8 /29 blocks: 2 nodes borrow. /31 blocks (32 of 2) hold
    # 5 blocks a node for 25 blocks in all: nothing borrows, nothing is stranded.
    stack = make_stack(nodes=5, expected=50, max_pods=10)
    (finding,) = rules_of(forecast_findings(stack), "CIP507")
    assert finding.message == (
        "pool pool-a (172.16.0.0/26): now blockSize 29 makes the declared load need 10 "
        "blocks of the 8 there are (4 borrowed addresses). Instead, blockSize 31 gives 32 "
        "blocks of 2 addresses for 5 nodes; the declared load would claim 25 of them and "
        "strand 0 addresses; a node at 10 addresses takes 5 blocks of maxBlocksPerHost 20. "
        "blockSize is immutable, so this means a new pool and a migration. Forecast with the "
        "IPAMConfig declared in calico-ipam:ipamConfig: strictAffinity false, "
        "autoAllocateBlocks true, maxBlocksPerHost 0 (Calico's default of 20)")
    assert " 1 addresses" not in finding.message


def test_no_block_size_advice_when_no_size_fixes_the_problem():
    # 5 nodes x 110 pods cannot fit in 64 addresses at any block size: a capacity
    # problem (CIP503/CIP508), not a block-size one.
    stack = make_stack(nodes=5, expected=300)
    assert not rules_of(forecast_findings(stack), "CIP507")


def test_bundled_stacks_get_no_block_size_advice():
    from ipam_model.declared.files import load_stacks
    stacks = load_stacks(DATA / "forecast_stacks")
    assert {s.name for s in stacks} == {"dev", "staging", "prod"}
    for stack in stacks:
        assert not rules_of(forecast_findings(stack), "CIP507"), stack.name
