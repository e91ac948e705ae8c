"""views.utilisation: a pool's used / stranded / reserved / free addresses, and
the markdown table of them.

The oracle walks every address of a small pool: in a block and allocated
(used), in a block and reserved (reserved: Calico never hands it out, so an
unallocated reserved address is taken first), in a block otherwise
(stranded), outside every block (reserved or free). Allocated ordinals are
placed after the reserved ones in a block where they fit, which is how the
counts-only model reads a block (libcalico-go ipam_block.go NumFreeAddresses
/ NumReservedAddresses, ipam.go GetUtilization :2381-2476).
"""
from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ipam_model.core.cidr import cidr_text, parse_cidr
from ipam_model.declared.build import stack_from_config
from ipam_model.rules.forecast import forecast
from ipam_model.rules.forecast.model import PoolForecast
from ipam_model.views.utilisation import (
    TABLE_ROWS,
    BlockCount,
    PoolRow,
    Utilisation,
    bar_text,
    forecast_rows,
    markdown_table,
    utilisation_of_blocks,
    utilisation_of_forecast,
)

POOL = parse_cidr("10.0.0.0/24")


def oracle(block_size: int, blocks: dict[int, int], reserved: list) -> tuple[int, int, int, int]:
    size = 1 << (32 - block_size)
    res = {a for r in reserved for a in range(r.first, r.last + 1)
           if POOL.first <= a <= POOL.last}
    used = stranded = held = 0
    in_blocks = set()
    for slot, allocated in blocks.items():
        first = POOL.first + slot * size
        addresses = range(first, first + size)
        in_blocks.update(addresses)
        reserved_here = [a for a in addresses if a in res]
        free_here = size - allocated
        held_here = min(free_here, len(reserved_here))
        used += allocated
        held += held_here
        stranded += free_here - held_here
    outside_reserved = len(res - in_blocks)
    reserved_total = outside_reserved + held
    return used, stranded, reserved_total, POOL.size - used - stranded - reserved_total


@settings(max_examples=80, deadline=None)
@given(block_size=st.integers(24, 30), data=st.data())
def test_the_four_shares_match_an_address_by_address_count(block_size, data):
    slots = 1 << (block_size - 24)
    size = 1 << (32 - block_size)
    blocks = data.draw(st.dictionaries(st.integers(0, slots - 1), st.integers(0, size)))
    reserved = [parse_cidr(cidr_text(_aligned(data.draw(st.integers(0, 255)), p), p, 4))
                for p in data.draw(st.lists(st.integers(22, 32), max_size=4))]
    counts = [BlockCount(POOL.first + s * size, size, n) for s, n in blocks.items()]
    u = utilisation_of_blocks(POOL, block_size, counts, reserved)
    assert (u.used, u.stranded, u.reserved, u.free) == oracle(block_size, blocks, reserved)
    assert u.used + u.stranded + u.reserved + u.free == u.capacity == 256
    assert u.blocks_claimed == len(blocks) and u.blocks_total == slots


def _aligned(offset: int, prefix: int) -> int:
    """An address near the pool (a reservation may start before it) aligned to *prefix*."""
    address = POOL.first - 256 + offset * 2
    return address & ~((1 << (32 - prefix)) - 1)


def test_percent_never_rounds_a_share_away():
    u = Utilisation(capacity=10 ** 6, used=3, stranded=0, reserved=0, blocks_claimed=1,
                    blocks_total=10)
    assert u.percent(3) == "<1%" and u.percent(0) == "0%" and u.percent(500_000) == "50%"


def test_bar_text_keeps_every_share_visible_and_its_width():
    u = Utilisation(capacity=1000, used=1, stranded=300, reserved=2, blocks_claimed=1,
                    blocks_total=4)
    assert bar_text(u) == "█▒▒▒▚░░░░░"
    full = Utilisation(capacity=8, used=8, stranded=0, reserved=0, blocks_claimed=1,
                       blocks_total=1)
    assert bar_text(full) == "█" * 10
    assert len(bar_text(Utilisation(0, 0, 0, 0, 0, 0))) == 10


def test_the_forecast_gives_the_declared_loads_shares():
    p = PoolForecast(pool="a", cidr="10.0.0.0/26", block_size=29, block_addresses=8,
                     blocks_total=8, blocks_claimed=3, nodes_using=3, demand_per_node=2,
                     blocks_needed=3, addresses_in_use=6, stranded_addresses=18,
                     borrowed_addresses=1, recommended_block_size=None,
                     stranded_per_node_now=None, stranded_per_node_recommended=None)
    u = utilisation_of_forecast(p)
    assert (u.capacity, u.used, u.stranded, u.free, u.borrowed) == (64, 6, 18, 40, 1)


def test_markdown_table_escapes_names_and_stays_compact():
    u = Utilisation(64, 6, 18, 0, 3, 8)
    rows = [PoolRow("dev", f"pool|{i}", "172.16.0.0/26", 29, u, "a|b") for i in range(250)]
    lines = markdown_table(rows, stacks=True, note="Runs out after")
    assert lines[0] == ("| Stack | Pool | CIDR | Blocks claimed | Used | Stranded | Free | | "
                        "Runs out after |")
    assert lines[2] == ("| dev | `pool\\|0` | `172.16.0.0/26` | 3 of 8 (/29) | 6 (9%) | "
                        "18 (28%) | 40 (62%) | `█▒▒▒░░░░░░` | a\\|b |")
    assert len([line for line in lines if line.startswith("| dev")]) == TABLE_ROWS
    assert f"{250 - TABLE_ROWS} more pools not shown." in lines
    assert markdown_table(rows[:1], stacks=False, note="Plan")[0].startswith("| Pool | CIDR |")


