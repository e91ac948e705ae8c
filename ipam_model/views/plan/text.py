"""A plan as text, in Terraform's plan grammar; in drift mode the drift report."""
from __future__ import annotations

import json
from typing import Any

from ...core.model import APPLIED_SPEC_ANNOTATION, Finding
from ...core.words import plural
from ...plan.model import (
    BASELINE_STACK,
    KIND_IPAM_CONFIG,
    Action,
    AttributeChange,
    DriftItem,
    NamespaceChange,
    ObjectChange,
    Plan,
    PoolChange,
    usage_text,
)
from ..style import ANSI, PLAIN, Style
from .migration import migration_text
from .view import PlanView, unchanged_counts

NAME = "text"
ORDER = 10

_HEADER = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in-place",
    Action.REPLACE: "must be replaced",
    Action.DELETE: "will be destroyed",
    Action.FORGET: "will no longer be managed by stack {stack} (retainOnDelete: the pool stays "
                   "in the cluster)",
}
_NS_HEADER = {
    Action.CREATE: "pool annotations will be set",
    Action.UPDATE: "pool annotations will be updated in-place",
    Action.DELETE: "pool annotations will be removed",
}
_DRIFT_VERB = {"changed": "has changed", "deleted": "has been deleted",
               "invalid": "has an invalid annotation", "overlap": "overlaps a live pool"}
_LABEL = {"error": "Error", "warning": "Warning", "info": "Note"}


def value(v: Any) -> str:
    """A value as the plan shows it: JSON, ``null`` for none."""
    return "null" if v is None else json.dumps(v, ensure_ascii=False)


def attribute_lines(changes: tuple[AttributeChange, ...], indent: str,
                    unchanged: int, style: Style = PLAIN) -> list[str]:
    """``+``/``-``/``~`` lines aligned on the attribute name, then how many
    unchanged attributes are hidden."""
    width = max((len(c.path) for c in changes), default=0)
    lines = []
    for c in changes:
        if c.before is None:
            line = f"{indent}{style.symbol('+')} {c.path:<{width}} = {value(c.after)}"
        elif c.after is None:
            line = f"{indent}{style.symbol('-')} {c.path:<{width}} = {value(c.before)} -> null"
        else:
            line = (f"{indent}{style.symbol('~')} {c.path:<{width}} = {value(c.before)} -> "
                    f"{value(c.after)}")
        if c.forces_replacement:
            line += " " + style.destroy("# forces replacement")
        lines.append(line)
    if unchanged > 0:
        lines.append(f"{indent}  # ({plural(unchanged, 'unchanged attribute')} hidden)")
    return lines


def _pool_body(change: PoolChange, style: Style) -> list[str]:
    if change.action is Action.CREATE:
        changes = tuple(AttributeChange(k, None, v) for k, v in change.after.items())
        return attribute_lines(changes, "      ", 0, style)
    if change.action is Action.FORGET:
        return [f"        {k} = {value(v)}" for k, v in change.before.items()]
    if change.action is Action.DELETE:
        changes = tuple(AttributeChange(k, v, None) for k, v in change.before.items())
        return attribute_lines(changes, "      ", 0, style)
    return attribute_lines(change.changes, "      ", change.unchanged, style)


def _pool_text(change: PoolChange, stack: str, style: Style) -> list[str]:
    header = _HEADER[change.action].format(stack=stack)
    reason = ""
    if change.action in (Action.DELETE, Action.FORGET):
        reason = f" (because it is not in stack {stack})"
    lines = [f"  # {change.address} {header}{reason}"]
    if change.adopt:
        lines.append("  # (adopted: the live pool has no ownership label; pulumi up adds "
                     "app.kubernetes.io/managed-by=calico-ipam)")
    lines.append(f"  {style.symbol(change.action.symbol)} ippool \"{change.name}\" {{")
    lines += _pool_body(change, style)
    if change.action is not Action.CREATE:
        lines.append(f"        # in use: {usage_text(change.usage)}")
    lines.append("    }")
    return lines


_OBJECT_NOUN = {KIND_IPAM_CONFIG: "IPAMConfig", "ipreservation": "reservation"}


def _object_text(change: ObjectChange, stack: str, style: Style) -> list[str]:
    """The IPAMConfig or a reservation, in the pool's grammar."""
    if change.action is Action.FORGET:
        header = (f"will no longer be managed by stack {stack} (the "
                  f"{_OBJECT_NOUN[change.kind]} stays in the cluster)")
    else:
        header = _HEADER[change.action]
    reason = (f" (because it is not in stack {stack})"
              if change.action in (Action.DELETE, Action.FORGET) else "")
    lines = [f"  # {change.address} {header}{reason}"]
    if change.adopt:
        lines.append(f"  # (adopted: the live {_OBJECT_NOUN[change.kind]} has no ownership "
                     "label; pulumi up adds app.kubernetes.io/managed-by=calico-ipam)")
    lines.append(f"  {style.symbol(change.action.symbol)} {change.kind} \"{change.name}\" {{")
    if change.action is Action.CREATE:
        lines += attribute_lines(tuple(AttributeChange(k, None, v)
                                       for k, v in change.after.items()), "      ", 0, style)
    elif change.action is Action.FORGET:
        lines += [f"        {k} = {value(v)}" for k, v in change.before.items()]
    elif change.action is Action.DELETE:
        lines += attribute_lines(tuple(AttributeChange(k, v, None)
                                       for k, v in change.before.items()), "      ", 0, style)
    else:
        lines += attribute_lines(change.changes, "      ", change.unchanged, style)
    lines.append("    }")
    return lines


