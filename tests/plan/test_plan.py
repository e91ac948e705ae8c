"""The planner: change types, safety gates, migrations, drift (LiveState built directly)."""
from __future__ import annotations

import json
from dataclasses import replace

import netaddr
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plan_helpers import V4, WEB, live, live_pool, stack, used

from ipam_model.calico.validate import apply_defaults
from ipam_model.core.model import Severity, frozen_map
from ipam_model.plan.build import build_plan
from ipam_model.plan.drift import drift
from ipam_model.plan.migrations import propose_temporary_cidr
from ipam_model.plan.model import BASELINE_APPLIED, BASELINE_STACK, Action
from ipam_model.views.manifests import APPLIED_SPEC_ANNOTATION
from ipam_model.views.plan.migration import migration_text
from ipam_model.views.plan.safety import safety_findings


def test_identical_pool_with_defaults_spelled_out_is_no_change():
    s = stack({"web": {"cidr": "10.10.0.0/24"}})
    spelled = {"cidr": "10.10.0.0/24", "blockSize": 26, "ipipMode": "Never", "vxlanMode": "",
               "nodeSelector": "all()", "allowedUses": ["Tunnel", "Workload"],
               "assignmentMode": "Automatic", "natOutgoing": False}
    plan = build_plan(s, live([live_pool("web", spelled)]))
    assert not plan.has_changes and not plan.errors
    assert [c.action for c in plan.pools] == [Action.NOOP]


def test_update_in_place_lists_only_changed_fields():
    s = stack({"web": dict(WEB, natOutgoing=True)})
    plan = build_plan(s, live([live_pool("web", WEB)], usage={"web": used(4)}))
    (change,) = plan.pools
    assert change.action is Action.UPDATE
    assert [(c.path, c.before, c.after) for c in change.changes] == [("natOutgoing", False, True)]
    assert change.unchanged == 9 and not plan.errors  # in use, but updating is safe


def test_block_size_change_on_unused_pool_is_a_replacement_without_error():
    s = stack({"web": dict(WEB, blockSize=28)})
    plan = build_plan(s, live([live_pool("web", WEB)]))
    (change,) = plan.pools
    assert change.action is Action.REPLACE and change.replace_paths == ("blockSize",)
    assert not plan.errors
    assert plan.summary == {"add": 1, "change": 0, "destroy": 1, "forget": 0}


def test_replacing_an_in_use_pool_is_refused_with_block_size_migration():
    s = stack({"web": dict(WEB, blockSize=28)}, {"web": {"ipv4Pools": ["web"]}},
              serviceCidrs=["10.96.0.0/12"], nodeCidrs=["10.0.0.0/24"])
    lv = live([live_pool("web", WEB), live_pool("other", {"cidr": "10.10.1.0/24"}, "other")],
              {"web": {V4: '["web"]'}}, {"web": used(12)})
    plan = build_plan(s, lv)
    (gate,) = plan.gates
    assert gate.finding.rule == "CIP601" and gate.finding.is_error
    migration = gate.migration
    assert migration.title == "change IP pool block size"
    temp = netaddr.IPNetwork(migration.temporary_cidr)
    assert temp.prefixlen == 24
    for taken in ("10.10.0.0/24", "10.10.1.0/24", "10.96.0.0/12", "10.0.0.0/24"):
        assert not (temp in netaddr.IPNetwork(taken) or netaddr.IPNetwork(taken) in temp)
    text = migration_text(migration)
    assert "kubectl -n web rollout restart deployment" in text
    assert "12 in web" in text
    assert "calicoctl ipam show --show-blocks" in text
    assert "calicoctl patch ippool web --patch" in text
    assert "kubectl annotate namespace web --overwrite" in text
    assert text.index("Create a temporary pool") < text.index("Disable web") \
        < text.index("Delete web")


