"""ipamconfig/default in plan and drift: declared state like a pool (issue 10, point 2)."""
import json

from terraform_json import unmarshal_plan

from ipam_model.calico.ipam_config import applied_value
from ipam_model.core.ipam_config import IPAMConfig
from ipam_model.core.live_state import LiveBlock, LiveIpamConfig, LiveState
from ipam_model.core.model import APPLIED_SPEC_ANNOTATION, frozen_map
from ipam_model.declared.build import stack_from_config
from ipam_model.plan.build import build_plan, drift_plan
from ipam_model.plan.model import Action
from ipam_model.views.plan import PlanView, render

OURS = {"app.kubernetes.io/managed-by": "calico-ipam", "calico-ipam.io/stack": "dev"}
DEFAULTS = {"strictAffinity": False, "autoAllocateBlocks": True, "maxBlocksPerHost": 0}


def stack(ipam_config=DEFAULTS, name="dev"):
    config = {"pools": {"web": {"cidr": "10.10.0.0/24", "blockSize": 26}}}
    if ipam_config is not None:
        config["ipamConfig"] = ipam_config
    return stack_from_config(name, config, file=f"stacks/Pulumi.{name}.yaml")


def live(config=None, labels=None, applied=None, blocks=()):
    obj = None
    if config is not None:
        annotations = {APPLIED_SPEC_ANNOTATION: applied_value(applied)} if applied else {}
        owner = "calico-ipam" if labels else "other"
        obj = LiveIpamConfig(config, frozen_map(labels or {}), frozen_map(annotations), owner,
                             (labels or {}).get("calico-ipam.io/stack"))
    return LiveState("test snapshot", ipam_config=config or IPAMConfig(),
                     ipam_config_object=obj, blocks=tuple(blocks))


STRICT_4 = IPAMConfig(strict_affinity=True, max_blocks_per_host=4)


def test_the_issues_cluster_is_no_longer_no_changes():
    """Issue 10: a live IPAMConfig of strictAffinity true, maxBlocksPerHost 4 and a stack
    declaring the defaults: plan updates ipamconfig/default in place, field by field."""
    plan = build_plan(stack(), live(STRICT_4))
    (change,) = plan.objects
    assert (change.address, change.action, change.adopt) == (
        "ipamconfig/default", Action.UPDATE, True)
    assert [(c.path, c.before, c.after) for c in change.changes] == [
        ("strictAffinity", True, False), ("maxBlocksPerHost", 4, 0)]
    assert plan.has_changes and not plan.errors
    text = render(PlanView(plan), "text")
    assert "# ipamconfig/default will be updated in-place" in text
    assert "~ strictAffinity   = true -> false" in text
    assert "No changes" not in text and "1 to change" in text


def test_plan_json_lists_the_ipamconfig_as_a_terraform_resource():
    doc = json.loads(render(PlanView(build_plan(stack(), live(STRICT_4))), "json"))
    unmarshal_plan(doc)  # what hashicorp/terraform-json accepts (tests/terraform_json.py)
    (entry,) = [c for c in doc["resource_changes"]
                if c["calico_ipam"]["address"] == "ipamconfig/default"]
    assert (entry["type"], entry["address"]) == ("calico_ipam_config",
                                                 'calico_ipam_config.ipamconfig["default"]')
    assert entry["change"]["actions"] == ["update"]
    assert entry["change"]["before"]["maxBlocksPerHost"] == 4
    assert entry["change"]["after"]["maxBlocksPerHost"] == 0


def test_no_config_in_the_cluster_is_a_create_and_equal_specs_are_no_changes():
    (created,) = build_plan(stack(), live()).objects
    assert created.action is Action.CREATE and created.after["autoAllocateBlocks"] is True
    same = build_plan(stack(), live(IPAMConfig(), OURS, IPAMConfig()))
    assert [c.action for c in same.objects] == [Action.NOOP]
    assert [c.name for c in same.changes] == ["web"]  # only the pool, which live lacks


def test_a_stack_without_ipamconfig_leaves_the_cluster_alone():
    assert build_plan(stack(None), live(STRICT_4)).objects == ()
    # one it owned and no longer declares is forgotten, never deleted (Calico would go
    # back to its defaults)
    (forgotten,) = build_plan(stack(None), live(STRICT_4, OURS, STRICT_4)).objects
    assert forgotten.action is Action.FORGET


def test_another_stacks_ipamconfig_is_refused():
    theirs = dict(OURS, **{"calico-ipam.io/stack": "prod"})
    plan = build_plan(stack(), live(STRICT_4, theirs, STRICT_4))
    (error,) = [f for f in plan.errors if f.rule == "CIP615"]
    assert "belongs to stack prod" in error.message


def test_a_lower_block_limit_than_nodes_hold_is_a_gate():
    """autoAssign stops claiming at the limit and returns ErrBlockLimit
    (libcalico-go lib/ipam/ipam.go:777-779, 791-796): a node already holding 4 blocks
    gets none with maxBlocksPerHost 4."""
    blocks = [LiveBlock(f"10.10.0.{64 * i}/26", "host:n1", 64, 1) for i in range(4)]
    plan = build_plan(stack({"strictAffinity": True, "maxBlocksPerHost": 4}),
                      live(IPAMConfig(), OURS, IPAMConfig(), blocks))
    (gate,) = [g for g in plan.gates if g.finding.rule == "CIP613"]
    assert "n1 (4 IPv4 blocks)" in gate.finding.message
    assert "--allow-disruption ipamconfig/default lifts this gate" in gate.finding.message
    assert plan.errors
    lifted = build_plan(stack({"strictAffinity": True, "maxBlocksPerHost": 4}),
                        live(IPAMConfig(), OURS, IPAMConfig(), blocks),
                        allow_disruption={"ipamconfig/default"})
    assert not [f for f in lifted.errors if f.rule == "CIP613"]


def test_turning_auto_allocation_off_is_a_gate():
    plan = build_plan(stack({"strictAffinity": True, "autoAllocateBlocks": False}),
                      live(IPAMConfig(), OURS, IPAMConfig()))
    assert [g.finding.rule for g in plan.gates] == ["CIP613"]


def config_drift(plan):
    return [i for i in plan.drift if i.address == "ipamconfig/default"]


def test_drift_compares_the_live_config_with_what_was_applied():
    """An owned IPAMConfig edited outside calico-ipam (calicoctl ipam configure) is drift;
    a pending edit of the stack file is not."""
    edited = drift_plan(stack(), live(STRICT_4, OURS, applied=IPAMConfig()))
    (item,) = config_drift(edited)
    assert item.address == "ipamconfig/default"
    assert {c.path for c in item.changes} == {"strictAffinity", "maxBlocksPerHost"}
    pending = build_plan(stack(), live(STRICT_4, OURS, applied=STRICT_4))
    assert config_drift(pending) == [] and pending.objects[0].action is Action.UPDATE
    assert config_drift(drift_plan(stack(), live(IPAMConfig(), OURS, applied=IPAMConfig()))) == []


def test_drift_on_main_reports_a_deleted_ipamconfig():
    (item,) = config_drift(drift_plan(stack(), live()))
    assert item.address == "ipamconfig/default" and "deleted outside calico-ipam" in item.message
