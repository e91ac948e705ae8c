"""Calico's defaults on write and on read, derived from the field table, as one answer.

Declared specs (apply_defaults, after validate_pool) and stored specs
(read_spec, as a snapshot or a cluster holds them) go through the same
per-field readers: a property test feeds random specs of valid values to both
and to ``minimal``, which must round-trip through apply_defaults.
Defaults: reference calico-ippool-rules.md §1 (clientv3 validateAndSetDefaults,
convertIpPoolFromStorage).
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipam_model.calico.ippool import (
    FieldError,
    applied_spec_value,
    apply_defaults,
    comparable,
    decode_applied_spec,
    forces_replacement,
    migration_fields,
    minimal,
    read_spec,
)
from ipam_model.calico.validate import validate_pool

SPECS = st.fixed_dictionaries({"cidr": st.sampled_from(["10.0.0.0/16", "fd00:10::/64"])}, optional={
    "blockSize": st.sampled_from([0, 26, 28]),
    "ipipMode": st.sampled_from(["", "Never", "CrossSubnet"]),
    "vxlanMode": st.sampled_from(["", "Never", "Always"]),
    "natOutgoing": st.booleans(), "disabled": st.booleans(), "disableBGPExport": st.booleans(),
    "nodeSelector": st.sampled_from(["", "all()", "zone == 'a'"]),
    "allowedUses": st.sampled_from([[], ["Workload"], ["Tunnel", "Workload"]]),
    "assignmentMode": st.sampled_from(["Automatic", "Manual"]),
})


@settings(max_examples=300, deadline=None)
@given(spec=SPECS)
def test_declared_and_stored_readings_agree_and_minimal_round_trips(spec):
    if spec["cidr"].startswith("fd") and spec.get("blockSize") in (26, 28):
        spec["blockSize"] = 122
    if spec["cidr"].startswith("fd"):
        spec["ipipMode"] = "Never"
    if any(f.is_error for f in validate_pool("p", spec)):
        return
    declared = apply_defaults(spec)
    assert read_spec(spec) == declared
    # minimal leaves out what means the default to Calico (allowedUses is a set)
    assert comparable(apply_defaults(minimal(declared))) == comparable(declared)
    assert decode_applied_spec(applied_spec_value(declared)) == (declared, None)


def test_stored_booleans_may_be_strings_as_crd_v1_keeps_them():
    assert read_spec({"cidr": "10.0.0.0/16", "natOutgoing": "True"}).nat_outgoing is True
    with pytest.raises(FieldError) as err:
        read_spec({"cidr": "10.0.0.0/16", "natOutgoing": "yes"})
    assert err.value.path == ("natOutgoing",)


def test_allowed_uses_compare_as_a_set_and_load_balancer_is_left_only_by_replacement():
    a = apply_defaults({"cidr": "10.0.0.0/16", "allowedUses": ["Workload", "Tunnel"]})
    b = apply_defaults({"cidr": "10.0.0.0/16", "allowedUses": ["Tunnel", "Workload"]})
    assert comparable(a) == comparable(b)
    assert forces_replacement("cidr", "10.0.0.0/16", "10.1.0.0/16")
    assert forces_replacement("allowedUses", ["LoadBalancer"], ["Workload"])
    assert not forces_replacement("allowedUses", ["Workload"], ["Workload", "Tunnel"])
    assert not forces_replacement("natOutgoing", False, True)


def test_migration_pool_copies_the_marked_fields_as_yaml():
    spec = comparable(apply_defaults({"cidr": "10.0.0.0/16", "natOutgoing": True,
                                      "nodeSelector": "zone == 'a'"}))
    assert migration_fields(spec) == [("ipipMode", "Never"), ("vxlanMode", "Never"),
                                      ("natOutgoing", "true"),
                                      ("nodeSelector", "\"zone == 'a'\"")]