def test_allow_disruption_lifts_exactly_the_named_pool():
    s = stack({"a": {"cidr": "10.1.0.0/24", "blockSize": 28},
               "b": {"cidr": "10.2.0.0/24", "blockSize": 28}})
    lv = live([live_pool("a", {"cidr": "10.1.0.0/24"}), live_pool("b", {"cidr": "10.2.0.0/24"})],
              usage={"a": used(3), "b": used(5)})
    assert {g.finding.subject for g in build_plan(s, lv).gates if not g.allowed} \
        == {"pool/a", "pool/b"}
    plan = build_plan(s, lv, allow_disruption={"a"})
    refused = [g.finding.subject for g in plan.gates if not g.allowed]
    allowed = [g.finding.subject for g in plan.gates if g.allowed]
    assert refused == ["pool/b"] and allowed == ["pool/a"]
    assert [f.subject for f in plan.errors] == ["pool/b"]
    assert [f.subject for f in safety_findings(s, lv, {"a", "b"})] == []


def test_delete_owned_undeclared_pool_and_gate_when_in_use():
    s = stack({"web": WEB}, retainOnDelete=False)
    lv = live([live_pool("web", WEB), live_pool("old", {"cidr": "10.20.0.0/24"})],
              usage={"old": used(7, "db")})
    plan = build_plan(s, lv)
    assert {c.name: c.action for c in plan.pools} == {"web": Action.NOOP, "old": Action.DELETE}
    (gate,) = plan.gates
    assert gate.finding.rule == "CIP602"
    assert "kubectl -n db rollout restart deployment" in migration_text(gate.migration)


def test_retain_on_delete_forgets_instead_of_deleting():
    s = stack({"web": WEB})
    plan = build_plan(s, live([live_pool("web", WEB), live_pool("old", {"cidr": "10.20.0.0/24"})],
                              usage={"old": used(7)}))
    assert {c.name: c.action for c in plan.pools}["old"] is Action.FORGET
    assert not plan.gates


def test_pools_of_others_are_listed_never_changed():
    s = stack({"web": WEB}, retainOnDelete=False)
    lv = live([live_pool("web", WEB), live_pool("prod-pool", {"cidr": "10.30.0.0/24"}, "calico-ipam",
                                                 "prod"),
               live_pool("default-ipv4-ippool", {"cidr": "192.168.0.0/16"}, "tigera-operator"),
               live_pool("manual", {"cidr": "10.40.0.0/24"}, "other")])
    plan = build_plan(s, lv)
    assert [c.name for c in plan.pools] == ["web"]
    assert [p.name for p in plan.unmanaged] == ["default-ipv4-ippool", "manual", "prod-pool"]
    assert {f.rule for f in plan.findings} == {"CIP606", "CIP607"}
    assert not plan.errors


def test_declaring_a_pool_owned_by_another_stack_is_an_error():
    s = stack({"prod-pool": {"cidr": "10.30.0.0/24"}})
    plan = build_plan(s, live([live_pool("prod-pool", {"cidr": "10.30.0.0/24"}, "calico-ipam",
                                         "prod")]))
    assert [f.rule for f in plan.errors] == ["CIP606"]


def test_disabling_a_bound_pool_is_refused_by_the_gate_and_by_check():
    s = stack({"web": dict(WEB, disabled=True)}, {"web": {"ipv4Pools": ["web"]}})
    lv = live([live_pool("web", WEB)], {"web": {V4: '["web"]'}})
    plan = build_plan(s, lv)
    assert [f.rule for f in plan.errors] == ["CIP404", "CIP603"]
    # --allow-disruption lifts the gate, never check's error: pulumi up runs check too.
    assert [f.rule for f in build_plan(s, lv, allow_disruption={"web"}).errors] == ["CIP404"]
    assert [f.rule for f in build_plan(s, lv, run_check=False).errors] == ["CIP603"]
    # The Pulumi program runs check itself: safety_findings stays the plan's own.
    assert [f.rule for f in safety_findings(s, lv)] == ["CIP603"]


