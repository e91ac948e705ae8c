"""The one IPPool field table agrees with PoolSpec and the stack JSON Schema.

Adding an IPPool field means one row in core/ippool.py FIELDS, one PoolSpec
attribute and one schema property; forgetting any of them fails here instead
of silently dropping the field in drift, import or render.
"""
from __future__ import annotations

from dataclasses import fields

from ipam_model.calico.ippool import DEPRECATED_FIELDS, SPEC_FIELDS
from ipam_model.core.ippool import FIELDS, PoolSpec
from ipam_model.declared.schema import stack_schema


def test_pool_spec_has_one_attribute_per_field_in_table_order():
    assert [f.name for f in fields(PoolSpec)] == [f.attr for f in FIELDS]


def test_schema_declares_exactly_the_table_fields():
    properties = set(stack_schema()["$defs"]["pool"]["properties"])
    assert properties == {f.name for f in FIELDS} | set(DEPRECATED_FIELDS) | {"metadata"}
    assert set(SPEC_FIELDS) == properties - {"metadata"}


def test_to_calico_writes_every_field_with_its_default():
    spec = PoolSpec(cidr="10.0.0.0/24", block_size=26)
    written = spec.to_calico()
    always = [f.name for f in FIELDS if f.always_written]
    assert list(written) == always
    with_selector = PoolSpec(cidr="10.0.0.0/24", block_size=26, namespace_selector="a == 'b'")
    assert list(with_selector.to_calico()) == always + ["namespaceSelector"]
