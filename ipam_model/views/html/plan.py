"""``calico-ipam plan --format html``: the live address space with the plan on top.

Every pool the plan speaks of, and every other live pool, with its live
blocks (the snapshot's or the cluster's IPAMBlocks: the same CIDR, ``host:``
node, allocated count and size), marked as Terraform marks a change
(``+`` create, ``~`` update in-place, ``-/+`` replace, ``-`` delete, ``.``
forget); pools the stack does not own are greyed. Gates (with their
migration steps), drift and check's findings sit next to the pool they are
about. A block lies in the pool whose CIDR holds it, found as the live
state's usage finds it (``core.cidr.ContainingIndex``); blocks in no pool
are drawn at the end, as ``calicoctl ipam show`` lists its orphaned blocks.
"""
from __future__ import annotations

import json
from typing import Sequence

from ...core.cidr import ContainingIndex, parse_cidr
from ...core.live_state import LiveBlock, LiveState
from ...core.model import Stack
from ...core.words import plural
from ...plan.model import Action, Plan, PoolChange
from ...rules.forecast.model import Forecast
from ..forecast import pool_outlook
from .model import (
    BlockCell,
    ChangeMark,
    IpamShown,
    Notice,
    Page,
    PoolPicture,
    Reservation,
    Section,
)
from .nodes import NodeGroups
from .page import render_page
from .pools import picture, pool_facts


def plan_page(plan: Plan, live: LiveState, *, title: str, summary: Sequence[str],
              stack: Stack | None = None, forecast: Forecast | None = None,
              reservations: Sequence[Reservation] = ()) -> str:
    """The whole page (see ``plan_model``)."""
    return render_page(plan_model(plan, live, title=title, summary=summary, stack=stack,
                                  forecast=forecast, reservations=reservations))


def plan_model(plan: Plan, live: LiveState, *, title: str, summary: Sequence[str],
               stack: Stack | None = None, forecast: Forecast | None = None,
               reservations: Sequence[Reservation] = ()) -> Page:
    """*title*: ``calico-ipam plan`` or ``calico-ipam drift``; *summary*: the
    plan view's verdict lines (views/plan/view.py, which imports this package's
    formats and so cannot be imported here)."""
    pools, loose = pool_pictures(plan, live, stack=stack, forecast=forecast,
                                 reservations=reservations)
    return Page(title=f"{title}: stack {plan.stack}", heading=f"{title}: stack {plan.stack}",
                summary=tuple(summary), facts=_facts(plan, live), pools=pools,
                nodes=_nodes(live, stack),
                ipam=IpamShown(live.ipam_config.strict_affinity,
                               live.ipam_config.max_blocks_per_host,
                               f"IPAMConfig of {live.source}"),
                loose_blocks=loose, sections=_sections(plan))


def pool_pictures(plan: Plan, live: LiveState, *, stack: Stack | None = None,
                  forecast: Forecast | None = None, reservations: Sequence[Reservation] = ()
                  ) -> tuple[tuple[PoolPicture, ...], tuple[BlockCell, ...]]:
    """Every pool's picture (the stack's, then the unmanaged, then other live
    pools) and the blocks inside no pool, in CIDR order."""
    placed, loose = _blocks_by_pool(live)
    pools = []
    for name, spec, change, unmanaged in _pools(plan, live, stack):
        facts = pool_facts(spec)
        if unmanaged is not None:
            facts = (f"owner {unmanaged.owner}"
                     + (f" (stack {unmanaged.owner_stack})" if unmanaged.owner_stack else ""),
                     *facts) + (("being deleted",) if unmanaged.deleting else ())
        pools.append(picture(
            name, parse_cidr(spec.cidr), spec.block_size, placed.get(name, ()), reservations,
            facts=facts, change=_mark(change) if change is not None else None,
            greyed=unmanaged is not None, notices=_notices(plan, name),
            outlook=tuple(pool_outlook(forecast, name)) if forecast else ()))
    return tuple(pools), tuple(_cell(b) for b in _sorted(loose))


def _pools(plan: Plan, live: LiveState, stack: Stack | None):
    """(name, spec drawn, change, unmanaged) for every pool, by name. A pool
    that exists is drawn as it is live (its blocks are); a new one as declared."""
    changes = {c.name: c for c in plan.pools}
    unmanaged = {u.name: u for u in plan.unmanaged}
    # The stack's pools first, then those it does not own, then any other live pool.
    names = [*sorted(changes), *sorted(set(unmanaged) - set(changes)),
             *sorted(set(live.pools) - set(changes) - set(unmanaged))]
    for name in names:
        change = changes.get(name)
        if name in live.pools:
            spec = live.pools[name].spec
        elif stack is not None and name in stack.pools:
            spec = stack.pools[name].spec
        else:
            continue  # a created pool without its stack: nothing to draw it from
        yield name, spec, change, unmanaged.get(name)