def test_binding_to_an_unusable_pool_leaves_namespace_without_pool():
    s = stack({"web": WEB}, {"web": {"ipv4Pools": ["legacy"]}})
    lv = live([live_pool("web", WEB), live_pool("legacy", {"cidr": "10.50.0.0/24",
                                                           "disabled": True}, "other")],
              {"web": {V4: '["web"]'}})
    plan = build_plan(s, lv, run_check=False)
    assert [f.rule for f in plan.errors] == ["CIP604"]
    assert "legacy" in plan.errors[0].message
    assert build_plan(s, lv, allow_disruption={"legacy"}, run_check=False).errors == []
    # check refuses a binding to a pool the stack does not declare, whatever the gates say.
    assert [f.rule for f in build_plan(s, lv, allow_disruption={"legacy"}).errors] == ["CIP402"]


def test_binding_change_notes_existing_pods_keep_addresses():
    s = stack({"web": WEB, "new": {"cidr": "10.11.0.0/24"}}, {"web": {"ipv4Pools": ["new"]}})
    lv = live([live_pool("web", WEB), live_pool("new", {"cidr": "10.11.0.0/24"})],
              {"web": {V4: '["web"]'}}, {"web": used(9)})
    plan = build_plan(s, lv)
    (ns,) = plan.namespaces
    assert ns.action is Action.UPDATE and ns.pods == 9
    (note,) = [f for f in plan.findings if f.rule == "CIP608"]
    assert "9 existing pods keep their addresses until restarted" in note.message


def test_bound_namespace_missing_is_an_error():
    plan = build_plan(stack({"web": WEB}, {"web": {"ipv4Pools": ["web"]}}),
                      live([live_pool("web", WEB)]))
    assert [f.rule for f in plan.errors] == ["CIP605"]


def test_invalid_live_annotation_is_flagged_and_overwritten():
    s = stack({"web": WEB}, {"web": {"ipv4Pools": ["web"]}})
    plan = build_plan(s, live([live_pool("web", WEB)], {"web": {V4: "[web]"}}))
    (ns,) = plan.namespaces
    assert ns.action is Action.UPDATE and ns.changes[0].before == "[web]"
    assert any(f.rule == "CIP609" for f in plan.findings)
    assert [d.kind for d in plan.drift] == ["invalid"]


def test_unbound_namespace_with_only_our_pools_is_unannotated():
    s = stack({"web": WEB})
    plan = build_plan(s, live([live_pool("web", WEB)], {"web": {V4: '["web"]'},
                                                         "team": {V4: '["theirs"]'}}))
    assert [(n.namespace, n.action) for n in plan.namespaces] == [("web", Action.DELETE)]


def test_drift_in_ci_without_records_compares_with_the_stack():
    s = stack({"web": dict(WEB, natOutgoing=True)}, {"web": {"ipv4Pools": ["web"]}})
    lv = live([live_pool("web", WEB), live_pool("stray", {"cidr": "10.10.0.0/25"}, "other")],
              {"web": {V4: '["stray"]'}})
    items = {(d.address, d.kind, d.baseline) for d in drift(s, lv, stack_is_applied=True)}
    assert items == {("ippool/web", "changed", BASELINE_STACK),
                     ("namespace/web", "changed", BASELINE_STACK),
                     ("ippool/web", "overlap", BASELINE_STACK)}
    assert drift(s, live([live_pool("web", dict(WEB, natOutgoing=True))],
                         {"web": {V4: '["web"]'}}), stack_is_applied=True) == []
    # plan: without a record nothing is known; the differences are proposed changes
    # and the overlap is CIP205, a warning: web exists already and is updated in
    # place, and Calico checks overlaps only on create.
    assert drift(s, lv) == []
    plan = build_plan(s, lv)
    assert not plan.drift and [f.severity for f in plan.findings if f.rule == "CIP205"] == [
        Severity.WARNING]


# --------------------------------------------------------------------------- drift vs pending edits

