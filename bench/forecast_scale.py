"""Forecast at scale: 1,000 pools, 5,000 namespaces, node groups of 50 nodes.

Prints, measured in this one run on the same generated stack:

(a) ``forecast(stack)`` and ``check_stack(stack)`` as they are now (one run of
    the declared load, closed-form "how many more pods" answers, replays
    only within ``MAX_REPLAY_ALLOCATIONS``), and how many answers are lower bounds;
(c) ``forecast_findings(stack)`` (what ``check`` runs) before and after its
    fast path: ``fast=False`` always runs the simulator, the default first
    tries the proof that no CIP507/CIP508/CIP509 can fire; findings compared;
(b) the former way: the whole declared load rebuilt and replayed once per
    namespace (``brute_more_pods`` below). At this size that takes hours, so it
    runs on a sample of namespaces and is extrapolated by the namespace count;
    the sample's answers are compared with (a)'s so speed is not bought with
    wrong results.

    python bench/forecast_scale.py [POOLS [NAMESPACES [GROUPS [NODES [SAMPLE]]]]]

Fleet mode, ``python bench/forecast_scale.py --fleet DIR`` (a directory from
``bench/fleet.py``): ``forecast_findings`` over every stack, full forecast vs
fast path vs fast path given the capacity findings (as ``check`` can pass
them), against parsing the same files with PyYAML's CSafeLoader; per stack,
whether the proof cleared it; findings compared.
"""
from __future__ import annotations

import sys
import time

import netaddr

from ipam_model.declared.build import stack_from_config
from ipam_model.rules import runner as check
from ipam_model.rules.capacity import capacity_findings, pool_capacity
from ipam_model.rules.forecast import forecast, forecast_findings
from ipam_model.rules.forecast import more as forecast_more
from ipam_model.rules.forecast.clearance import clearance
from ipam_model.rules.forecast.load import Load, first_failure


def synthetic_config(pools: int, namespaces: int, groups: int, nodes: int) -> dict:
    """/20 pools with /26 blocks; namespaces bound round-robin, every 7th left to the
    Automatic pools, every 5th naming two pools; 3 pods each so the load fits."""
    subnets = netaddr.IPNetwork("10.0.0.0/8").subnet(20)
    specs = {f"pool-{i:04d}": {"cidr": str(next(subnets)), "blockSize": 26,
                               "vxlanMode": "CrossSubnet", "natOutgoing": True,
                               "assignmentMode": "Automatic" if i < 2 else "Manual"}
             for i in range(pools)}
    names = list(specs)
    bindings = {}
    for i in range(namespaces):
        entry: dict = {"expectedPods": 3}
        if i % 7:
            entry["ipv4Pools"] = ([names[i % pools], names[(i + 1) % pools]] if i % 5 == 0
                                  else [names[i % pools]])
        bindings[f"team-{i:05d}"] = entry
    cluster = {"calicoApi": "projectcalico.org/v3", "serviceCidrs": ["172.20.0.0/16"],
               "nodeCidrs": ["172.21.0.0/20"], "headroomPercent": 20,
               "nodeGroups": [{"name": f"group-{g}", "count": nodes, "maxPods": 110,
                               "labels": {"zone": "abc"[g % 3]}} for g in range(groups)]}
    return {"cluster": cluster, "ipamConfig": {"maxBlocksPerHost": 20}, "pools": specs,
            "namespaces": bindings}


def brute_more_pods(stack, namespace: str) -> int | None:
    """The former ``_more_pods``: rebuild the declared load, then add pods until one fails."""
    load = Load(stack)
    for added in range(load.room()):
        if first_failure(load.place(namespace) or []):
            return added
    return None


