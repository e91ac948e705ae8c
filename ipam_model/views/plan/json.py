"""A plan as JSON, in the shape of Terraform's ``resource_changes`` (the same in both modes)."""
from __future__ import annotations

import json

from ...core.model import Finding
from ...plan.model import Action, Plan
from .view import PlanView

NAME = "json"
ORDER = 20
# 2.0: resource_drift[].changes[] say applied/live (was declared/live) and each
# item names its baseline; check's findings join errors[] and findings[].
FORMAT_VERSION = "2.0"


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


def _resource_changes(plan: Plan) -> list[dict]:
    changes = []
    for c in plan.objects:  # ipamconfig/default and ipreservation/<name>, in apply order
        entry = {"address": c.address, "type": c.kind, "name": c.name,
                 "change": {"actions": c.action.json_actions,
                            "before": dict(c.before) if c.before is not None else None,
                            "after": dict(c.after) if c.after is not None else None,
                            "replace_paths": []}}
        if c.adopt:
            entry["adopt"] = True
        changes.append(entry)
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
    return changes


def to_json_data(plan: Plan) -> dict:
    """The plan as a JSON document (docs: format_version 2.0)."""
    return {
        "format_version": FORMAT_VERSION,
        "stack": plan.stack,
        "stack_file": plan.stack_file,
        "source": plan.source,
        "resource_changes": _resource_changes(plan),
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
        "findings": [_finding_json(f, plan) for f in plan.all_findings if not f.is_error],
    }


def render(view: PlanView) -> str:
    return json.dumps(to_json_data(view.plan), indent=2, ensure_ascii=False) + "\n"