@pytest.mark.parametrize("edit", [{"blockSize": 28}, {"natOutgoing": True},
                                  {"blockSize": 28, "natOutgoing": True}])
def test_editing_the_stack_is_a_proposed_change_never_drift(edit):
    s = stack({"web": dict(WEB, **edit)})
    lv = live([live_pool("web", WEB, applied=WEB)])
    plan = build_plan(s, lv)
    (change,) = plan.pools
    assert {c.path: (c.before, c.after) for c in change.changes} == {
        k: (apply_defaults(WEB).to_calico()[k], v) for k, v in edit.items()}
    assert plan.drift == () and drift(s, lv, stack_is_applied=True) == []


def test_edit_outside_calico_ipam_is_drift_against_the_applied_spec():
    # calicoctl patch ippool web --patch '{"spec": {"natOutgoing": false}}'
    declared = dict(WEB, natOutgoing=True)
    s = stack({"web": declared})
    lv = live([live_pool("web", WEB, applied=declared)])
    plan = build_plan(s, lv)
    (item,) = plan.drift
    assert (item.address, item.kind, item.baseline) == ("ippool/web", "changed", BASELINE_APPLIED)
    assert [(c.path, c.before, c.after) for c in item.changes] == [("natOutgoing", True, False)]
    assert "(applied -> live)" in item.message and item.finding.rule == "CIP611"
    (change,) = plan.pools  # and pulumi up would put it back
    assert change.action is Action.UPDATE
    assert drift(s, lv, stack_is_applied=True) == list(plan.drift)


def test_edit_outside_and_pending_edit_are_told_apart():
    # Applied blockSize 26 with natOutgoing true; the user now declares blockSize 28,
    # while someone turned natOutgoing off by hand.
    applied = dict(WEB, natOutgoing=True)
    s = stack({"web": dict(applied, blockSize=28)})
    lv = live([live_pool("web", WEB, applied=applied)])
    plan = build_plan(s, lv)
    (item,) = plan.drift
    assert [c.path for c in item.changes] == ["natOutgoing"]
    (change,) = plan.pools
    assert {c.path for c in change.changes} == {"blockSize", "natOutgoing"}


def test_applied_spec_defaults_and_order_are_not_drift():
    applied = {"cidr": "10.10.0.0/24", "allowedUses": ["Tunnel", "Workload"]}  # defaults left out
    s = stack({"web": WEB})
    lv = live([live_pool("web", dict(WEB, vxlanMode="", nodeSelector="all()"),
                         applied=applied)])
    assert build_plan(s, lv).drift == ()


@pytest.mark.parametrize("raw,words", [
    ("{not json", "is not valid JSON"),
    ('["10.10.0.0/24"]', "is not a JSON object"),
    ('{"cidr": "10.10.0.0/24", "blockSize": "26"}', "blockSize must be an integer"),
])
def test_unreadable_applied_spec_is_drift(raw, words):
    s = stack({"web": WEB})
    lv = live([live_pool("web", WEB, applied=raw)])
    for items in (build_plan(s, lv).drift, drift(s, lv, stack_is_applied=True)):
        (item,) = items
        assert item.kind == "invalid" and item.address == "ippool/web"
        assert words in item.message and APPLIED_SPEC_ANNOTATION in item.message
        assert "edited outside calico-ipam" in item.message


def test_pool_without_record_is_unknown_to_plan_and_compared_with_stack_by_drift():
    s = stack({"web": dict(WEB, natOutgoing=True)})
    lv = live([live_pool("web", WEB)])
    assert build_plan(s, lv).drift == ()
    (item,) = drift(s, lv, stack_is_applied=True)
    assert item.baseline == BASELINE_STACK and item.kind == "changed"
    assert [(c.path, c.before, c.after) for c in item.changes] == [("natOutgoing", True, False)]
    assert "(stack -> live)" in item.message and APPLIED_SPEC_ANNOTATION in item.message