def _ns_text(change: NamespaceChange, style: Style) -> list[str]:
    lines = [f"  # {change.address} {_NS_HEADER[change.action]}",
             f"  {style.symbol(change.action.symbol)} namespace \"{change.namespace}\" {{"]
    lines += attribute_lines(change.changes, "      ", len(change.after) - sum(
        1 for c in change.changes if c.after is not None), style)
    if change.pods:
        lines.append(f"        # {plural(change.pods, 'existing pod')} "
                     "keep their addresses until restarted")
    lines.append("    }")
    return lines


def _drift_text(item: DriftItem, style: Style) -> list[str]:
    lines = [f"  # {item.address} {_DRIFT_VERB[item.kind]}"]
    if item.baseline == BASELINE_STACK and item.kind == "changed" and item.address.startswith(
            "ippool/"):
        lines.append(f"  # (no {APPLIED_SPEC_ANNOTATION} annotation: compared with the stack "
                     "file, taken as what was applied)")
    if item.kind == "invalid" and item.address.startswith("ippool/"):
        lines.append(f"    {item.message}")
    elif item.changes:
        kind, _, name = item.address.partition("/")
        lines.append(f"  {style.symbol('~')} {kind} \"{name}\" {{")
        lines += attribute_lines(item.changes, "      ", 0, style)
        lines.append("    }")
    else:
        lines.append(f"    {item.message}")
    return lines


def _finding_text(finding: Finding, plan: Plan, style: Style) -> list[str]:
    label = style.severity(finding.severity, _LABEL[finding.severity.value] + ":")
    lines = [f"{label} {finding.rule} {finding.name}: {finding.message}"]
    loc = finding.location
    if loc.file or loc.path:
        lines.append(f"  on {loc}")
    migration = plan.migration_for(finding)
    if migration is not None:
        lines.append(migration_text(migration))
    return lines


def _warning_line(finding: Finding) -> str:
    return f"  - {finding.rule} {finding.name}: {finding.location}: {finding.message}"


def _drift_section(plan: Plan, style: Style) -> list[str]:
    if not plan.drift:
        return []
    out = ["Objects changed outside of calico-ipam:", "",
           "calico-ipam detected the following changes made outside of calico-ipam since "
           "the stack was last applied:", ""]
    for item in plan.drift:
        out += _drift_text(item, style) + [""]
    return out


def _changes_section(plan: Plan, style: Style) -> list[str]:
    if not plan.changes:
        return []
    out = ["calico-ipam will perform the following actions:", ""]
    for change in plan.changes:
        if isinstance(change, PoolChange):
            out += _pool_text(change, plan.stack, style) + [""]
        elif isinstance(change, ObjectChange):
            out += _object_text(change, plan.stack, style) + [""]
        else:
            out += _ns_text(change, style) + [""]
    return out


def _pools_section(plan: Plan, show_unchanged: bool) -> list[str]:
    """Pools in use that stay (listed only when asked: a 2,000-pool cluster would
    print 2,000 lines), then the pools this stack does not manage."""
    out = []
    in_use = [c for c in plan.pools if c.usage.in_use and c.action is Action.NOOP]
    if in_use and show_unchanged:
        out += ["Pools in use (unchanged):"]
        out += [f"  ippool/{c.name}  {c.after['cidr']}  {usage_text(c.usage)}" for c in in_use]
        out.append("")
    elif plan.has_changes and unchanged_counts(plan):
        out += [f"Unchanged: {unchanged_counts(plan)}"
                + (" (--show-unchanged lists the pools in use)." if in_use else "."), ""]
    if plan.unmanaged:
        out += [f"Pools not managed by stack {plan.stack} (listed, never changed):"]
        for p in plan.unmanaged:
            owner = p.owner + (f" ({p.owner_stack})" if p.owner_stack else "")
            flags = "".join([", disabled" if p.disabled else "",
                             ", being deleted" if p.deleting else ""])
            out.append(f"  {p.address}  {p.cidr}  owner {owner}{flags}  {usage_text(p.usage)}")
        out.append("")
    return out


def _findings_section(plan: Plan, style: Style) -> list[str]:
    """Errors and the plan's own warnings in full; check's warnings as a short list."""
    out = []
    warnings = plan.check_warnings
    shown = [f for f in plan.all_findings if (f.rule not in ("CIP606", "CIP607")
                                              or f.is_error) and f not in warnings]
    for finding in shown:
        out += _finding_text(finding, plan, style) + [""]
    if warnings:
        out += [style.update("Warnings") + f" (calico-ipam check --stack {plan.stack} "
                "explains them):"]
        out += [_warning_line(f) for f in warnings] + [""]
    return out


def render(view: PlanView) -> str:
    plan, style = view.plan, ANSI if view.color else PLAIN
    out = [style.bold(f"{view.title}: stack {plan.stack} against {plan.source}"), ""]
    out += _drift_section(plan, style)
    out += _changes_section(plan, style)
    out += _pools_section(plan, view.show_unchanged)
    out += _findings_section(plan, style)
    summary = view.summary
    calm = summary.startswith("No ") and not plan.errors
    out.append(style.create(summary) if calm else style.bold(summary))
    if view.refusal:
        out.append(style.error(view.refusal))
    return "\n".join(out) + "\n"
