"""``calico-ipam simulate``: which block and address Calico would give each pod.

Nodes start first (tunnel addresses), then the pods requested with
``--pods NAMESPACE=COUNT`` are created round-robin over the nodes in the
order given, never more on a node than its node group's ``maxPods`` (the
kubelet refuses the rest: they are counted on stderr, not simulated); each pod is one CNI ADD (``calico.ipam.cni``): one address per
family that has an enabled Workload pool, or none when Calico refuses one of
them. Nodes: ``--node NAME`` (repeatable), else ``--nodes N`` taken from the
stack's node groups (``<group>-<i>``, the last group extended when N is
larger), else every node of every node group. Without ``--pods`` each
namespace's ``expectedPods`` is used. ``--scenario FILE`` (``declared.scenario``)
gives the CNI config, the nodes and pod events with annotations instead.
Exit 0 when every allocation succeeded, 1 when Calico would refuse some
(listed with Calico's message).

The allocator reads an IPAMConfig and the IPReservations: the stack's
``calico-ipam:ipamConfig`` and ``calico-ipam:reservations``. With
``--snapshot FILE`` or ``--kubeconfig``/``--context`` it reads the cluster
too and simulates what the allocator reads once ``pulumi up`` has applied the
stack (``plan.allocator.allocator_after``): the live IPAMConfig when the stack
declares none, and the live reservations the stack leaves in place. Which
IPAMConfig it used is always said on stderr.
"""
from __future__ import annotations

import argparse
import sys
from argparse import ArgumentTypeError
from dataclasses import replace

from ...calico.ipam.cni import PodRequest
from ...calico.ipam.from_stack import default_cni, node_names, simulator_for_stack
from ...calico.ipam.placement import RoundRobin
from ...core.errors import UsageError
from ...core.limits import MAX_NODES, MAX_PODS
from ...core.model import ORIGIN_DECLARED, ORIGIN_LIVE, Stack
from ...declared.files import find_stack_file, load_stack
from ...declared.scenario import PodStep, ReleaseStep, Scenario, load_scenario
from ...plan.allocator import allocator_after
from ...rules.forecast import forecast
from ...views.html import IpamShown, NodeGroups, reservations_of, simulation_page
from ...views.simulation import FORMATS, Simulation, to_json_bytes, to_text
from ..color import style_for
from ..options import (
    add_cluster_arguments,
    add_stacks_argument,
    bounded_count,
    parse_count,
    read_live,
)
from ..output import write_output

NAME = "simulate"
HELP = "run the Calico IPAM model: blocks and addresses per node and pod"
DESCRIPTION = ("Run a model of Calico's IPAM AutoAssign over one stack's pools: which block "
               "each node claims and which address each pod gets, as Calico would hand them "
               "out. Exit 0 when every allocation succeeds, 1 when Calico would refuse one "
               "(listed with Calico's message), 2 on bad input.")
ORDER = 60


def add_arguments(parser) -> None:
    parser.add_argument("--stack", metavar="NAME", required=True,
                        help="the stack to simulate (<stacks>/Pulumi.<NAME>.yaml)")
    add_stacks_argument(parser)
    parser.add_argument("--node", action="append", default=[], metavar="NAME",
                        help="a node to simulate (repeatable)")
    parser.add_argument("--nodes", type=bounded_count(MAX_NODES, least=1), metavar="N",
                        help=f"simulate N nodes of the stack's node groups (at most "
                             f"{MAX_NODES.value:,})")
    parser.add_argument("--pods", action="append", default=[], metavar="NAMESPACE=COUNT",
                        help="create COUNT pods in NAMESPACE (repeatable)")
    parser.add_argument("--strict-affinity", action="store_true",
                        help="simulate IPAMConfig strictAffinity: true")
    parser.add_argument("--scenario", metavar="FILE",
                        help="a scenario file: the CNI config, nodes, and pod events with "
                             "their annotations (see the README)")
    parser.add_argument("--snapshot", metavar="FILE", action="append",
                        help="read the cluster's IPAMConfig and IPReservations from a "
                             "calico-ipam snapshot or kubectl output (repeatable); used where "
                             "the stack declares none")
    add_cluster_arguments(parser)
    parser.add_argument("--format", choices=[*FORMATS, "html"], default="text",
                        help="text (default: pods, tunnels and blocks as tables), json, or "
                             "html (a self-contained page: each pool's blocks, nodes and usage)")
    parser.add_argument("--output", metavar="FILE",
                        help="write to FILE instead of standard output")