def test_missing_declared_pool_is_a_create_for_plan_and_drift_in_ci():
    s = stack({"web": WEB})
    plan = build_plan(s, live())
    assert plan.drift == () and [c.action for c in plan.pools] == [Action.CREATE]
    (item,) = drift(s, live(), stack_is_applied=True)
    assert (item.address, item.kind) == ("ippool/web", "deleted")


def test_changed_binding_is_a_proposed_change_for_plan_and_drift_in_ci():
    s = stack({"web": WEB, "new": {"cidr": "10.11.0.0/24"}}, {"web": {"ipv4Pools": ["new"]}})
    lv = live([live_pool("web", WEB, applied=WEB),
               live_pool("new", {"cidr": "10.11.0.0/24"}, applied={"cidr": "10.11.0.0/24"})],
              {"web": {V4: '["web"]'}})
    plan = build_plan(s, lv)
    assert plan.drift == () and [n.action for n in plan.namespaces] == [Action.UPDATE]
    assert [(d.address, d.kind) for d in drift(s, lv, stack_is_applied=True)] == [
        ("namespace/web", "changed")]


def test_live_overlap_is_an_error_of_the_plan_and_of_the_safety_check():
    s = stack({"web": WEB})
    lv = live([live_pool("stray", {"cidr": "10.10.0.128/25"}, "other")])
    assert [f.rule for f in build_plan(s, lv).errors] == ["CIP205"]
    assert [f.rule for f in safety_findings(s, lv)] == ["CIP205"]


@settings(max_examples=60, deadline=None)
@given(taken=st.lists(st.tuples(st.integers(0, 255), st.integers(22, 28)), max_size=12),
       prefix=st.integers(22, 26))
def test_temporary_cidr_overlaps_nothing_and_is_first_free(taken, prefix):
    # A small world: only 10.0.0.0/16 candidates matter when we fill 10.0.0.0/8's start.
    cidrs = [str(netaddr.IPNetwork(f"10.0.{third}.0/{p}").cidr) for third, p in taken]
    got = propose_temporary_cidr(prefix, 4, cidrs)
    used = netaddr.IPSet(cidrs)
    net = netaddr.IPNetwork(got)
    assert net.prefixlen == prefix and not (netaddr.IPSet([net]) & used)
    # Brute force: no aligned free /prefix in 10.0.0.0/8 comes before it.
    for candidate in netaddr.IPNetwork("10.0.0.0/16").subnet(prefix):
        if candidate.first >= net.first:
            break
        assert netaddr.IPSet([candidate]) & used


# --------------------------------------------------------------------------- the CLI, end to end

import shutil  # noqa: E402

import yaml  # noqa: E402
from paths import ROOT

from ipam_model.cli import main
from ipam_model.declared.files import load_stack
from ipam_model.views.manifests import render_stack, to_yaml

DEV_STACK = ROOT / "stacks" / "Pulumi.dev.yaml"


def applied_dev(tmp_path, edit_live=None):
    """stacks/ with the dev stack, and a snapshot of a cluster where it was applied
    (its render output, as pulumi up writes it), optionally edited by hand."""
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    shutil.copy(DEV_STACK, stacks / "Pulumi.dev.yaml")
    docs = render_stack(load_stack(stacks / "Pulumi.dev.yaml", "dev"))
    for doc in docs:
        if edit_live is not None and doc["kind"] == "IPPool":
            edit_live(doc)
    snapshot = tmp_path / "live.yaml"
    snapshot.write_text(to_yaml(docs))
    return stacks, snapshot


def edit_stack(stacks, old, new):
    path = stacks / "Pulumi.dev.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def run_cli(capsys, command, stacks, snapshot, *extra):
    code = main([command, "--stack", "dev", "--stacks", str(stacks), "--snapshot",
                 str(snapshot), *extra])
    return code, capsys.readouterr().out


