"""The stack-config schema: the compiled fast gate agrees with jsonschema.

jsonschema is the authority (its messages reach the user); the compiled gate
only lets valid configs skip it. If the two ever disagreed, an invalid config
could slip past the schema, so the property below compares them on random,
mostly-invalid configs built from the schema's own vocabulary.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipam_model.core.errors import InputError
from ipam_model.declared import schema
from ipam_model.declared.files import load_stack

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 200),
                    st.floats(allow_nan=False, allow_infinity=False, width=16),
                    st.sampled_from(["", "29", "10.0.0.0/24", "Always", "projectcalico.org/v3",
                                     "true", "workers"]))
KEYS = st.sampled_from([
    "cidr", "blockSize", "blocksize", "ipipMode", "natOutgoing", "disabled", "nodeSelector",
    "allowedUses", "assignmentMode", "metadata", "labels", "annotations", "ipv4Pools",
    "ipv6Pools", "expectedPods", "name", "count", "maxPods", "calicoApi", "routingDomain",
    "serviceCidrs", "nodeGroups", "strictAffinity", "maxBlocksPerHost", "headroomPercent",
    "kubeconfig", "liveChecks", "ipip", "nat-outgoing", "autoAllocateBlocks", "reservedCIDRs",
    "ipCooldownSeconds", "x"])
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=4)), max_leaves=12)
CONFIGS = st.fixed_dictionaries(
    {"pools": st.dictionaries(st.sampled_from(["a", "b.c"]), VALUES, max_size=2)},
    optional={"cluster": st.dictionaries(KEYS, VALUES, max_size=4),
              "ipamConfig": st.dictionaries(KEYS, VALUES, max_size=3),
              "reservations": st.dictionaries(st.sampled_from(["gw", "vip"]), VALUES, max_size=2),
              "namespaces": st.dictionaries(st.sampled_from(["web", "db"]), VALUES, max_size=2)})


def fast_accepts(config) -> bool:
    """The gate as validate_config uses it (issue 9: a float never passes it,
    since only the strict integer type of jsonschema refuses ``3.0``)."""
    return schema.gate_accepts(config)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(CONFIGS)
def test_fast_gate_accepts_exactly_what_jsonschema_accepts(config):
    valid = schema._validator().is_valid(config)
    if schema._holds_a_float(config):
        # a float always goes to jsonschema (issue 9): the gate may only be stricter
        assert not fast_accepts(config)
    else:
        assert fast_accepts(config) == valid


def test_fast_gate_never_inserts_defaults():
    config = {"cluster": {"nodeGroups": [{"name": "w", "count": 1}]}, "pools": {}}
    schema._fast_gate()(config)
    assert config == {"cluster": {"nodeGroups": [{"name": "w", "count": 1}]}, "pools": {}}


def test_booleans_are_not_integers_for_either_validator():
    config = {"pools": {"a": {"cidr": "10.0.0.0/24", "blockSize": True}}}
    assert not fast_accepts(config) and not schema._validator().is_valid(config)


def test_every_schema_error_of_a_file_is_reported_in_document_order(tmp_path):
    """One run names all of a file's schema problems, not only the first."""
    path = tmp_path / "Pulumi.lab.yaml"
    path.write_text("config:\n"
                    "  calico-ipam:pools:\n"
                    "    a: {cidr: 10.0.0.0/24, blocksize: 26}\n"
                    "    b: {cidr: 10.1.0.0/24, blockSize: \"26\"}\n"
                    "  calico-ipam:namespaces:\n"
                    "    web: {expectedPods: many}\n")
    with pytest.raises(InputError) as caught:
        load_stack(path, "lab")
    problems = caught.value.problems()
    assert [p.location.line for p in problems] == [3, 4, 6]
    assert 'did you mean "blockSize"' in problems[0].message
    assert "write 26 without quotes" in problems[1].message
    assert problems[2].location.yaml_path == "config.calico-ipam:namespaces.web.expectedPods"
    assert str(caught.value) == str(problems[0])  # the first stays the one-line summary