def _parse_pods(values) -> list[tuple[str, int]]:
    """(namespace, count) pairs; counts in ASCII digits, their sum at most ``MAX_PODS``."""
    out = []
    total = 0
    for value in values:
        ns, sep, count = value.partition("=")
        if not sep or not ns:
            raise UsageError(f"--pods {value!r}: expected NAMESPACE=COUNT, e.g. web=3")
        try:
            number = parse_count(count, MAX_PODS, what=f"--pods {value!r}")
        except ArgumentTypeError as exc:
            raise UsageError(f"{exc}; expected NAMESPACE=COUNT, e.g. web=3") from None
        total += number
        if total > MAX_PODS.value:
            raise UsageError(f"--pods: {total:,} pods in all, more than {MAX_PODS.text} (the "
                             "most calico-ipam models; see Limits in the README)")
        out.append((ns, number))
    return out


# A simulated node: its name, its labels and its node group's maxPods (None: a
# node outside the node groups, which takes any number of pods).
Node = tuple[str, dict, "int | None"]


def _declared_nodes(stack) -> dict[str, Node]:
    """Every node of the stack's node groups, by name (a name in two groups: the last)."""
    return {n: (n, dict(g.labels), g.max_pods) for g in stack.cluster.node_groups
            for n in node_names(g.name, g.count)}


def _nodes(args, stack) -> list[Node]:
    groups = stack.cluster.node_groups
    if args.node and args.nodes is not None:
        raise UsageError("use either --node NAME... or --nodes N, not both")
    declared = _declared_nodes(stack)
    if args.node:
        for n in args.node:
            if not n.strip():
                raise UsageError(f"--node {n!r}: a node needs a name")
        return [declared.get(n, (n, {}, None)) for n in args.node]
    if args.nodes is not None:  # 1..MAX_NODES: checked by its option type
        if not groups:
            return [(n, {}, None) for n in node_names("node", args.nodes)]
        out = [(n, dict(g.labels), g.max_pods) for g in groups
               for n in node_names(g.name, g.count)]
        last = groups[-1]
        extra = args.nodes - len(out)
        if extra > 0:
            out += [(f"{last.name}-{last.count + i}", dict(last.labels), last.max_pods)
                    for i in range(extra)]
        return out[:args.nodes]
    out = [(n, dict(g.labels), g.max_pods) for g in groups for n in node_names(g.name, g.count)]
    return out or [("node-0", {}, None)]


def _with_live_allocator(args: argparse.Namespace, stack: Stack) -> Stack:
    """The stack with what the allocator reads once it is applied: the cluster's
    IPAMConfig and reservations when a snapshot or cluster option is given."""
    if args.snapshot or args.kubeconfig or args.context:
        stack = replace(stack, allocator=allocator_after(stack, read_live(args)))
    assumed = stack.allocator.described()
    if args.strict_affinity and not stack.allocator.strict_affinity:
        assumed += " (strictAffinity true from --strict-affinity)"
    print(f"calico-ipam simulate: simulating with {assumed}", file=sys.stderr)
    return stack



def _steps(args, stack, scenario: Scenario | None) -> list[PodStep | ReleaseStep]:
    """The pod events: the scenario's, --pods, or each namespace's expectedPods."""
    if scenario is not None and scenario.steps is not None:
        if args.pods:
            raise UsageError(f"--pods and the pods of {scenario.file}: give one of them")
        steps = list(scenario.steps)
    elif args.pods:
        steps = [PodStep(ns, count=n) for ns, n in _parse_pods(args.pods)]
    else:
        return [PodStep(ns, count=b.expected_pods) for ns, b in sorted(stack.bindings.items())
                if b.expected_pods]
    for ns in dict.fromkeys(s.namespace for s in steps if isinstance(s, PodStep)):
        if ns not in stack.bindings:
            # legitimate (Calico's Automatic pools), but usually a typo
            print(f"calico-ipam simulate: note: namespace {ns} is not declared in stack "
                  f"{stack.name}; its pods get Calico's Automatic pools (declared: "
                  f"{', '.join(sorted(stack.bindings)) or 'none'})", file=sys.stderr)
    return steps


def _scenario_nodes(args, stack, scenario: Scenario | None) -> list[Node]:
    if scenario is None or scenario.nodes is None:
        return _nodes(args, stack)
    if args.node or args.nodes is not None:
        raise UsageError(f"--node/--nodes and the nodes of {scenario.file}: give one of them")
    declared = _declared_nodes(stack)
    out = []
    for name, labels in scenario.nodes:
        _, group_labels, max_pods = declared.get(name, (name, {}, None))
        out.append((name, dict(labels) if labels is not None else group_labels, max_pods))
    return out


