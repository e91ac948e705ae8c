"""plan/pools.py: whose pool it is, and a stored CIDR Calico would not accept again."""
from __future__ import annotations

from dataclasses import replace

from plan_helpers import live, live_pool, stack, used

from ipam_model.core.live_state import OWNER_OTHER, OWNER_TIGERA_OPERATOR
from ipam_model.plan.build import build_plan
from ipam_model.plan.model import Action

DEFAULT = {"cidr": "192.168.0.0/16", "ipipMode": "Always", "natOutgoing": True}


def test_declaring_a_manifest_install_pool_is_an_adoption_not_a_refusal():
    """calico-node's default-ipv4-ippool on a cluster without the operator (the
    reader listed no Installation): no CIP607, no advice about an Installation."""
    pool = live_pool("default-ipv4-ippool", DEFAULT, OWNER_OTHER)
    state = replace(live([pool]), installations=())
    plan = build_plan(stack({"default-ipv4-ippool": DEFAULT}), state)
    assert not plan.errors and [c.action for c in plan.pools] == [Action.NOOP]
    assert plan.pools[0].adopt
    assert not [f for f in plan.findings if f.rule in ("CIP607", "CIP620")]


def test_uncertain_ownership_is_a_warning_that_says_how_to_check():
    pool = replace(live_pool("default-ipv4-ippool", DEFAULT, OWNER_OTHER), owner_certain=False)
    plan = build_plan(stack({"default-ipv4-ippool": DEFAULT}), live([pool]))
    assert not plan.errors
    [warning] = [f for f in plan.findings if f.rule == "CIP620"]
    assert not warning.is_error
    assert ("kubectl get installations.operator.tigera.io default -o jsonpath="
            "'{.spec.calicoNetwork.ipPools[*].cidr}'") in warning.message
    assert "if it prints 192.168.0.0/16, the operator manages the pool" in warning.message


def test_an_operator_pool_is_refused_with_the_marker_that_says_so():
    pool = replace(live_pool("default-ipv4-ippool", DEFAULT, OWNER_TIGERA_OPERATOR),
                   owner_reason="label app.kubernetes.io/managed-by: tigera-operator")
    plan = build_plan(stack({"default-ipv4-ippool": DEFAULT}), live([pool]))
    [error] = [f for f in plan.errors if f.rule == "CIP607"]
    assert ("managed by the Tigera operator (label app.kubernetes.io/managed-by: "
            "tigera-operator)") in error.message


def test_a_non_canonical_stored_cidr_is_never_no_changes():
    """The IPPool CRD's CEL rule on spec.cidr is `self == oldSelf`
    (api/pkg/apis/projectcalico/v3/ippool.go:105, libcalico-go/config/crd/
    crd.projectcalico.org_ippools.yaml:83-92): it compares text, so applying the
    canonical fd00::/120 over a stored FD00:0:0:0::/120 is refused ("CIDR cannot
    be changed; follow IP pool migration guide to avoid corruption.")."""
    spec = {"cidr": "fd00::/120", "blockSize": 122}
    stored = replace(live_pool("v6", spec), stored_cidr="FD00:0:0:0::/120")
    plan = build_plan(stack({"v6": spec}), live([stored]))
    [change] = plan.pools
    assert change.action is Action.REPLACE
    assert [(c.path, c.before, c.after) for c in change.changes] == [
        ("cidr", "FD00:0:0:0::/120", "fd00::/120")]
    [note] = [f for f in plan.findings if f.rule == "CIP624"]
    assert "stores its CIDR as 'FD00:0:0:0::/120'" in note.message
    in_use = build_plan(stack({"v6": spec}), live([stored], usage={"v6": used(3)}))
    [gate] = [g for g in in_use.gates if g.finding.rule == "CIP601"]
    assert "the same network written differently" in gate.finding.message