@pytest.mark.parametrize("old,new,shown", [
    ("blockSize: 29", "blockSize: 28", "~ blockSize = 29 -> 28 # forces replacement"),
    ("natOutgoing: true", "natOutgoing: false", "~ natOutgoing = true -> false"),
])
def test_cli_stack_edit_is_planned_not_drift(tmp_path, capsys, old, new, shown):
    stacks, snapshot = applied_dev(tmp_path)
    code, out = run_cli(capsys, "plan", stacks, snapshot, "--detailed-exitcode")
    assert code == 0 and "No changes. The cluster matches stack dev: 2 pools" in out
    edit_stack(stacks, old, new)
    code, out = run_cli(capsys, "plan", stacks, snapshot, "--detailed-exitcode")
    assert code == 2
    assert shown in out and "ippool/external-pool" in out
    assert "changed outside" not in out
    code, out = run_cli(capsys, "drift", stacks, snapshot)
    assert code == 0 and "No drift. The cluster matches stack dev." in out
    code, out = run_cli(capsys, "drift", stacks, snapshot, "--format", "markdown")
    assert code == 0 and out.startswith("## calico-ipam drift: stack `dev` (no drift)\n")


def _patch_nat_off(doc):
    if doc["metadata"]["name"] == "external-pool":
        doc["spec"]["natOutgoing"] = False  # calicoctl patch: the record stays


def test_cli_edit_outside_calico_ipam_is_drift_in_plan_and_drift(tmp_path, capsys):
    stacks, snapshot = applied_dev(tmp_path, _patch_nat_off)
    code, out = run_cli(capsys, "plan", stacks, snapshot)
    assert code == 0
    drift_part, _, actions = out.partition("calico-ipam will perform the following actions:")
    assert "Objects changed outside of calico-ipam:" in drift_part
    assert "# ippool/external-pool has changed" in drift_part
    assert "~ natOutgoing = true -> false" in drift_part
    assert "~ natOutgoing = false -> true" in actions  # pulumi up puts it back
    code, out = run_cli(capsys, "drift", stacks, snapshot)
    assert code == 2
    assert "calico-ipam drift: stack dev" in out and "# ippool/external-pool has changed" in out
    assert out.rstrip().endswith("Drift: 1 object changed outside calico-ipam.")
    code, out = run_cli(capsys, "drift", stacks, snapshot, "--format", "markdown")
    assert code == 2 and out.startswith("## calico-ipam drift: stack `dev` (drift)\n")
    assert "**Drift: 1 object changed outside calico-ipam.**" in out
    code, out = run_cli(capsys, "drift", stacks, snapshot, "--format", "json")
    (item,) = json.loads(out)["resource_drift"]
    assert item["calico_ipam"]["baseline"] == "applied-spec"
    assert item["calico_ipam"]["changes"] == [{"path": "natOutgoing", "applied": True,
                                               "live": False}]
    assert item["change"]["actions"] == ["update"]
    assert (item["change"]["before"], item["change"]["after"]) == ({"natOutgoing": True},
                                                                   {"natOutgoing": False})


def test_cli_pool_without_record_plan_shows_no_drift_drift_compares_with_stack(tmp_path, capsys):
    def older_calico_ipam(doc):
        doc["metadata"].pop("annotations")
        _patch_nat_off(doc)
    stacks, snapshot = applied_dev(tmp_path, older_calico_ipam)
    code, out = run_cli(capsys, "plan", stacks, snapshot, "--detailed-exitcode")
    assert code == 2 and "changed outside" not in out
    assert "~ natOutgoing = false -> true" in out
    code, out = run_cli(capsys, "drift", stacks, snapshot)
    assert code == 2
    assert "# ippool/external-pool has changed" in out
    assert "compared with the stack file" in out and "~ natOutgoing = true -> false" in out