def test_markdown_table_shows_reserved_addresses_when_a_pool_has_some():
    # 64 addresses: 6 used, 14 stranded, 4 reserved (an IPReservation), 40 free
    rows = [PoolRow("dev", "a", "172.16.0.0/26", 29, Utilisation(64, 6, 14, 4, 3, 8)),
            PoolRow("dev", "b", "172.16.1.0/26", 29, Utilisation(64, 6, 18, 0, 3, 8))]
    lines = markdown_table(rows, stacks=False, note="Plan")
    assert lines[0] == "| Pool | CIDR | Blocks claimed | Used | Stranded | Reserved | Free | | Plan |"
    assert lines[1] == "|---|---|--:|--:|--:|--:|--:|---|---|"
    assert lines[2] == ("| `a` | `172.16.0.0/26` | 3 of 8 (/29) | 6 (9%) | 14 (22%) | 4 (6%) | "
                        "40 (62%) | `█▒▒▚░░░░░░` |  |")
    assert "| 0 (0%) | 40 (62%) |" in lines[3]


def test_pools_that_fail_check_are_rows_that_say_so_in_the_stacks_order():
    """A pool Calico would refuse is not in the forecast (nothing allocates from
    it): its row names the rule instead of counting, and what it was written
    with stays inside its cell."""
    stack = stack_from_config("bad", {"pools": {
        "tiny": {"cidr": "10.0.0.0/28", "blockSize": 26},           # CIP105
        "ok": {"cidr": "10.1.0.0/24", "blockSize": 26},
        "odd": {"cidr": "10.2.0.0/24\n| x |", "blockSize": 26}}})  # CIP102
    rows = forecast_rows(forecast(stack, node_groups=False), stack)
    assert [(r.pool, r.utilisation is None) for r in rows] == [
        ("tiny", True), ("ok", False), ("odd", True)]
    lines = markdown_table(rows, stacks=True, note="Runs out after")
    assert lines[2] == ("| bad | `tiny` | `10.0.0.0/28` | — | — | — | — |  | "
                        "left out: fails check (CIP105) |")
    odd = lines[4]
    assert odd.startswith(r'| bad | `odd` | `"10.2.0.0/24\n\| x \|"` | — |')
    cell_edges = re.compile(r"(?<!\\)\|")  # the pipes GitHub splits cells at
    assert len(cell_edges.findall(odd)) == len(cell_edges.findall(lines[0])) and "\n" not in odd
    assert odd.endswith("| left out: fails check (CIP102) |")
    assert forecast_rows(forecast(stack, node_groups=False))[0].pool == "ok"


# -- the tables in the CI reports --------------------------------------------------

def table_rows(markdown: str, heading: str) -> list[list[str]]:
    lines = markdown.splitlines()
    start = lines.index(heading) + 2
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split(" | ")])
    return rows


def test_check_markdown_has_one_row_per_pool_of_the_declared_load(capsys):
    from ipam_model.cli import main
    from ipam_model.declared.files import load_stacks

    assert main(["check", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    rows = table_rows(out, "### Pool utilisation (forecast of the declared load)")
    stacks = load_stacks("stacks")
    assert [(r[0], r[1].strip("`")) for r in rows] == [
        (s.name, p) for s in stacks for p in s.pools]
    dev = {r[1]: r for r in rows if r[0] == "dev"}
    # the forecast of stacks/Pulumi.dev.yaml: 3 nodes, 3 pods per namespace, ipip tunnels
    assert dev["`external-pool`"][3:7] == ["3 of 8 (/29)", "6 (9%)", "18 (28%)", "40 (62%)"]
    assert dev["`external-pool`"][8] == "58 more external-ns pods"
    assert out.index("### Pool utilisation") < out.index("### Findings")
    assert main(["check", "--format", "json"]) == 0
    assert "utilisation" not in capsys.readouterr().out


def test_plan_markdown_has_the_live_utilisation_and_drift_markdown_has_none(capsys):
    from ipam_model.cli import main

    snapshot = "tests/data/live/cluster-v1.yaml"
    main(["plan", "--stack", "dev", "--snapshot", snapshot, "--format", "markdown"])
    rows = table_rows(capsys.readouterr().out, "### Pool utilisation (live)")
    assert [r[0] for r in rows] == ["`external-pool`", "`internal-pool`",
                                    "`default-ipv4-ippool`", "`legacy-pool`"]
    # external-pool's one live block: 172.16.0.32/29 with three pods
    assert rows[0][2:6] == ["1 of 8 (/29)", "3 (5%)", "5 (8%)", "56 (88%)"]
    assert rows[2][-1] == "not managed by this stack"
    assert rows[0][-1] == "no change"
    main(["drift", "--stack", "dev", "--snapshot", snapshot, "--format", "markdown"])
    assert "Pool utilisation" not in capsys.readouterr().out
