"""A Plan as text (Terraform's plan grammar), JSON (Terraform's resource_changes),
markdown (a CI job summary) and GitHub workflow annotations."""
from __future__ import annotations

import json
from typing import Any

from ..core.model import APPLIED_SPEC_ANNOTATION, Finding
from ..plan.model import (
    BASELINE_STACK,
    Action,
    AttributeChange,
    DriftItem,
    NamespaceChange,
    Plan,
    PoolChange,
    usage_text,
)

FORMATS = ("text", "json", "markdown", "github")
# 2.0: resource_drift[].changes[] say applied/live (was declared/live) and each
# item names its baseline; check's findings join errors[] and findings[].
FORMAT_VERSION = "2.0"
GITHUB_LIMIT = 10  # GitHub shows at most 10 errors and 10 warnings per step

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


def _v(value: Any) -> str:
    return "null" if value is None else json.dumps(value, ensure_ascii=False)


def _attr_lines(changes: tuple[AttributeChange, ...], indent: str, unchanged: int) -> list[str]:
    width = max((len(c.path) for c in changes), default=0)
    lines = []
    for c in changes:
        if c.before is None:
            line = f"{indent}+ {c.path:<{width}} = {_v(c.after)}"
        elif c.after is None:
            line = f"{indent}- {c.path:<{width}} = {_v(c.before)} -> null"
        else:
            line = f"{indent}~ {c.path:<{width}} = {_v(c.before)} -> {_v(c.after)}"
        if c.forces_replacement:
            line += " # forces replacement"
        lines.append(line)
    if unchanged > 0:
        lines.append(f"{indent}  # ({unchanged} unchanged attribute{'s' if unchanged != 1 else ''}"
                     " hidden)")
    return lines


def _pool_text(change: PoolChange, stack: str) -> list[str]:
    header = _HEADER[change.action].format(stack=stack)
    reason = ""
    if change.action in (Action.DELETE, Action.FORGET):
        reason = f" (because it is not in stack {stack})"
    lines = [f"  # {change.address} {header}{reason}"]
    if change.adopt:
        lines.append(f"  # (adopted: the live pool has no ownership label; pulumi up adds "
                     "app.kubernetes.io/managed-by=calico-ipam)")
    lines.append(f"  {change.action.symbol} ippool \"{change.name}\" {{")
    if change.action is Action.CREATE:
        changes = tuple(AttributeChange(k, None, v) for k, v in change.after.items())
        lines += _attr_lines(changes, "      ", 0)
    elif change.action in (Action.DELETE, Action.FORGET):
        changes = tuple(AttributeChange(k, v, None) for k, v in change.before.items())
        if change.action is Action.FORGET:
            lines += [f"        {k} = {_v(v)}" for k, v in change.before.items()]
        else:
            lines += _attr_lines(changes, "      ", 0)
    else:
        lines += _attr_lines(change.changes, "      ", change.unchanged)
    if change.action is not Action.CREATE:
        lines.append(f"        # in use: {usage_text(change.usage)}")
    lines.append("    }")
    return lines


def _ns_text(change: NamespaceChange) -> list[str]:
    lines = [f"  # {change.address} {_NS_HEADER[change.action]}",
             f"  {change.action.symbol} namespace \"{change.namespace}\" {{"]
    lines += _attr_lines(change.changes, "      ", len(change.after) - sum(
        1 for c in change.changes if c.after is not None))
    if change.pods:
        lines.append(f"        # {change.pods} existing pod{'s' if change.pods != 1 else ''} "
                     "keep their addresses until restarted")
    lines.append("    }")
    return lines


def _drift_text(item: DriftItem) -> list[str]:
    verb = {"changed": "has changed", "deleted": "has been deleted",
            "invalid": "has an invalid annotation", "overlap": "overlaps a live pool"}[item.kind]
    lines = [f"  # {item.address} {verb}"]
    if item.baseline == BASELINE_STACK and item.kind == "changed" and item.address.startswith(
            "ippool/"):
        lines.append(f"  # (no {APPLIED_SPEC_ANNOTATION} annotation: compared with the stack "
                     "file, taken as what was applied)")
    if item.kind == "invalid" and item.address.startswith("ippool/"):
        lines.append(f"    {item.message}")
    elif item.changes:
        kind, _, name = item.address.partition("/")
        lines.append(f"  ~ {kind} \"{name}\" {{")
        lines += _attr_lines(item.changes, "      ", 0)
        lines.append("    }")
    else:
        lines.append(f"    {item.message}")
    return lines


def _finding_text(finding: Finding, plan: Plan) -> list[str]:
    label = {"error": "Error", "warning": "Warning", "info": "Note"}[finding.severity.value]
    lines = [f"{label}: {finding.rule} {finding.name}: {finding.message}"]
    loc = finding.location
    if loc.file or loc.path:
        lines.append(f"  on {loc}")
    migration = plan.migration_for(finding)
    if migration is not None:
        lines.append(migration.as_text())
    return lines


