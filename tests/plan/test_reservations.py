"""ipreservation/<name> in plan and drift (issue 10, point 3)."""
import dataclasses
import json

from terraform_json import unmarshal_plan

from ipam_model.calico.ipreservation import read_reserved_cidrs
from ipam_model.core.live_state import LiveBlock, LiveReservation, LiveState
from ipam_model.core.model import APPLIED_SPEC_ANNOTATION, frozen_map
from ipam_model.declared.build import stack_from_config
from ipam_model.plan.build import build_plan, drift_plan
from ipam_model.plan.model import Action
from ipam_model.views.plan import PlanView, render

OURS = {"app.kubernetes.io/managed-by": "calico-ipam", "calico-ipam.io/stack": "dev"}
POOLS = {"web": {"cidr": "10.10.0.0/24", "blockSize": 26}}


def stack(reservations, retain=True):
    return stack_from_config("dev", {"cluster": {"retainOnDelete": retain}, "pools": POOLS,
                                     "reservations": reservations},
                             file="stacks/Pulumi.dev.yaml")


def reservation(name, cidrs, labels=None, applied=None):
    spec, invalid = read_reserved_cidrs(cidrs)
    annotations = ({APPLIED_SPEC_ANNOTATION: json.dumps({"reservedCIDRs": sorted(applied)})}
                   if applied is not None else {})
    return LiveReservation(name, spec, invalid, frozen_map(labels or {}),
                           frozen_map(annotations), "calico-ipam" if labels else "other",
                           (labels or {}).get("calico-ipam.io/stack"))


def live(*reservations, blocks=()):
    return LiveState("test snapshot", reservations=frozen_map({r.name: r for r in reservations}),
                     blocks=tuple(blocks))


def objects(plan):
    return [(c.address, c.action) for c in plan.objects]


def test_create_update_and_no_change_compare_canonical_networks_as_a_set():
    """reservedCIDRs is a set (x-kubernetes-list-type: set): order is no change, and a
    stored bare address is its /32 (libcalico-go lib/ipam/reserved.go:94-115)."""
    gw = {"gw": {"reservedCIDRs": ["10.10.0.2/32", "10.10.0.1/32"]}}
    assert objects(build_plan(stack(gw), live())) == [("ipreservation/gw", Action.CREATE)]
    same = build_plan(stack(gw), live(reservation("gw", ["10.10.0.1", "10.10.0.2/32"], OURS)))
    assert objects(same) == [("ipreservation/gw", Action.NOOP)]
    more = build_plan(stack({"gw": {"reservedCIDRs": ["10.10.0.1/32", "10.10.0.2/32",
                                                      "10.10.0.3/32"]}}),
                      live(reservation("gw", ["10.10.0.1/32", "10.10.0.2/32"], OURS)))
    (change,) = more.objects
    assert change.action is Action.UPDATE and not more.errors
    assert change.changes[0].after == ["10.10.0.1/32", "10.10.0.2/32", "10.10.0.3/32"]


def test_releasing_reserved_addresses_is_a_gate():
    """Reserving blocks only new allocations; releasing lets Calico hand the addresses to
    pods while whatever they were reserved for still uses them (CIP614)."""
    fewer = build_plan(stack({"gw": {"reservedCIDRs": ["10.10.0.1/32"]}}),
                       live(reservation("gw", ["10.10.0.1/32", "10.10.0.2/32"], OURS)))
    (gate,) = fewer.gates
    assert gate.finding.rule == "CIP614" and "10.10.0.2/32 of reservation gw" in gate.finding.message
    assert "--allow-disruption ipreservation/gw lifts this gate" in gate.finding.message
    assert not build_plan(stack({"gw": {"reservedCIDRs": ["10.10.0.1/32"]}}),
                          live(reservation("gw", ["10.10.0.1/32", "10.10.0.2/32"], OURS)),
                          allow_disruption={"ipreservation/gw"}).errors
    deleted = build_plan(stack({}, retain=False), live(reservation("gw", ["10.10.0.2/32"], OURS)))
    assert objects(deleted) == [("ipreservation/gw", Action.DELETE)]
    assert [g.finding.rule for g in deleted.gates] == ["CIP614"]
    kept = build_plan(stack({}), live(reservation("gw", ["10.10.0.2/32"], OURS)))
    assert objects(kept) == [("ipreservation/gw", Action.FORGET)] and not kept.gates