@pytest.mark.parametrize("old,new,rule,where", [
    ("blockSize: 29", "blockSize: 33", "CIP104",
     "Pulumi.dev.yaml:20: config.calico-ipam:pools.external-pool.blockSize"),
    ("natOutgoing: true\n", "natOutgoing: true\n      disabled: true\n", "CIP404",
     "Pulumi.dev.yaml:33: config.calico-ipam:namespaces.external-ns.ipv4Pools[0]"),
])
def test_cli_plan_is_refused_by_check_errors(tmp_path, capsys, old, new, rule, where):
    stacks, snapshot = applied_dev(tmp_path)
    edit_stack(stacks, old, new)
    code, out = run_cli(capsys, "plan", stacks, snapshot)
    assert code == 1
    assert f"Error: {rule} " in out and where in out
    assert "pulumi up would stop before changing anything." in out
    code, out = run_cli(capsys, "plan", stacks, snapshot, "--format", "json")
    assert rule in [e["rule"] for e in json.loads(out)["calico_ipam"]["errors"]]


def test_cli_plan_checks_routing_domain_against_loadable_siblings(tmp_path, capsys):
    stacks, snapshot = applied_dev(tmp_path)
    (stacks / "Pulumi.broken.yaml").write_text("config: [not, a, mapping\n")
    code, out = run_cli(capsys, "plan", stacks, snapshot)
    assert code == 0, out  # a sibling that does not load is skipped
    (stacks / "Pulumi.lab2.yaml").write_text(
        "config:\n  calico-ipam:cluster:\n    routingDomain: lab\n"
        "  calico-ipam:pools:\n    other:\n      cidr: 172.16.0.0/24\n")
    code, out = run_cli(capsys, "plan", stacks, snapshot)
    assert code == 1 and "lab2" in out


def test_declared_pool_labels_and_annotations_missing_live_are_an_update():
    # pulumi up sets the labels and annotations declared under metadata:, so a
    # plan that says "No changes" while they are missing from the cluster lies.
    s = stack({"web": {"cidr": "10.10.0.0/24",
                       "metadata": {"labels": {"team": "net"},
                                    "annotations": {"owner": "net@example.com"}}}})
    bare = live_pool("web", {"cidr": "10.10.0.0/24"}, applied={"cidr": "10.10.0.0/24"})
    plan = build_plan(s, live([bare]))
    (change,) = plan.pools
    assert change.action is Action.UPDATE and plan.has_changes
    assert {(c.path, c.before, c.after) for c in change.changes} == {
        ("metadata.labels.team", None, "net"),
        ("metadata.annotations.owner", None, "net@example.com")}
    assert not any(c.forces_replacement for c in change.changes)
    # once applied: no change; a label the stack does not declare is left alone
    labelled = replace(bare, labels=frozen_map(dict(bare.labels, team="net", other="x")),
                       annotations=frozen_map(dict(bare.annotations, owner="net@example.com")))
    assert [c.action for c in build_plan(s, live([labelled])).pools] == [Action.NOOP]


def test_cli_drift_never_speaks_of_planned_changes(tmp_path, capsys):
    # drift's own verdict only: "No changes planned." and a "calico-ipam plan"
    # summary annotation contradicted "Drift: 1 object changed" in the same run.
    stacks, snapshot = applied_dev(tmp_path, _patch_nat_off)
    code, out = run_cli(capsys, "drift", stacks, snapshot)
    assert code == 2 and "planned" not in out and "Plan:" not in out
    code, out = run_cli(capsys, "drift", stacks, snapshot, "--format", "github")
    assert code == 2 and "planned" not in out and "calico-ipam plan" not in out
    assert out.rstrip().split("\n")[-1] == (
        "::notice title=calico-ipam drift dev::Drift: 1 object changed outside calico-ipam.")
    (tmp_path / "clean").mkdir()
    stacks, snapshot = applied_dev(tmp_path / "clean")
    code, out = run_cli(capsys, "drift", stacks, snapshot, "--format", "github")
    assert code == 0 and out.rstrip().split("\n")[-1] == (
        "::notice title=calico-ipam drift dev::No drift. The cluster matches stack dev.")
    # a bound namespace deleted from the cluster (CIP605) is drift as well
    docs = [d for d in yaml.safe_load_all(snapshot.read_text())
            if d["metadata"]["name"] != "internal-ns"]
    snapshot.write_text(yaml.safe_dump_all(docs))
    code, out = run_cli(capsys, "drift", stacks, snapshot)
    assert code == 2 and "planned" not in out
    assert out.rstrip().endswith("Drift: 1 object changed outside calico-ipam.")