def _warning_line(finding: Finding) -> str:
    return f"  - {finding.rule} {finding.name}: {finding.location}: {finding.message}"


def summary_line(plan: Plan) -> str:
    if not plan.has_changes:
        if plan.errors:  # pools that fail check are left out: nothing can match them
            return "No changes planned."
        return f"No changes. The cluster matches stack {plan.stack}."
    s = plan.summary
    text = f"Plan: {s['add']} to add, {s['change']} to change, {s['destroy']} to destroy"
    if s["forget"]:
        text += f", {s['forget']} to forget"
    return text + "."


def to_text(plan: Plan) -> str:
    out = [f"calico-ipam plan: stack {plan.stack} against {plan.source}", ""]
    if plan.drift:
        out += ["Objects changed outside of calico-ipam:", "",
                "calico-ipam detected the following changes made outside of calico-ipam since "
                "the stack was last applied:", ""]
        for item in plan.drift:
            out += _drift_text(item) + [""]
    changes = plan.changes
    if changes:
        out += ["calico-ipam will perform the following actions:", ""]
        for change in changes:
            out += (_pool_text(change, plan.stack) if isinstance(change, PoolChange)
                    else _ns_text(change)) + [""]
    in_use = [c for c in plan.pools if c.usage.in_use and c.action is Action.NOOP]
    if in_use:
        out += ["Pools in use (unchanged):"]
        out += [f"  ippool/{c.name}  {c.after['cidr']}  {usage_text(c.usage)}" for c in in_use]
        out.append("")
    if plan.unmanaged:
        out += [f"Pools not managed by stack {plan.stack} (listed, never changed):"]
        for p in plan.unmanaged:
            owner = p.owner + (f" ({p.owner_stack})" if p.owner_stack else "")
            flags = "".join([", disabled" if p.disabled else "",
                             ", being deleted" if p.deleting else ""])
            out.append(f"  {p.address}  {p.cidr}  owner {owner}{flags}  {usage_text(p.usage)}")
        out.append("")
    warnings = plan.check_warnings
    shown = [f for f in plan.all_findings if (f.rule not in ("CIP606", "CIP607")
                                              or f.is_error) and f not in warnings]
    for finding in shown:
        out += _finding_text(finding, plan) + [""]
    if warnings:
        out += [f"Warnings (calico-ipam check --stack {plan.stack} explains them):"]
        out += [_warning_line(f) for f in warnings] + [""]
    out.append(summary_line(plan))
    errors = plan.errors
    if errors:
        out.append(f"Refused: {len(errors)} error{'s' if len(errors) != 1 else ''}; pulumi up "
                   "would stop before changing anything.")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- JSON

def _finding_json(finding: Finding, plan: Plan) -> dict:
    data = finding.to_dict()
    migration = plan.migration_for(finding)
    if migration is not None:
        data["migration"] = {
            "title": migration.title, "source": migration.source,
            "temporary_pool": migration.temporary_pool,
            "temporary_cidr": migration.temporary_cidr,
            "steps": [{"text": s.text, "commands": list(s.commands)} for s in migration.steps]}
    return data


def _usage_json(usage) -> dict:
    return {"allocated": usage.allocated, "blocks": usage.blocks, "nodes": list(usage.nodes),
            "by_namespace": dict(sorted(usage.by_namespace.items()))}


def to_json_data(plan: Plan) -> dict:
    changes = []
    for c in plan.pools:
        entry = {"address": c.address, "type": "ippool", "name": c.name,
                 "change": {"actions": c.action.json_actions,
                            "before": dict(c.before) if c.before is not None else None,
                            "after": dict(c.after) if c.after is not None else None,
                            "replace_paths": [[p] for p in c.replace_paths]},
                 "in_use": _usage_json(c.usage)}
        if c.action is Action.REPLACE:
            entry["action_reason"] = "replace_because_cannot_update"
        if c.adopt:
            entry["adopt"] = True
        changes.append(entry)
    for c in plan.namespaces:
        changes.append({"address": c.address, "type": "namespace", "name": c.namespace,
                        "change": {"actions": c.action.json_actions, "before": dict(c.before),
                                   "after": dict(c.after), "replace_paths": []},
                        "pods": c.pods})
    findings = plan.all_findings
    return {
        "format_version": FORMAT_VERSION,
        "stack": plan.stack,
        "stack_file": plan.stack_file,
        "source": plan.source,
        "resource_changes": changes,
        "resource_drift": [{"address": d.address, "kind": d.kind, "message": d.message,
                            "baseline": d.baseline,
                            "changes": [{"path": a.path, "applied": a.before, "live": a.after}
                                        for a in d.changes],
                            "rule": d.finding.rule if d.finding else None}
                           for d in plan.drift],
        "unmanaged": [{"address": p.address, "cidr": p.cidr, "owner": p.owner,
                       "owner_stack": p.owner_stack, "disabled": p.disabled,
                       "deleting": p.deleting, "in_use": _usage_json(p.usage)}
                      for p in plan.unmanaged],
        "summary": plan.summary,
        "changes": plan.has_changes,
        "errors": [_finding_json(f, plan) for f in plan.errors],
        "findings": [_finding_json(f, plan) for f in findings if not f.is_error],
    }


