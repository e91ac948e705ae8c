"""``calico-ipam simulate``: which block and address Calico would give each pod.

Nodes start first (tunnel addresses), then the pods requested with
``--pods NAMESPACE=COUNT`` are created round-robin over the nodes in the
order given; a pod gets one address per family that has an enabled Workload
pool. Nodes: ``--node NAME`` (repeatable), else ``--nodes N`` taken
from the stack's node groups (``<group>-<i>``, the last group extended when N
is larger), else every node of every node group. Without ``--pods`` each
namespace's ``expectedPods`` is used. Exit 0 when every allocation
succeeded, 1 when Calico would refuse some (listed with Calico's message).
"""
from __future__ import annotations

import json
import sys

from ...calico.ipam.from_stack import families_in_use, node_names, simulator_for_stack
from ...calico.ipam.results import AllocationFailure
from ...core.errors import UsageError
from ..options import add_stacks_argument

NAME = "simulate"
HELP = "run the Calico IPAM model: blocks and addresses per node and pod"
ORDER = 60


def add_arguments(parser) -> None:
    parser.add_argument("--stack", required=True, help="stack name (stacks/Pulumi.<NAME>.yaml)")
    add_stacks_argument(parser)
    parser.add_argument("--node", action="append", default=[], metavar="NAME",
                        help="a node to simulate (repeatable)")
    parser.add_argument("--nodes", type=int, metavar="N",
                        help="simulate N nodes of the stack's node groups")
    parser.add_argument("--pods", action="append", default=[], metavar="NAMESPACE=COUNT",
                        help="create COUNT pods in NAMESPACE (repeatable)")
    parser.add_argument("--strict-affinity", action="store_true",
                        help="simulate IPAMConfig strictAffinity: true")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def _parse_pods(values) -> list[tuple[str, int]]:
    out = []
    for value in values:
        ns, sep, count = value.partition("=")
        if not sep or not ns or not count.strip().isdigit():
            raise UsageError(f"--pods {value!r}: expected NAMESPACE=COUNT, e.g. web=3")
        out.append((ns, int(count)))
    return out


def _nodes(args, stack) -> list[tuple[str, dict]]:
    groups = stack.cluster.node_groups
    if args.node and args.nodes is not None:
        raise UsageError("use either --node NAME... or --nodes N, not both")
    labels_of = {n: dict(g.labels) for g in groups for n in node_names(g.name, g.count)}
    if args.node:
        for n in args.node:
            if not n.strip():
                raise UsageError(f"--node {n!r}: a node needs a name")
        return [(n, labels_of.get(n, {})) for n in args.node]
    if args.nodes is not None:
        if args.nodes < 1:
            raise UsageError(f"--nodes {args.nodes}: need at least one node")
        if not groups:
            return [(n, {}) for n in node_names("node", args.nodes)]
        out = []
        for g in groups:
            out += [(n, dict(g.labels)) for n in node_names(g.name, g.count)]
        last = groups[-1]
        extra = args.nodes - len(out)
        if extra > 0:
            out += [(f"{last.name}-{last.count + i}", dict(last.labels)) for i in range(extra)]
        return out[:args.nodes]
    out = [(n, dict(g.labels)) for g in groups for n in node_names(g.name, g.count)]
    return out or [("node-0", {})]


def _pct(part: int, total: int) -> str:
    return f"{(100 * part / total) if total else 0:.0f}%"


def _table(rows: list[list[str]], border: bool = False) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    if not border:
        return "\n".join("   ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
                         for r in rows)
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [line]
    for i, r in enumerate(rows):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
        if i == 0:
            out.append(line)
    out.append(line)
    return "\n".join(out)


def run(args) -> int:
    from ...declared.files import find_stack_file, load_stack

    stack = load_stack(find_stack_file(args.stacks, args.stack), args.stack)
    pods = _parse_pods(args.pods)
    for ns in dict.fromkeys(ns for ns, _ in pods):
        if ns not in stack.bindings:
            # legitimate (Calico's Automatic pools), but usually a typo
            print(f"calico-ipam simulate: note: namespace {ns} is not declared in stack "
                  f"{stack.name}; its pods get Calico's Automatic pools (declared: "
                  f"{', '.join(sorted(stack.bindings)) or 'none'})", file=sys.stderr)
    if not args.pods:
        pods = [(ns, b.expected_pods) for ns, b in sorted(stack.bindings.items())
                if b.expected_pods]
    nodes = _nodes(args, stack)
    sim = simulator_for_stack(stack, strict_affinity=True if args.strict_affinity else None)
    for name, labels in nodes:
        sim.add_node(name, labels)
    families = families_in_use(stack.pools.values())  # dual stack: one address per family
    k = 0
    for ns, count in pods:
        for i in range(count):
            for version in families:
                sim.allocate(ns, f"{ns}-{i}", nodes[k % len(nodes)][0], version=version)
            k += 1

    allocations, blocks, tunnels = sim.pods(), sim.blocks(), sim.tunnels()
    failures: list[AllocationFailure] = list(sim.failures)
    if args.format == "json":
        json.dump({
            "pods": [{"namespace": p.namespace, "pod": p.pod, "node": p.node, "ip": p.ip,
                      "pool": p.pool, "block": p.block} for p in allocations],
            "blocks": [b.to_dict() for b in blocks],
            "tunnels": [t.to_dict() for t in tunnels],
            "failures": [f.to_dict() for f in failures],
        }, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        out = []
        if tunnels:
            rows = [["NODE", "TUNNEL", "IP", "POOL", "BLOCK"]]
            rows += [[t.node, t.kind, t.ip, t.pool, t.block] for t in tunnels]
            out += [_table(rows), ""]
        rows = [["NAME", "NAMESPACE", "IP", "NODE", "POOL", "BLOCK"]]
        rows += [[p.pod, p.namespace, p.ip, p.node, p.pool,
                  p.block + (" (borrowed)" if p.borrowed else "")] for p in allocations]
        out += [_table(rows) if allocations else "No pods allocated.", ""]
        rows = [["GROUPING", "CIDR", "IPS TOTAL", "IPS IN USE", "IPS FREE", "AFFINITY"]]
        usage = sim.pool_usage()
        for name in sorted(stack.pools):
            pool = stack.pools[name]
            used, free = usage.get(name, (0, pool.addresses))
            total = used + free
            rows.append(["IP Pool", pool.spec.cidr, str(total), f"{used} ({_pct(used, total)})",
                         f"{free} ({_pct(free, total)})", ""])
            for b in blocks:
                if b.pool == name:
                    size = b.allocated + b.free
                    rows.append(["Block", b.cidr, str(size),
                                 f"{b.allocated} ({_pct(b.allocated, size)})",
                                 f"{b.free} ({_pct(b.free, size)})", b.affinity or "none"])
        out.append(_table(rows, border=True))
        if failures:
            out += ["", f"{len(failures)} allocations would fail:"]
            for f in failures:
                who = f"pod {f.namespace}/{f.pod}" if f.pod else f"{f.kind} tunnel address"
                out.append(f"  {who} on node {f.node}: {f.message}")
        print("\n".join(out))
    return 1 if failures else 0