def test_cli_allow_disruption_of_an_unknown_pool_is_flagged(tmp_path, capsys):
    # --allow-disruption externl-pool (typo) lifted nothing and said nothing:
    # the operator believes the override is in place.
    stacks, snapshot = applied_dev(tmp_path)
    code = main(["plan", "--stack", "dev", "--stacks", str(stacks), "--snapshot", str(snapshot),
                 "--allow-disruption", "externl-pool", "--allow-disruption", "external-pool"])
    err = capsys.readouterr().err
    assert code == 0
    assert "externl-pool" in err and "neither declared in stack dev nor in the cluster" in err
    assert "'external-pool'" not in err and "--allow-disruption external-pool:" not in err


@pytest.mark.parametrize("command", ["drift", "plan"])
@pytest.mark.parametrize("problem", ["empty-snapshot", "missing-stack", "unknown-flag"])
def test_cli_bad_input_never_exits_2_where_2_means_drift_or_changes(tmp_path, capsys, command,
                                                                    problem):
    # drift: 0 none, 1 error, 2 drift; plan --detailed-exitcode: 2 changes.
    # A typo'd flag or an empty snapshot exited 2, which a nightly job reads as drift.
    stacks, snapshot = applied_dev(tmp_path)
    argv = [command, "--stack", "dev", "--stacks", str(stacks), "--snapshot", str(snapshot)]
    if command == "plan":
        argv.append("--detailed-exitcode")
    if problem == "empty-snapshot":
        snapshot.write_text("")
    elif problem == "missing-stack":
        argv[2] = "nope"
    else:
        argv.append("--snapshto")
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's way out
        code = exc.code
    assert code == 1
    err = capsys.readouterr().err
    assert "error" in err and "Traceback" not in err


def test_v3_stack_against_a_cluster_serving_only_crd_v1_is_refused():
    """pulumi up would fail with "no matches for kind IPPool": say so before it runs."""
    cluster = replace(live([live_pool("web", WEB, applied=WEB)]), calico_api="crd.projectcalico.org/v1")
    plan = build_plan(stack({"web": WEB}), cluster)
    (error,) = [f for f in plan.errors if f.rule == "CIP612"]
    assert "serves only crd.projectcalico.org/v1" in error.message
    assert "calicoApi: crd.projectcalico.org/v1" in error.message
    assert error.location.yaml_path == "config.calico-ipam:cluster.calicoApi"


def test_api_inferred_from_kubectl_output_is_only_a_warning():
    cluster = replace(live([live_pool("web", WEB, applied=WEB)]),
                      calico_api="crd.projectcalico.org/v1", calico_api_inferred=True)
    plan = build_plan(stack({"web": WEB}), cluster)
    assert not [f for f in plan.errors if f.rule == "CIP612"]
    (warning,) = [f for f in plan.findings if f.rule == "CIP612"]
    assert warning.severity == "warning" and "if the cluster has no Calico API server" in warning.message


def test_crd_v1_stack_against_a_v3_cluster_warns_about_bypassed_validation():
    plan = build_plan(stack({"web": WEB}, calicoApi="crd.projectcalico.org/v1"),
                      live([live_pool("web", WEB, applied=WEB)]))
    (warning,) = [f for f in plan.findings if f.rule == "CIP612"]
    assert warning.severity == "warning" and "bypass" in warning.message
    assert not plan.errors


def test_matching_api_gives_no_api_finding():
    plan = build_plan(stack({"web": WEB}), live([live_pool("web", WEB, applied=WEB)]))
    assert not [f for f in plan.findings if f.rule == "CIP612"]