def _blocks_by_pool(live: LiveState) -> tuple[dict[str, list[BlockCell]], list[LiveBlock]]:
    index = ContainingIndex((p.spec.cidr, p.name) for p in live.pools.values())
    placed: dict[str, list[BlockCell]] = {}
    loose = []
    for b in live.blocks:
        parsed = b.parsed or parse_cidr(b.cidr)
        pool = index.find_cidr(parsed) if parsed is not None else None
        if pool is None:
            loose.append(b)
        else:
            placed.setdefault(pool, []).append(_cell(b))
    return placed, loose


def _sorted(blocks: Sequence[LiveBlock]) -> list[LiveBlock]:
    def key(b: LiveBlock):
        parsed = b.parsed or parse_cidr(b.cidr)
        return (parsed.version, parsed.first, parsed.prefixlen) if parsed else (9, 0, 0)
    return sorted(blocks, key=key)


def _cell(b: LiveBlock) -> BlockCell:
    parsed = b.parsed or parse_cidr(b.cidr)
    return BlockCell(cidr=b.cidr, first=parsed.first if parsed else 0, size=b.size,
                     allocated=b.allocated, node=b.node, affinity=b.affinity,
                     pods=b.by_namespace, borrowed=b.borrowed, tunnels=b.tunnels,
                     deleted=b.deleted)


def value(v) -> str:
    """A value as the plan shows it: JSON, ``null`` for none (as views/plan/text.py)."""
    return "null" if v is None else json.dumps(v, ensure_ascii=False)


def _mark(change: PoolChange) -> ChangeMark:
    lines = tuple(f"{a.path}: {value(a.before)} → {value(a.after)}"
                  + (" (forces replacement)" if a.forces_replacement else "")
                  for a in change.changes)
    if change.action is Action.CREATE and change.after is not None:
        lines = (f"new pool {change.after.get('cidr')}, blockSize "
                 f"{change.after.get('blockSize')}",)
    if change.adopt:
        lines += ("adopted: the live pool has no owner label; pulumi up labels it",)
    return ChangeMark(change.action, lines)


def _notices(plan: Plan, pool: str) -> tuple[Notice, ...]:
    """Gates (with the migration), then the plan's and check's findings, then drift."""
    subject = f"pool/{pool}"
    out, gated = [], set()
    for gate in plan.gates:
        if pool not in gate.pools and gate.finding.subject != subject:
            continue
        gated.add(id(gate.finding))
        f, m = gate.finding, gate.migration
        lifted = " (lifted by --allow-disruption: a warning)" if gate.allowed else ""
        out.append(Notice("lifted" if gate.allowed else "error", f"{f.rule} {f.name}{lifted}",
                          f.message,
                          steps_title=f"Migration: {m.title} ({m.source})" if m else "",
                          steps=tuple((s.text, s.commands) for s in m.steps) if m else ()))
    for f in plan.all_findings:
        if f.subject == subject and id(f) not in gated:
            out.append(Notice(f.severity.value, f"{f.rule} {f.name}", f.message))
    for d in plan.drift:
        if d.address == f"ippool/{pool}":
            changes = "; ".join(f"{a.path}: {value(a.before)} → {value(a.after)}"
                                for a in d.changes)
            out.append(Notice("drift", "changed outside calico-ipam",
                              d.message + (f" ({changes})" if changes else "")))
    return tuple(out)


def _sections(plan: Plan) -> tuple[Section, ...]:
    """What is not about one pool: the change list, errors, namespace drift."""
    out = []
    if plan.changes:
        out.append(Section("Changes", tuple(f"{c.action.symbol.strip()} {c.address} "
                                            f"({c.action.value})" for c in plan.changes)))
    others = [f for f in plan.errors if not f.subject.startswith("pool/")]
    if others:
        out.append(Section(f"{plural(len(plan.errors), 'error')} refuse the plan",
                           tuple(f"{f.rule} {f.name}: {f.message}" for f in others), "error"))
    drift = [d for d in plan.drift if not d.address.startswith("ippool/")]
    if drift:
        out.append(Section("Changed outside calico-ipam",
                           tuple(f"{d.address}: {d.message}" for d in drift), "warning"))
    return tuple(out)


def _facts(plan: Plan, live: LiveState) -> tuple[tuple[str, str], ...]:
    nodes = {b.node for b in live.blocks if b.node}
    return (("stack", plan.stack), ("file", plan.stack_file or "(no file)"),
            ("live state", live.source), ("IPPool API", live.calico_api),
            ("pools", f"{len(live.pools):,} live"), ("blocks", f"{len(live.blocks):,}"),
            ("nodes holding blocks", f"{len(nodes):,}"))


def _nodes(live: LiveState, stack: Stack | None) -> tuple[tuple[str, str | None], ...]:
    """Every node holding a block or known to the cluster, by node group then name."""
    groups = NodeGroups(stack.cluster.node_groups if stack is not None else ())
    names = {b.node for b in live.blocks if b.node} | set(live.nodes)
    found = [(n, groups.group_of(n, live.nodes[n].labels if n in live.nodes else None))
             for n in names]
    order = {g.name: i for i, g in enumerate(stack.cluster.node_groups)} if stack else {}
    return tuple(sorted(found, key=lambda ng: (order.get(ng[1], len(order)) if ng[1] else
                                                len(order) + 1, ng[0])))

