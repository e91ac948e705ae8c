"""5,000 nodes x 110 pods in a /12 pool with /26 blocks: Simulator vs the naive scan.

Run: ``python bench/simulate_large.py [PREFIX_NODES]``.

Then the command as a user runs it: ``calico-ipam simulate --format json`` of the
same 5,000 nodes x 110 pods (a stack of one /12 pool with /26 blocks and one node
group of 5,000), in a fresh process writing its JSON to a file, against the
allocation alone measured above (target <= 5 s; the JSON goes through msgspec).

Both simulators run in this process on the same workload (every node starts,
then each node gets its 110 pods). The naive baseline (``NaiveSimulator``:
every allocation lists and sorts every block) is far too slow for all
550,000 allocations, so it runs on two prefixes of the workload (N and 2N
nodes); its cost grows with the number of existing blocks, so the time is
fitted as a*n + b*n^2 and extrapolated to 5,000 nodes. The output says which
numbers are measured and which are extrapolated. Wall time and CPU time are
both printed: on a shared machine the CPU time is the fairer number.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ipam_model.calico.ipam import NaiveSimulator, PodAllocation, Simulator
from ipam_model.core.model import Pool, PoolSpec

NODES, PODS = 5000, 110
POOL = Pool("bench", PoolSpec("10.0.0.0/12", 26))
TARGET_SECONDS = 10.0
CLI_TARGET_SECONDS = 5.0
ROOT = Path(__file__).resolve().parent.parent
STACK = """config:
  calico-ipam:cluster:
    nodeGroups: [{name: node, count: 5000, maxPods: 110}]
  calico-ipam:pools:
    bench: {cidr: 10.0.0.0/12, blockSize: 26}
  calico-ipam:namespaces:
    default: {expectedPods: 550000}
"""


def cli_json(repeat: int = 2) -> tuple[float, float, int]:
    """(best wall seconds, best CPU seconds, bytes) of ``calico-ipam simulate
    --format json`` in a fresh process."""
    with tempfile.TemporaryDirectory(prefix="calico-ipam-sim-") as tmp:
        (Path(tmp) / "Pulumi.bench.yaml").write_text(STACK)
        out = Path(tmp) / "simulation.json"
        best_wall = best_cpu = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            with out.open("wb") as fh:
                proc = subprocess.Popen([sys.executable, "-P", "-m", "ipam_model", "simulate",
                                         "--stacks", tmp, "--stack", "bench", "--format",
                                         "json"], stdout=fh,
                                        env={**os.environ, "PYTHONPATH": str(ROOT)})
                _, status, usage = os.wait4(proc.pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:  # a failed run measures nothing
                raise SystemExit(f"calico-ipam simulate exited "
                                 f"{os.waitstatus_to_exitcode(status)}: no figure")
            best_wall = min(best_wall, time.perf_counter() - start)
            best_cpu = min(best_cpu, usage.ru_utime + usage.ru_stime)
        return best_wall, best_cpu, out.stat().st_size


def run(sim_class, nodes: list[str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, successful allocations)."""
    sim = sim_class([POOL])
    wall, cpu = time.perf_counter(), time.process_time()
    ok = 0
    for n in nodes:
        sim.add_node(n)
    for n in nodes:
        for j in range(PODS):
            if isinstance(sim.allocate("default", f"{n}-{j}", n), PodAllocation):
                ok += 1
    return time.perf_counter() - wall, time.process_time() - cpu, ok


def main() -> None:
    prefix = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    nodes = [f"node-{i}" for i in range(NODES)]
    total = NODES * PODS

    wall, cpu, ok = run(Simulator, nodes)
    print(f"Simulator (measured): {ok:,} of {total:,} allocations in {wall:.2f} s wall, "
          f"{cpu:.2f} s CPU -> {total / wall:,.0f} allocations/s wall, "
          f"{total / cpu:,.0f}/s CPU")
    print(f"Target <= {TARGET_SECONDS:.0f} s: CPU {'met' if cpu <= TARGET_SECONDS else 'MISSED'}, "
          f"wall {'met' if wall <= TARGET_SECONDS else 'MISSED'} "
          f"(wall time includes waiting for other processes on this machine)")

    cli, cli_cpu, size = cli_json()
    print(f"calico-ipam simulate --format json (fresh process, {size / 1e6:.0f} MB of JSON): "
          f"{cli:.2f} s wall, {cli_cpu:.2f} s CPU, best of 2 -> {cli / wall:.2f}x the "
          f"allocation alone (wall), {cli_cpu / cpu:.2f}x (CPU); target <= "
          f"{CLI_TARGET_SECONDS:.0f} s: CPU {'met' if cli_cpu <= CLI_TARGET_SECONDS else 'MISSED'}"
          f", wall {'met' if cli <= CLI_TARGET_SECONDS else 'MISSED'}")

    _, c1, _ = run(NaiveSimulator, nodes[:prefix])
    _, c2, _ = run(NaiveSimulator, nodes[:2 * prefix])
    # t(n) = a*n + b*n^2 through (prefix, c1) and (2*prefix, c2)
    b = (c2 - 2 * c1) / (2 * prefix * prefix)
    a = (c1 - b * prefix * prefix) / prefix
    b = max(b, 0.0)
    naive_quadratic = a * NODES + b * NODES * NODES
    naive_linear = c1 * NODES / prefix
    print(f"Naive baseline (measured): {prefix * PODS:,} allocations ({prefix} nodes) in "
          f"{c1:.2f} s CPU, {2 * prefix * PODS:,} ({2 * prefix} nodes) in {c2:.2f} s CPU")
    print(f"Naive baseline (extrapolated to {NODES} nodes): {naive_quadratic:,.0f} s CPU "
          f"fitting a*n + b*n^2; {naive_linear:,.0f} s if it stayed linear (lower bound)")
    print(f"Ratio naive/simulator, CPU time: {naive_quadratic / cpu:,.0f}x "
          f"(at least {naive_linear / cpu:,.0f}x)")


if __name__ == "__main__":
    main()