def fleet(directory: str) -> None:
    import gc

    import yaml

    from ipam_model.declared.files import list_stack_files, load_stacks

    def timed(fn):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        return result, time.perf_counter() - start

    files = [p for _, p in list_stack_files(directory)]
    _, parse = timed(lambda: [yaml.load(open(f, "rb").read(), Loader=yaml.CSafeLoader)
                              for f in files])
    stacks = load_stacks(directory)
    static = [capacity_findings(s) for s in stacks]
    full, t_full = timed(lambda: [forecast_findings(s, fast=False) for s in stacks])
    quick, t_fast = timed(lambda: [forecast_findings(s) for s in stacks])
    given, t_given = timed(lambda: [forecast_findings(s, capacity=c)
                                    for s, c in zip(stacks, static)])
    assert full == quick == given, "fast path and full forecast disagree"
    simulated = []
    for s, c in zip(stacks, static):
        subjects = {(f.rule, f.subject) for f in c}
        if not clearance(s, pool_capacity(s),
                         lambda subject, *rules: any((r, subject) in subjects
                                                     for r in rules)).stack:
            simulated.append(s.name)
    print(f"fleet {directory}: {len(stacks)} stacks, parse only {parse:.3f} s")
    print(f"forecast_findings: full forecast {t_full:.3f} s ({t_full / parse:.2f}x parse); "
          f"fast path {t_fast:.3f} s ({t_fast / parse:.2f}x); fast path given the capacity "
          f"findings {t_given:.3f} s ({t_given / parse:.2f}x); same "
          f"{sum(map(len, full))} findings")
    print(f"proof cleared {len(stacks) - len(simulated)} stacks; simulated: "
          f"{', '.join(simulated) or 'none'}")


def main(argv: list[str]) -> None:
    if len(argv) == 3 and argv[1] == "--fleet":
        fleet(argv[2])
        return
    pools, namespaces, groups, nodes, sample = (
        [int(a) for a in argv[1:]] + [1000, 5000, 3, 50, 3][len(argv) - 1:])
    stack = stack_from_config("bench", synthetic_config(pools, namespaces, groups, nodes),
                              file="stacks/Pulumi.bench.yaml")
    print(f"input: {pools:,} pools, {namespaces:,} namespaces, {groups} node groups of "
          f"{nodes} nodes (maxPods 110), {3 * namespaces:,} expected pods")

    start = time.perf_counter()
    result = forecast(stack)
    fast = time.perf_counter() - start
    start = time.perf_counter()
    findings = check.check_stack(stack)
    whole = time.perf_counter() - start
    lower = sum(n.more_pods_is_lower_bound for n in result.namespaces)
    lower_groups = sum(g.more_nodes_is_lower_bound for g in result.groups)
    print(f"(a) forecast now: {fast:.2f} s; check_stack: {whole:.2f} s ({len(findings)} "
          f"findings); {lower} of {len(result.namespaces):,} namespace answers and "
          f"{lower_groups} of {len(result.groups)} node-group answers are lower bounds "
          f"(work bound {forecast_more.MAX_REPLAY_ALLOCATIONS:,} simulated requests)")

    start = time.perf_counter()
    full = forecast_findings(stack, fast=False)
    before = time.perf_counter() - start
    start = time.perf_counter()
    quick = forecast_findings(stack)
    after = time.perf_counter() - start
    assert quick == full, "fast path and full forecast disagree"
    static = {(f.rule, f.subject) for f in capacity_findings(stack)}
    cleared = clearance(stack, pool_capacity(stack),
                        lambda subject, *rules: any((r, subject) in static for r in rules))
    print(f"(c) forecast_findings: before (full forecast) {before:.2f} s, after (fast path) "
          f"{after:.3f} s, {before / after:,.0f}x; same {len(full)} findings; proof "
          f"{'cleared the stack' if cleared.stack else 'did not clear the stack'} "
          f"({len(cleared.pools):,} of {len(stack.pools):,} pools cleared)")

    by_name = {n.namespace: n for n in result.namespaces}
    step = max(1, len(by_name) // sample)
    picked = sorted(by_name)[::step][:sample]
    start = time.perf_counter()
    answers = {ns: brute_more_pods(stack, ns) for ns in picked}
    per_namespace = (time.perf_counter() - start) / len(picked)
    former = per_namespace * len(by_name)
    for ns, truth in answers.items():
        got = by_name[ns]
        ok = (got.more_pods_until_failure == truth if not got.more_pods_is_lower_bound
              else truth is None or truth >= got.more_pods_until_failure)
        assert ok, (ns, truth, got)
    print(f"(b) former per-namespace replay: {per_namespace:.2f} s a namespace on "
          f"{len(picked)} sampled namespaces (answers agree with (a)) -> about "
          f"{former:,.0f} s for all {len(by_name):,}")
    print(f"ratio former/now (forecast): {former / fast:,.0f}x")


if __name__ == "__main__":
    main(sys.argv)
