"""A plan as Terraform's JSON plan format, which tools that read Terraform plans accept.

The document is a Terraform JSON plan (``format_version`` 1.2) as
hashicorp/terraform-json decodes it (plan.go ``Plan``, ``ResourceChange``,
``Change``; state.go ``StateValues``): ``resource_changes`` and
``resource_drift`` with ``mode: managed``, a ``type`` per resource kind
(``RESOURCE_TYPES``), ``provider_name``, Terraform's action lists and
``before``/``after``/``after_unknown``, and ``planned_values`` with every
object as the plan leaves it. What Terraform has no field for (pools in use,
pools of others, gates with their migrations, check's findings) is under
``calico_ipam``, in each resource change and at the top, versioned by
``calico_ipam.format_version``. docs/plan-json.md is the schema.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Any, Iterable, Mapping

import msgspec

from ...core.model import Finding
from ...core.project import NAME as TOOL_NAME
from ...core.project import VERSION
from ...plan.model import (
    KIND_IPAM_CONFIG,
    KIND_RESERVATION,
    Action,
    DriftItem,
    NamespaceChange,
    ObjectChange,
    Plan,
    PoolChange,
)
from .view import PlanView

NAME = "json"
ORDER = 20
# Terraform's JSON plan format: terraform-json accepts ">= 0.1, < 2.0" (plan.go:17).
FORMAT_VERSION = "1.2"
# calico-ipam's own fields (``calico_ipam``). 3.0: the document became a Terraform
# plan; the former top-level fields moved under calico_ipam (2.0: drift changes
# say applied/live).
CALICO_IPAM_FORMAT_VERSION = "3.0"
# No Terraform provider applies these: pulumi up does, with the Kubernetes provider.
PROVIDER_NAME = "calico-ipam"

# The kind of a plan address (``ippool/<name>``) -> its Terraform resource type.
# A new kind of planned object is one row here.
RESOURCE_TYPES: Mapping[str, str] = MappingProxyType({
    "ippool": "calico_ippool",
    "namespace": "calico_namespace_pools",
    KIND_IPAM_CONFIG: "calico_ipam_config",
    KIND_RESERVATION: "calico_ipreservation",
})

# Drift as Terraform's refresh reports it: how the live object moved away from
# what was applied.
_DRIFT_ACTIONS = {"changed": ["update"], "invalid": ["update"], "deleted": ["delete"],
                  "overlap": ["create"]}


def terraform_address(address: str) -> dict[str, Any]:
    """``ippool/web`` as a Terraform resource instance: one ``for_each`` resource per
    kind, keyed by the object's name (``calico_ippool.ippool["web"]``)."""
    kind, _, name = address.partition("/")
    kind_type = RESOURCE_TYPES[kind]
    return {"address": f"{kind_type}.{kind}[{msgspec.json.encode(name).decode()}]",
            "mode": "managed", "type": kind_type, "name": kind, "index": name,
            "provider_name": PROVIDER_NAME}


def change_json(actions: list[str], before: Any, after: Any) -> dict[str, Any]:
    """Terraform's ``change``: nothing is unknown or sensitive before apply here."""
    return {"actions": actions, "before": before, "after": after,
            "after_unknown": {} if after is not None else False,
            "before_sensitive": {} if before is not None else False,
            "after_sensitive": {} if after is not None else False}


def _plain(value: Mapping | None) -> dict | None:
    return dict(value) if value is not None else None


def _usage_json(usage) -> dict:
    return {"allocated": usage.allocated, "blocks": usage.blocks, "nodes": list(usage.nodes),
            "by_namespace": dict(sorted(usage.by_namespace.items()))}


def _pool_change(c: PoolChange) -> dict:
    change = change_json(c.action.json_actions, _plain(c.before), _plain(c.after))
    change["replace_paths"] = [[p] for p in c.replace_paths]
    entry = {**terraform_address(c.address), "change": change,
             "calico_ipam": {"address": c.address, "in_use": _usage_json(c.usage),
                             "adopt": c.adopt}}
    if c.action is Action.REPLACE:
        entry["action_reason"] = "replace_because_cannot_update"
    elif c.action in (Action.DELETE, Action.FORGET):
        entry["action_reason"] = "delete_because_no_resource_config"
    return entry


