"""A plan (or the drift report) as markdown for a CI job summary."""
from __future__ import annotations

from ...core.model import Finding
from ...core.words import plural
from ...plan.model import (
    Action,
    AttributeChange,
    ObjectChange,
    Plan,
    PoolChange,
    usage_text,
)
from ..escape import html_text, markdown_cell, markdown_code
from ..html.plan import pool_pictures
from ..utilisation import PoolRow, markdown_table
from .migration import migration_text
from .text import value
from .view import Mode, PlanView

NAME = "markdown"
ORDER = 30


def _attribute(a: AttributeChange, replacement: bool = False) -> str:
    text = (f"{markdown_code(a.path)} {markdown_cell(value(a.before))} → "
            f"{markdown_cell(value(a.after))}")
    return text + (" (forces replacement)" if replacement and a.forces_replacement else "")


def _change_row(c) -> str:
    if isinstance(c, PoolChange):
        what = ("; ".join(_attribute(a, True) for a in c.changes)
                or markdown_cell(c.action.value))
        used = usage_text(c.usage) if c.action is not Action.CREATE else ""
    elif isinstance(c, ObjectChange):
        what = "; ".join(_attribute(a) for a in c.changes) or markdown_cell(c.action.value)
        used = ""
    else:
        what = "; ".join(_attribute(a) for a in c.changes)
        used = plural(c.pods, "pod") if c.pods else ""
    return (f"| {markdown_code(c.action.symbol)} | {markdown_code(c.address)} | {what} | "
            f"{markdown_cell(used)} |")


def _finding_item(f: Finding) -> str:
    return (f"- **{f.rule} {markdown_cell(f.name)}** ({markdown_cell(f.location)}): "
            f"{markdown_cell(f.message)}")


def _errors(plan: Plan) -> list[str]:
    """Each error, a gate's migration folded below it as a text block."""
    out = ["### Errors", ""]
    for f in plan.errors:
        out.append(_finding_item(f))
        migration = plan.migration_for(f)
        if migration is not None:
            out += ["", f"  <details><summary>Migration: {html_text(migration.title)}"
                        "</summary>", "",
                    "  ```text", *("  " + line for line in migration_text(migration, "")
                                   .splitlines()),
                    "  ```", "", "  </details>"]
    return out + [""]


def _unmanaged(plan: Plan) -> list[str]:
    out = [f"<details><summary>{len(plan.unmanaged)} pools not managed by this stack"
           "</summary>", "", "| pool | cidr | owner | in use |", "|---|---|---|---|"]
    out += [f"| {markdown_code(p.name)} | {markdown_cell(p.cidr)} | {markdown_cell(p.owner)} | "
            f"{markdown_cell(usage_text(p.usage))} |" for p in plan.unmanaged]
    return out + ["", "</details>", ""]


def _utilisation(view: PlanView) -> list[str]:
    """Per pool, the live blocks and addresses (plan mode, when the live state is at hand)."""
    if view.live is None or view.mode is not Mode.PLAN:
        return []
    pools, _ = pool_pictures(view.plan, view.live, stack=view.stack)
    rows = [PoolRow(view.plan.stack, p.name, p.cidr.text, p.block_size, p.utilisation,
                    "not managed by this stack" if p.greyed else
                    f"{p.change.action.symbol.strip()} {p.change.word}"
                    if p.change and p.change.action is not Action.NOOP else "no change")
            for p in pools]
    if not rows:
        return []
    return ["### Pool utilisation (live)", "", *markdown_table(rows, stacks=False, note="Plan"),
            ""]


def render(view: PlanView) -> str:
    plan = view.plan
    out = [f"## {view.title}: stack {markdown_code(plan.stack)} ({view.status})", "",
           f"Live state: {markdown_cell(plan.source)}", "",
           f"**{markdown_cell(view.summary)}**", ""]
    if plan.changes:
        out += ["| | address | change | in use |", "|---|---|---|---|"]
        out += [_change_row(c) for c in plan.changes] + [""]
    out += _utilisation(view)
    if plan.drift:
        out += ["### Objects changed outside of calico-ipam", ""]
        out += [f"- {markdown_code(d.address)}: {markdown_cell(d.message)}" for d in plan.drift]
        out.append("")
    if plan.errors:
        out += _errors(plan)
    if plan.check_warnings:
        out += ["### Warnings", ""]
        out += [_finding_item(f) for f in plan.check_warnings] + [""]
    if plan.unmanaged:
        out += _unmanaged(plan)
    return "\n".join(out) + "\n"
