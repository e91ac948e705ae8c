"""Fleet benchmark: `calico-ipam check` over 200 stacks x 50 pools and 20,000 bindings.

Prints, all measured in this one run on the same files:

(a) the full check: ``check_stacks(load_stacks(dir))``, and where its time goes;
(b) parsing the same YAML files only (``yaml.load`` with CSafeLoader), and the
    ratio (a)/(b) (target <= 3);
(d) the CLI as a user runs it, start-up included: ``calico-ipam check --stacks DIR
    --format json --output FILE`` in a fresh process, against a fresh process that
    only parses the same YAML with CSafeLoader (target <= 2); both with compiled
    bytecode, as an installed package has it (PYTHONDONTWRITEBYTECODE would
    make every run recompile calico-ipam's modules, but not PyYAML's);
(c) the overlap sweep against a pairwise netaddr baseline on all 10,000 pools
    (target >= 100x). The baseline is quadratic, so it runs on a random subset
    and its time is extrapolated by the number of pairs; both answers are
    compared on the subset so the speed is not bought with wrong results.

    python bench/check_fleet.py [--stacks 200] [--pools 50] [--bindings 20000]
                                [--baseline-pools 2000] [--repeat 3] [--keep DIR]

Everything runs for real, the simulator forecast (forecast.py) included. The
machine is shared and noisy, so (a) and (b) alternate --repeat times and the
fastest run of each counts; the per-part timings are single runs.
"""
from __future__ import annotations

import argparse
import gc
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import netaddr
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fleet import write_fleet  # noqa: E402

from ipam_model.core import cidr as cidr_module  # noqa: E402
from ipam_model.declared.files import list_stack_files, load_stacks
from ipam_model.rules import address_space as addrspace
from ipam_model.rules import bindings, capacity, overlap
from ipam_model.rules import runner as check
from ipam_model.rules.forecast import forecast_findings


def timed(fn, *args):
    gc.collect()
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def clear_caches() -> None:
    """Empty every functools cache of ipam_model (parsed CIDRs, selectors, ...)."""
    for name, module in list(sys.modules.items()):
        if name.startswith("ipam_model"):
            for value in vars(module).values():
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


def parse_only(directory: Path) -> int:
    count = 0
    for _, path in list_stack_files(directory):
        with open(path, "rb") as fh:
            data = yaml.load(fh.read(), Loader=yaml.CSafeLoader)
        count += len(data["config"]["calico-ipam:pools"])
    return count


def pairwise_netaddr(cidrs: list[str]) -> set[frozenset[int]]:
    """The obvious way: parse every CIDR with netaddr, compare every pair."""
    nets = [netaddr.IPNetwork(c) for c in cidrs]
    pairs = set()
    for i, a in enumerate(nets):
        for j in range(i + 1, len(nets)):
            b = nets[j]
            if a.version == b.version and (a in b or b in a):
                pairs.add(frozenset((i, j)))
    return pairs


def sweep(cidrs: list[str]) -> list[tuple[int, int]]:
    # parsing is part of the sweep's cost, as for the baseline
    cidr_module._parse.cache_clear()
    cidr_module._cidr_of.cache_clear()
    return overlap.find_overlaps((c, i) for i, c in enumerate(cidrs))


ROOT = Path(__file__).resolve().parent.parent
PARSE_PROCESS = ("import sys, pathlib, yaml\n"
                 "for p in sorted(pathlib.Path(sys.argv[1]).glob('Pulumi.*.yaml')):\n"
                 "    yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader)\n")