def _object_change(c: ObjectChange) -> dict:
    """The IPAMConfig or an IPReservation, in the pool's shape."""
    change = change_json(c.action.json_actions, _plain(c.before), _plain(c.after))
    change["replace_paths"] = []
    entry = {**terraform_address(c.address), "change": change,
             "calico_ipam": {"address": c.address, "adopt": c.adopt}}
    if c.action in (Action.DELETE, Action.FORGET):
        entry["action_reason"] = "delete_because_no_resource_config"
    return entry


def _namespace_change(c: NamespaceChange) -> dict:
    return {**terraform_address(c.address),
            "change": change_json(c.action.json_actions, dict(c.before), dict(c.after)),
            "calico_ipam": {"address": c.address, "pods": c.pods}}


def _drift(d: DriftItem) -> dict:
    before = {a.path: a.before for a in d.changes}
    after = {a.path: a.after for a in d.changes}
    actions = _DRIFT_ACTIONS[d.kind]
    return {**terraform_address(d.address),
            "change": change_json(actions, None if actions == ["create"] else before,
                                  None if actions == ["delete"] else after),
            "calico_ipam": {"address": d.address, "kind": d.kind, "message": d.message,
                            "baseline": d.baseline,
                            "changes": [{"path": a.path, "applied": a.before, "live": a.after}
                                        for a in d.changes],
                            "rule": d.finding.rule if d.finding else None}}


def _planned_values(plan: Plan) -> dict:
    """Every object as the plan leaves it (Terraform's ``planned_values``)."""
    resources = []
    for c in list(plan.objects) + list(plan.pools) + list(plan.namespaces):
        after = c.after
        if after is None or c.action in (Action.DELETE, Action.FORGET):
            continue
        resources.append({**terraform_address(c.address), "schema_version": 0,
                          "values": dict(after), "sensitive_values": {}})
    return {"root_module": {"resources": resources}}


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


def _extras(plan: Plan, findings: Iterable[Finding]) -> dict:
    return {
        "format_version": CALICO_IPAM_FORMAT_VERSION,
        "stack": plan.stack,
        "stack_file": plan.stack_file,
        "source": plan.source,
        "summary": plan.summary,
        "changes": plan.has_changes,
        "unmanaged": [{"address": p.address, "cidr": p.cidr, "owner": p.owner,
                       "owner_stack": p.owner_stack, "disabled": p.disabled,
                       "deleting": p.deleting, "in_use": _usage_json(p.usage)}
                      for p in plan.unmanaged],
        "errors": [_finding_json(f, plan) for f in plan.errors],
        "findings": [_finding_json(f, plan) for f in findings if not f.is_error],
    }


def to_json_data(plan: Plan) -> dict:
    """The plan as a Terraform JSON plan document (docs/plan-json.md)."""
    return {
        "format_version": FORMAT_VERSION,
        # What made the plan; readers such as checkov require the key to be present.
        "terraform_version": f"{TOOL_NAME} {VERSION}",
        "applyable": plan.has_changes and not plan.errors,
        "complete": True,
        "errored": bool(plan.errors),
        "planned_values": _planned_values(plan),
        "resource_drift": [_drift(d) for d in plan.drift],
        # The IPAMConfig and the reservations first: they are applied first.
        "resource_changes": ([_object_change(c) for c in plan.objects]
                             + [_pool_change(c) for c in plan.pools]
                             + [_namespace_change(c) for c in plan.namespaces]),
        "calico_ipam": _extras(plan, plan.all_findings),
    }


def render(view: PlanView) -> str:
    # msgspec's C encoder: a 2,000-pool plan is megabytes of JSON.
    encoded = msgspec.json.encode(to_json_data(view.plan))
    return msgspec.json.format(encoded, indent=2).decode() + "\n"
