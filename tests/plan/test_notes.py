"""plan/notes.py: what a plan notes about live pools besides changes and gates."""
from __future__ import annotations

from dataclasses import replace

from plan_helpers import WEB, live, live_pool, stack

from ipam_model.core.model import Severity
from ipam_model.plan.build import build_plan, drift_plan


def rules(plan, rule):
    return [f for f in plan.findings if f.rule == rule]


def test_an_overlap_refuses_creates_but_not_in_place_updates():
    """Calico checks overlaps only on create (libcalico-go lib/clientv3/ippool.go
    validateAndSetDefaults: `if old == nil && !skipCIDROverlap`): an existing
    pool that overlaps another one can still be updated (e.g. disabled to fix
    the overlap), so calico-ipam warns instead of refusing."""
    s = stack({"web": dict(WEB, disabled=True)})
    stray = live_pool("stray", {"cidr": "10.10.0.0/25"}, "other")
    existing = build_plan(s, live([live_pool("web", WEB), stray]))
    [finding] = rules(existing, "CIP205")
    assert finding.severity is Severity.WARNING and not existing.errors
    assert "Calico, which checks overlaps only when a pool is created" in finding.message
    created = build_plan(s, live([stray]))
    assert [f.severity for f in rules(created, "CIP205")] == [Severity.ERROR]
    # the same name with another CIDR is a replacement: a create again
    moved = build_plan(stack({"web": {"cidr": "10.10.0.0/25", "blockSize": 26}}),
                       live([live_pool("web", {"cidr": "10.10.0.0/24", "blockSize": 26}),
                             live_pool("stray", {"cidr": "10.10.0.0/26"}, "other")]))
    assert [f.severity for f in rules(moved, "CIP205")] == [Severity.ERROR]


def test_allocatable_false_is_shown_unless_the_spec_explains_it():
    """kube-controllers sets Allocatable=False (reasons CIDROverlap,
    PoolDisabled, Terminating; kube-controllers/pkg/controllers/ippool/
    pool_controller.go:191-305) and filterIPPool skips such pools
    (libcalico-go lib/clientv3/client.go:221-239)."""
    overlap = ("CIDROverlap", "CIDR overlaps another pool; disabled to prevent IP allocation "
                              "conflicts.")
    pools = [live_pool("b-pool", {"cidr": "10.20.0.0/24"}, "other", not_allocatable=overlap),
             live_pool("off", {"cidr": "10.30.0.0/24", "disabled": True}, "other",
                       not_allocatable=("PoolDisabled", "IPPool.Spec.Disabled is true"))]
    plan = build_plan(stack({"web": WEB}), live(pools))
    [finding] = rules(plan, "CIP622")
    assert finding.subject == "pool/b-pool" and finding.severity is Severity.WARNING
    assert "Allocatable=False (CIDROverlap: CIDR overlaps another pool" in finding.message
    assert '"the given pool (10.20.0.0/24) does not exist, or is not enabled"' in finding.message
    # scheduled drift jobs see it too
    assert [f.rule for f in drift_plan(stack({"web": WEB}), live(pools)).findings] == ["CIP622"]


def test_a_live_selector_calico_cannot_parse_is_an_error():
    """determinePools returns the selector's parse error for every request
    without requested pools (libcalico-go lib/ipam/ipam.go:318-347, pools.go:36-66):
    every unannotated pod of that family fails, on every node."""
    bad = live_pool("z-pool", {"cidr": "10.40.0.0/24"}, "other")
    bad = replace(bad, spec=replace(bad.spec, node_selector="zone == 'a"))
    plan = build_plan(stack({"web": WEB}), live([bad]))
    [finding] = rules(plan, "CIP623")
    assert finding.is_error and plan.errors
    assert "nodeSelector \"zone == 'a\", which Calico cannot parse" in finding.message
    assert "asks for an IPv4 address" in finding.message
    # Calico skips Manual and disabled pools before parsing: no error
    for spec in (replace(bad.spec, assignment_mode="Manual"), replace(bad.spec, disabled=True)):
        assert not rules(build_plan(stack({"web": WEB}), live([replace(bad, spec=spec)])),
                         "CIP623")
    # a pool of this stack whose plan fixes the selector is fine once applied
    ours = live_pool("web", WEB)
    ours = replace(ours, spec=replace(ours.spec, node_selector="has(("))
    assert not rules(build_plan(stack({"web": WEB}), live([ours])), "CIP623")