def process_seconds(*argv: str, pycache: Path) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one fresh Python process, as a
    user or CI starts it: with compiled bytecode, as pip leaves an installed
    package (``pycache``: where this checkout's is kept; an environment with
    PYTHONDONTWRITEBYTECODE would otherwise recompile every module each run)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONPYCACHEPREFIX": str(pycache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-P", *argv], env=env, stdout=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def cli_ratio(directory: Path, repeat: int) -> None:
    """(d): the check command against parsing only, each in its own process."""
    report = directory.parent / f"{directory.name}-report.json"
    cli, parse = [], []
    with tempfile.TemporaryDirectory(prefix="calico-ipam-pycache-") as pycache:
        # Untimed: compile the command's modules once, as installing the package does.
        process_seconds("-m", "ipam_model", "check", "--help", pycache=Path(pycache))
        for _ in range(repeat):  # alternate, keep the best of each
            parse.append(process_seconds("-c", PARSE_PROCESS, str(directory),
                                         pycache=Path(pycache)))
            cli.append(process_seconds("-m", "ipam_model", "check", "--stacks", str(directory),
                                       "--format", "json", "--output", str(report),
                                       pycache=Path(pycache)))
    report.unlink(missing_ok=True)
    (cli_wall, cli_cpu), (parse_wall, parse_cpu) = (
        (min(w for w, _ in runs), min(c for _, c in runs)) for runs in (cli, parse))
    ratio = cli_wall / parse_wall
    print(f"\n(d) calico-ipam check --format json, a fresh process   {cli_wall:8.2f} s wall "
          f"{cli_cpu:6.2f} s CPU  (best of {repeat})")
    print(f"    a fresh process parsing the YAML (CSafeLoader)   {parse_wall:8.2f} s wall "
          f"{parse_cpu:6.2f} s CPU  (best of {repeat})")
    print(f"    ratio CLI / parse: {ratio:.2f} wall, {cli_cpu / parse_cpu:.2f} CPU  (target <= 2: "
          f"{'met' if ratio <= 2 else 'NOT met'})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=200)
    parser.add_argument("--pools", type=int, default=50, help="pools per stack")
    parser.add_argument("--bindings", type=int, default=20_000, help="namespaces in total")
    parser.add_argument("--baseline-pools", type=int, default=2000,
                        help="subset size for the quadratic baseline (extrapolated)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="alternating runs of (a) and (b); the fastest of each counts")
    parser.add_argument("--keep", type=Path, help="write the fleet here and keep it")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="calico-ipam-fleet-") as tmp:
        directory = args.keep or Path(tmp)
        summary, t_generate = timed(write_fleet, directory, args.stacks, args.pools,
                                    args.bindings)
        print(f"fleet: {summary.files} stacks, {summary.pools:,} pools, {summary.bindings:,} "
              f"bindings, {summary.bytes / 1e6:.1f} MB of YAML in {directory} "
              f"(generated in {t_generate:.1f}s); {len(summary.deliberate_overlaps)} "
              f"deliberate overlaps")

        # The machine is shared and noisy: alternate (b) and (a) and keep the
        # fastest run of each. Every check starts cold, like a CI run.
        parse_runs, check_runs = [], []
        for _ in range(args.repeat):
            parsed_pools, t = timed(parse_only, directory)
            assert parsed_pools == summary.pools
            parse_runs.append(t)
            clear_caches()
            findings, t = timed(lambda: check.check_stacks(load_stacks(directory)))
            check_runs.append(t)
        t_parse, t_check = min(parse_runs), min(check_runs)

        stacks, t_load = timed(load_stacks, directory)
        parts = {
            "load_stacks (YAML, schema, Calico rules)": t_load,
            "overlaps (stack + routing domains)": timed(
                lambda: [overlap.stack_overlap_findings(s) for s in stacks]
                + [overlap.routing_domain_findings(stacks)])[1],
            "address space": timed(lambda: [
                addrspace.address_space_findings(n, p.spec.cidr)
                for s in stacks for n, p in s.pools.items()])[1],
            "bindings": timed(lambda: [bindings.binding_findings(s) for s in stacks])[1],
            "capacity": timed(lambda: [capacity.capacity_findings(s) for s in stacks])[1],
            "forecast (simulator, with its fast path)": timed(
                lambda: [forecast_findings(s) for s in stacks])[1],
        }
        by_rule: dict[str, int] = {}
        for f in findings:
            by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
        shown = ", ".join(f"{r} {n}" for r, n in sorted(by_rule.items()) if r < "CIP300")
        print(f"\n(a) full check: check_stacks(load_stacks(dir))  {t_check:8.2f} s  "
              f"(best of {args.repeat}; {len(findings):,} findings; {shown})")
        for label, seconds in parts.items():
            print(f"      of which, timed separately: {label:42s} {seconds:8.2f} s")
        print(f"(b) parse only: yaml.load CSafeLoader, same files  {t_parse:8.2f} s  "
              f"(best of {args.repeat})")
        ratio = t_check / t_parse
        print(f"    ratio check / parse: {ratio:.2f}  (target <= 3: "
              f"{'met' if ratio <= 3 else 'NOT met'}); without the forecast "
              f"{(t_check - parts['forecast (simulator, with its fast path)']) / t_parse:.2f}")
        cli_ratio(directory, args.repeat)

        # (c) sweep vs pairwise at all pools of the fleet.
        cidrs = [str(spec["cidr"]) for s in stacks for spec in s.pool_specs.values()]
        pairs, t_sweep = timed(sweep, cidrs)
        rng = random.Random(7)
        m = min(args.baseline_pools, len(cidrs))
        subset = rng.sample(cidrs, m)
        baseline_pairs, t_subset = timed(pairwise_netaddr, subset)
        sub_sweep = {frozenset(p) for p in sweep(subset)}
        assert sub_sweep == baseline_pairs, "sweep and pairwise disagree on the subset"
        n = len(cidrs)
        t_baseline = t_subset * (n * (n - 1) / 2) / (m * (m - 1) / 2)
        speedup = t_baseline / t_sweep
        print(f"\n(c) overlap at {n:,} pools ({len(pairs):,} overlapping pairs: the fleet's "
              f"routing domains reuse the same space)")
        print(f"    sort-and-sweep (parsing included)        {t_sweep * 1000:10.1f} ms")
        print(f"    pairwise netaddr, measured on {m:,} pools  {t_subset * 1000:10.1f} ms "
              f"(same {len(baseline_pairs):,} pairs as the sweep)")
        print(f"    pairwise netaddr, extrapolated to {n:,}  {t_baseline * 1000:10.1f} ms "
              f"(x {n * (n - 1) // 2:,} / {m * (m - 1) // 2:,} pairs)")
        print(f"    speed-up: {speedup:,.0f}x  (target >= 100x: "
              f"{'met' if speedup >= 100 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