def _run_steps(sim, cni, placement: RoundRobin, steps, scenario: Scenario | None
               ) -> dict[str, int]:
    """Create and delete the pods; the pods per namespace that no node had room for."""
    used: dict[str, int] = {}
    unplaced: dict[str, int] = {}
    for step in steps:
        if isinstance(step, ReleaseStep):
            released = sim.release(step.namespace, step.name)
            if released:  # the addresses say which node ran the pod
                placement.release(released[0].node)
            else:  # CNI DEL of nothing: a no-op
                print(f"calico-ipam simulate: note: {scenario.file}: release "
                      f"{step.namespace}/{step.name}: no such pod holds an address at that "
                      "point", file=sys.stderr)
            continue
        for pod in _pod_names(step, used):
            if step.node is not None:  # the user's choice, as kubectl would run it
                node = step.node
                placement.count_pod(node)
            elif (node := placement.next_node()) is None:
                unplaced[step.namespace] = unplaced.get(step.namespace, 0) + 1
                continue
            sim.add_pod(PodRequest(step.namespace, pod, node, step.annotations), cni)
    return unplaced


def _warn_unplaced(unplaced: dict[str, int], nodes: list[Node]) -> None:
    """Pods beyond every node's maxPods: the kubelet refuses them, so Calico never
    sees them; say so, since the output lists only the pods that ran."""
    if not unplaced:
        return
    room = sum(m for _, _, m in nodes if m is not None)
    counts = ", ".join(f"{n:,} of {ns}" for ns, n in sorted(unplaced.items()))
    print(f"calico-ipam simulate: warning: {sum(unplaced.values()):,} pods not placed "
          f"({counts}): every node already runs its node group's maxPods ({len(nodes):,} "
          f"nodes, {room:,} pods in all); they get no address", file=sys.stderr)


def _pod_names(step: PodStep, used: dict[str, int]) -> list[str]:
    """<name>, or <name>-<i> for several; unnamed pods number on per namespace."""
    if step.name is not None:
        return [step.name] if step.count == 1 else [f"{step.name}-{i}" for i in range(step.count)]
    start = used.get(step.namespace, 0)
    used[step.namespace] = start + step.count
    return [f"{step.namespace}-{i}" for i in range(start, start + step.count)]


def run(args) -> int:
    stack = load_stack(find_stack_file(args.stacks, args.stack), args.stack)
    scenario = load_scenario(args.scenario) if args.scenario else None
    steps = _steps(args, stack, scenario)
    nodes = _scenario_nodes(args, stack, scenario)
    stack = _with_live_allocator(args, stack)  # after the usage errors: they come first
    cni = scenario.cni if scenario is not None and scenario.cni is not None else \
        default_cni(stack.pools.values())
    sim = simulator_for_stack(stack, strict_affinity=True if args.strict_affinity else None,
                              cni=cni)
    placement = RoundRobin()
    for name, labels, max_pods in nodes:
        sim.add_node(name, labels)
        placement.add_node(name, max_pods)
    unplaced = _run_steps(sim, cni, placement, steps, scenario)
    _warn_unplaced(unplaced, nodes)
    result = Simulation(tuple(sim.pods()), tuple(sim.blocks()), tuple(sim.tunnels()),
                        tuple(sim.failures), tuple(stack.pools[n] for n in sorted(stack.pools)),
                        sim.pool_usage())
    if args.output:  # the whole output or nothing, never coloured
        text = (_page(args, stack, nodes, result, sim.strict_affinity) if args.format == "html"
                else to_json_bytes(result).decode() if args.format == "json"
                else to_text(result))
        write_output(args.output, text)
    elif args.format == "html":
        sys.stdout.write(_page(args, stack, nodes, result, sim.strict_affinity))
    elif args.format == "json":  # bytes from the C encoder, straight to the stream
        sys.stdout.flush()
        sys.stdout.buffer.write(to_json_bytes(result))
        sys.stdout.buffer.flush()
    else:
        sys.stdout.write(to_text(result, style_for(args)))
    return 1 if result.failures else 0


def _page(args, stack, nodes, result: Simulation, strict_affinity: bool) -> str:
    """The HTML page: the run, its nodes by node group, the IPAM settings and
    reservations it used and the forecast of the stack's declared load."""
    groups = NodeGroups(stack.cluster.node_groups)
    allocator = stack.allocator
    if strict_affinity and not allocator.strict_affinity:
        source = "strictAffinity from --strict-affinity"
    elif allocator.origin == ORIGIN_DECLARED:
        source = f"calico-ipam:ipamConfig of stack {stack.name}"
    elif allocator.origin == ORIGIN_LIVE:
        source = f"IPAMConfig of {allocator.source}"
    else:
        source = "Calico's defaults: no IPAMConfig declared or read"
    ipam = IpamShown(strict_affinity, allocator.max_blocks_per_host, source)
    return simulation_page(result, stack, nodes=[(n, groups.group_of(n, labels))
                                                 for n, labels, _ in nodes],
                           ipam=ipam, forecast=forecast(stack),
                           reservations=reservations_of(allocator.reserved))
