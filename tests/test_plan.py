"""The planner: change types, safety gates, migrations, drift (LiveState built directly)."""
from __future__ import annotations

import netaddr
import pytest
from hypothesis import given, settings, strategies as st

from ipam_model.calico import apply_defaults
from ipam_model.model import frozen_map
from ipam_model.plan import (Action, build_plan, drift, propose_temporary_cidr,
                             safety_findings)
from ipam_model.snapshot import LiveNamespace, LivePool, LiveState, PoolUsage
from ipam_model.stack import stack_from_config

OURS = {"app.kubernetes.io/managed-by": "calico-ipam", "calico-ipam.io/stack": "dev"}
V4 = "cni.projectcalico.org/ipv4pools"


def stack(pools, namespaces=None, **cluster):
    config = {"cluster": cluster, "pools": pools, "namespaces": namespaces or {}}
    return stack_from_config("dev", config, file="stacks/Pulumi.dev.yaml")


def live_pool(name, spec, owner="calico-ipam", stack_name="dev", **kw):
    labels = dict(OURS, **{"calico-ipam.io/stack": stack_name}) if owner == "calico-ipam" else {}
    return LivePool(name, apply_defaults(spec), frozen_map(labels), owner=owner,
                    owner_stack=stack_name if owner == "calico-ipam" else None, **kw)


def live(pools=(), namespaces=None, usage=None):
    return LiveState("test snapshot", pools=frozen_map({p.name: p for p in pools}),
                     namespaces=frozen_map({n: LiveNamespace(n, annotations=frozen_map(a))
                                            for n, a in (namespaces or {}).items()}),
                     usage=frozen_map(usage or {}))


def used(n, ns="web"):
    return PoolUsage(allocated=n, blocks=1, nodes=("node1",), by_namespace=frozen_map({ns: n}))


WEB = {"cidr": "10.10.0.0/24", "blockSize": 26}


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
    text = migration.as_text()
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
    assert "kubectl -n db rollout restart deployment" in gate.migration.as_text()


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


def test_disabling_a_bound_pool_is_refused():
    s = stack({"web": dict(WEB, disabled=True)}, {"web": {"ipv4Pools": ["web"]}})
    lv = live([live_pool("web", WEB)], {"web": {V4: '["web"]'}})
    plan = build_plan(s, lv)
    assert [f.rule for f in plan.errors] == ["CIP603"]
    assert build_plan(s, lv, allow_disruption={"web"}).errors == []


def test_binding_to_an_unusable_pool_leaves_namespace_without_pool():
    s = stack({"web": WEB}, {"web": {"ipv4Pools": ["legacy"]}})
    lv = live([live_pool("web", WEB), live_pool("legacy", {"cidr": "10.50.0.0/24",
                                                           "disabled": True}, "other")],
              {"web": {V4: '["web"]'}})
    plan = build_plan(s, lv)
    assert [f.rule for f in plan.errors] == ["CIP604"]
    assert "legacy" in plan.errors[0].message
    assert build_plan(s, lv, allow_disruption={"legacy"}).errors == []


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


def test_drift_reports_changed_pool_annotation_and_overlap():
    s = stack({"web": dict(WEB, natOutgoing=True)}, {"web": {"ipv4Pools": ["web"]}})
    lv = live([live_pool("web", WEB), live_pool("stray", {"cidr": "10.10.0.0/25"}, "other")],
              {"web": {V4: '["stray"]'}})
    items = {(d.address, d.kind) for d in drift(s, lv)}
    assert items == {("ippool/web", "changed"), ("namespace/web", "changed"),
                     ("ippool/web", "overlap")}
    assert drift(s, live([live_pool("web", dict(WEB, natOutgoing=True))],
                         {"web": {V4: '["web"]'}})) == []


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