def to_json(plan: Plan) -> str:
    return json.dumps(to_json_data(plan), indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- markdown

def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def to_markdown(plan: Plan) -> str:
    status = "refused" if plan.errors else ("changes" if plan.has_changes else "no changes")
    out = [f"## calico-ipam plan: stack `{plan.stack}` ({status})", "",
           f"Live state: {plan.source}", "", f"**{summary_line(plan)}**", ""]
    if plan.changes:
        out += ["| | address | change | in use |", "|---|---|---|---|"]
        for c in plan.changes:
            if isinstance(c, PoolChange):
                what = "; ".join(f"`{a.path}` {_v(a.before)} → {_v(a.after)}"
                                 + (" (forces replacement)" if a.forces_replacement else "")
                                 for a in c.changes) or c.action.value
                used = usage_text(c.usage) if c.action is not Action.CREATE else ""
            else:
                what = "; ".join(f"`{a.path}` {_v(a.before)} → {_v(a.after)}" for a in c.changes)
                used = f"{c.pods} pod{'s' if c.pods != 1 else ''}" if c.pods else ""
            out.append(f"| `{c.action.symbol}` | `{c.address}` | {_md(what)} | {_md(used)} |")
        out.append("")
    if plan.drift:
        out += ["### Objects changed outside of calico-ipam", ""]
        out += [f"- `{d.address}`: {_md(d.message)}" for d in plan.drift]
        out.append("")
    if plan.errors:
        out += ["### Errors", ""]
        for f in plan.errors:
            out.append(f"- **{f.rule} {f.name}** ({f.location}): {_md(f.message)}")
            migration = plan.migration_for(f)
            if migration is not None:
                out += ["", f"  <details><summary>Migration: {migration.title}</summary>", "",
                        "  ```text", *("  " + l for l in migration.as_text("").splitlines()),
                        "  ```", "", "  </details>"]
        out.append("")
    if plan.check_warnings:
        out += ["### Warnings", ""]
        out += [f"- **{f.rule} {f.name}** ({f.location}): {_md(f.message)}"
                for f in plan.check_warnings]
        out.append("")
    if plan.unmanaged:
        out += [f"<details><summary>{len(plan.unmanaged)} pools not managed by this stack"
                "</summary>", "", "| pool | cidr | owner | in use |", "|---|---|---|---|"]
        out += [f"| `{p.name}` | {p.cidr} | {p.owner} | {_md(usage_text(p.usage))} |"
                for p in plan.unmanaged]
        out += ["", "</details>", ""]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- GitHub

def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def to_github(plan: Plan) -> str:
    lines = []
    groups = {"error": [], "warning": [], "notice": []}
    for f in plan.all_findings:
        level = {"error": "error", "warning": "warning", "info": "notice"}[f.severity.value]
        groups[level].append(f)
    for d in plan.drift:
        if d.finding is not None and d.finding not in groups["warning"]:
            groups["warning"].append(d.finding)
    for level, findings in groups.items():
        for f in findings[:GITHUB_LIMIT]:
            props = []
            if f.location.file:
                props.append(f"file={_escape_prop(f.location.file)}")
                if f.location.line:
                    props.append(f"line={f.location.line}")
            props.append(f"title={_escape_prop(f'{f.rule} {f.name}')}")
            message = f.message
            migration = plan.migration_for(f)
            if migration is not None:
                message += "\n" + migration.as_text("")
            lines.append(f"::{level} {','.join(props)}::{_escape_data(message)}")
        if len(findings) > GITHUB_LIMIT:
            lines.append(f"::notice::{len(findings) - GITHUB_LIMIT} more {level} findings not "
                         "shown as annotations; see the job summary (--format markdown)")
    lines.append(f"::notice title=calico-ipam plan {_escape_prop(plan.stack)}::"
                 f"{_escape_data(summary_line(plan))}")
    return "\n".join(lines) + "\n"


def render(plan: Plan, fmt: str) -> str:
    return {"text": to_text, "json": to_json, "markdown": to_markdown,
            "github": to_github}[fmt](plan)