def test_a_reservation_nobody_declares_is_listed_and_left_alone():
    """Calico honours every IPReservation of the cluster (lib/ipam/ipam.go:2607-2632)."""
    plan = build_plan(stack({}), live(reservation("vip", ["10.10.0.9/32", "junk"])))
    assert plan.objects == ()
    (note,) = [f for f in plan.findings if f.rule == "CIP616"]
    assert "live IPReservation vip (10.10.0.9/32)" in note.message
    assert "Calico ignores its entries [\"junk\"]" in note.message


def test_adoption_and_another_stacks_reservation():
    adopted = build_plan(stack({"gw": {"reservedCIDRs": ["10.10.0.1/32"]}}),
                         live(reservation("gw", ["10.10.0.1/32"])))
    assert [(c.action, c.adopt) for c in adopted.objects] == [(Action.NOOP, True)]
    theirs = dict(OURS, **{"calico-ipam.io/stack": "prod"})
    refused = build_plan(stack({"gw": {"reservedCIDRs": ["10.10.0.1/32"]}}),
                         live(reservation("gw", ["10.10.0.1/32"], theirs)))
    assert [f.rule for f in refused.errors] == ["CIP615"]


def test_a_new_reservation_over_allocated_blocks_is_a_note():
    """"Reservations only block new allocations, they do not cause existing IP allocations
    to be released" (api/pkg/apis/projectcalico/v3/ipreservation.go:33-35)."""
    plan = build_plan(stack({"gw": {"reservedCIDRs": ["10.10.0.0/30"]}}),
                      live(blocks=[LiveBlock("10.10.0.0/26", "host:n1", 64, 5)]))
    (note,) = [f for f in plan.findings if f.rule == "CIP617"]
    assert "1 IPAM block holding 5 allocated addresses" in note.message


def test_plan_text_and_json_show_the_reservation():
    plan = build_plan(stack({"gw": {"reservedCIDRs": ["10.10.0.1/32"]}}), live())
    assert '+ ipreservation "gw"' in render(PlanView(plan), "text")
    doc = json.loads(render(PlanView(plan), "json"))
    unmarshal_plan(doc)  # what hashicorp/terraform-json accepts (tests/terraform_json.py)
    (entry,) = [c for c in doc["resource_changes"]
                if c["calico_ipam"]["address"] == "ipreservation/gw"]
    assert entry["type"] == "calico_ipreservation"
    assert entry["change"]["actions"] == ["create"]
    assert entry["change"]["after"] == {"reservedCIDRs": ["10.10.0.1/32"]}


def test_drift_of_an_owned_reservation_edited_outside_calico_ipam():
    edited = drift_plan(stack({"gw": {"reservedCIDRs": ["10.10.0.1/32"]}}),
                        live(reservation("gw", ["10.10.0.1/32", "10.10.0.7/32"], OURS,
                                         applied=["10.10.0.1/32"])))
    (item,) = [i for i in edited.drift if i.address == "ipreservation/gw"]
    assert item.changes[0].before == ["10.10.0.1/32"]
    assert item.changes[0].after == ["10.10.0.1/32", "10.10.0.7/32"]


def test_a_hostile_applied_record_is_reported_not_a_crash():
    """The record is cluster input: deep nesting (RecursionError in the standard decoder)
    and non-JSON go through the one bounded decoder and become one drift line."""
    for raw, words in (("[" * 5000 + "]" * 5000, "is not valid JSON"),
                       ("{not json", "is not valid JSON"),
                       ("[1]", "is not a JSON object"),
                       ('{"reservedCIDRs": 3}', "is not an IPReservation spec")):
        hostile = dataclasses.replace(reservation("gw", ["10.10.0.1/32"], OURS),
                                      annotations=frozen_map({APPLIED_SPEC_ANNOTATION: raw}))
        edited = drift_plan(stack({"gw": {"reservedCIDRs": ["10.10.0.1/32"]}}), live(hostile))
        (item,) = [i for i in edited.drift if i.address == "ipreservation/gw"]
        assert words in item.message and "edited outside calico-ipam" in item.message
