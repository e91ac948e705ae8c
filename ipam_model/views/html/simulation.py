"""``calico-ipam simulate --format html``: the run's blocks, pool by pool.

The block cells are the run's ``blocks`` (``simulate --format json``): the
same CIDR, node (the ``host:`` affinity), allocated count and size
(allocated + free + reserved). Pods per namespace, borrowed and tunnel addresses come
from the run's pods and tunnels; the forecast, when given, is the stack's
declared load (its node groups and ``expectedPods``), which may differ from
the run's ``--nodes``/``--pods``.
"""
from __future__ import annotations

from collections import Counter
from typing import Mapping, Sequence

from ...core.cidr import parse_cidr
from ...core.model import Severity, Stack
from ...core.words import name_label
from ...rules.forecast.model import Forecast
from ..forecast import pool_outlook
from ..simulation import Simulation
from ..utilisation import written_cidr
from .markup import tally
from .model import BlockCell, IpamShown, Page, Reservation, Section
from .page import render_page
from .pools import picture, pool_facts

FAILURES_SHOWN = 200


def simulation_page(result: Simulation, stack: Stack, *, nodes: Sequence[tuple[str, str | None]],
                    ipam: IpamShown, forecast: Forecast | None = None,
                    reservations: Sequence[Reservation] = ()) -> str:
    """The whole page (see ``simulation_model``)."""
    return render_page(simulation_model(result, stack, nodes=nodes, ipam=ipam,
                                        forecast=forecast, reservations=reservations))


def simulation_model(result: Simulation, stack: Stack, *,
                     nodes: Sequence[tuple[str, str | None]], ipam: IpamShown,
                     forecast: Forecast | None = None,
                     reservations: Sequence[Reservation] = ()) -> Page:
    """*nodes*: (node, node group) as the run started them."""
    cells = block_cells(result)
    pools = []
    for pool in result.pools:
        cidr = parse_cidr(pool.spec.cidr)
        pools.append(picture(pool.name, cidr, pool.spec.block_size, cells.get(pool.name, ()),
                             reservations, facts=pool_facts(pool.spec),
                             outlook=tuple(pool_outlook(forecast, pool.name)) if forecast else ()))
    pods = {(p.namespace, p.pod) for p in result.pods}
    failed = len(result.failures)
    summary = [f"{_many(len(pods), 'pod')} on {_many(len(nodes), 'node')} got "
               f"{_many(len(result.pods), 'address', 'addresses')}"
               + (f"; {_many(failed, 'allocation')} would fail" if failed else "") + "."]
    facts = [("stack", stack.name), ("file", stack.file or "(no file)"),
             ("nodes", f"{len(nodes):,}"), ("blocks claimed", f"{len(result.blocks):,}"),
             ("tunnel addresses", f"{len(result.tunnels):,}")]
    by_namespace = Counter(p.namespace for p in result.pods)
    if by_namespace:
        facts.append(("addresses by namespace", tally(by_namespace)))
    return Page(title=f"calico-ipam simulate: stack {stack.name}",
                heading=f"calico-ipam simulate: stack {stack.name}",
                summary=tuple(summary), facts=tuple(facts), pools=tuple(pools),
                nodes=tuple(nodes), ipam=ipam,
                sections=_left_out(stack) + _failures(result))


def block_cells(result: Simulation) -> dict[str, list[BlockCell]]:
    """Pool name -> its blocks as cells, with pods, borrowed and tunnel addresses."""
    pods: dict[tuple[str, str], Counter] = {}
    borrowed: Counter = Counter()
    tunnels: dict[tuple[str, str], list[str]] = {}
    for p in result.pods:
        key = (p.pool, p.block)
        counter = pods.get(key)
        if counter is None:
            counter = pods[key] = Counter()
        counter[p.namespace] += 1
        if p.borrowed:
            borrowed[key] += 1
    for t in result.tunnels:
        tunnels.setdefault((t.pool, t.block), []).append(f"{t.kind} {t.ip} ({t.node})")
        if t.borrowed:
            borrowed[(t.pool, t.block)] += 1
    out: dict[str, list[BlockCell]] = {}
    for b in result.blocks:
        key = (b.pool, b.cidr)
        node = b.affinity[len("host:"):] if b.affinity and b.affinity.startswith("host:") else None
        mine = tunnels.get(key, ())
        out.setdefault(b.pool, []).append(BlockCell(
            cidr=b.cidr, first=parse_cidr(b.cidr).first, size=b.allocated + b.free + b.reserved,
            allocated=b.allocated, node=node, affinity=b.affinity,
            pods=dict(pods.get(key, {})), borrowed=borrowed[key], tunnels=len(mine),
            tunnel_text=", ".join(mine)))
    return out


def _many(n: int, word: str, many: str | None = None) -> str:
    """``1 pod``, ``550,000 pods``."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def _left_out(stack: Stack) -> tuple[Section, ...]:
    """The declared pools that fail check: Calico would refuse them, so the run
    has none of their blocks; each with the first error that keeps it out."""
    items = []
    for name, spec in stack.pool_specs.items():
        if name in stack.pools:
            continue
        errors = [f for f in stack.pool_findings.get(name, ()) if f.severity is Severity.ERROR]
        cidr = written_cidr(spec.get("cidr") if isinstance(spec, Mapping) else None)
        why = f": {errors[0].rule} {errors[0].name}: {errors[0].message}" if errors else ""
        items.append(f"pool {name_label(name)} ({cidr}){why}")
    if not items:
        return ()
    fail = "it fails" if len(items) == 1 else "they fail"
    return (Section(f"{_many(len(items), 'pool')} not drawn: {fail} check (calico-ipam check "
                    f"--stack {stack.name})", tuple(items), "error"),)


def _failures(result: Simulation) -> tuple[Section, ...]:
    if not result.failures:
        return ()
    items = []
    for f in result.failures[:FAILURES_SHOWN]:
        who = f"pod {f.namespace}/{f.pod}" if f.pod else f"{f.kind} tunnel address"
        items.append(f"{who} on node {f.node}: {f.message}")
    if len(result.failures) > FAILURES_SHOWN:
        items.append(f"{len(result.failures) - FAILURES_SHOWN:,} more; "
                     "calico-ipam simulate --format json lists them all")
    return (Section(f"{_many(len(result.failures), 'allocation')} would fail", tuple(items),
                    "error"),)
