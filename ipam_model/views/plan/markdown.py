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
from .migration import migration_text
from .text import value
from .view import PlanView

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


def render(view: PlanView) -> str:
    plan = view.plan
    out = [f"## {view.title}: stack {markdown_code(plan.stack)} ({view.status})", "",
           f"Live state: {markdown_cell(plan.source)}", "",
           f"**{markdown_cell(view.summary)}**", ""]
    if plan.changes:
        out += ["| | address | change | in use |", "|---|---|---|---|"]
        out += [_change_row(c) for c in plan.changes] + [""]
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
