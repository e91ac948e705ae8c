"""The bundled stacks and the stack builder shared by the CLI and Pulumi."""
from __future__ import annotations

import pytest
from paths import ROOT

from ipam_model.core.errors import InputError, UsageError
from ipam_model.core.model import API_V3
from ipam_model.declared.build import stack_from_config
from ipam_model.declared.files import (
    find_stack_file,
    list_stack_files,
    load_stack,
    load_stacks,
)

STACKS = ROOT / "stacks"


def test_bundled_stacks_are_dev_staging_prod():
    assert [name for name, _ in list_stack_files(STACKS)] == ["dev", "prod", "staging"]


def test_dev_declares_exactly_the_calico_v33_example():
    dev = load_stack(find_stack_file(STACKS, "dev"))
    assert set(dev.pools) == {"external-pool", "internal-pool"}
    ext, internal = dev.pools["external-pool"].spec, dev.pools["internal-pool"].spec
    assert (ext.cidr, ext.block_size, ext.ipip_mode, ext.nat_outgoing) == (
        "172.16.0.0/26", 29, "Always", True)
    assert (internal.cidr, internal.block_size, internal.ipip_mode, internal.nat_outgoing) == (
        "192.169.0.0/24", 29, "Always", True)
    assert dev.bindings["external-ns"].ipv4_pools == ("external-pool",)
    assert dev.bindings["internal-ns"].ipv4_pools == ("internal-pool",)
    assert set(dev.bindings) == {"external-ns", "internal-ns"}
    assert dev.pools["external-pool"].blocks == 8 and dev.pools["external-pool"].block_addresses == 8


def test_staging_and_prod_share_a_routing_domain_and_are_dual_stack():
    staging, prod = load_stacks(STACKS, ["staging", "prod"])
    assert staging.cluster.routing_domain == prod.cluster.routing_domain == "dc1"
    for stack in (staging, prod):
        assert any(p.version == 6 for p in stack.pools.values())
        assert any(b.ipv4_pools and b.ipv6_pools for b in stack.bindings.values())
        assert any(p.spec.node_selector != "all()" for p in stack.pools.values())
        assert stack.cluster.service_cidrs and stack.cluster.node_cidrs
        assert all(g.labels for g in stack.cluster.node_groups)
    assert prod.cluster.protect is True and staging.cluster.protect is False


def test_every_declared_pool_of_the_bundled_stacks_passes_calicos_rules():
    for stack in load_stacks(STACKS):
        assert set(stack.pools) == set(stack.pool_specs), stack.name


def test_locations_point_at_the_line_in_the_stack_file():
    dev = load_stack(find_stack_file(STACKS, "dev"))
    loc = dev.pool_location("internal-pool", "cidr")
    lines = (STACKS / "Pulumi.dev.yaml").read_text().splitlines()
    assert lines[loc.line - 1].strip() == "cidr: 192.169.0.0/24"
    assert loc.yaml_path == "config.calico-ipam:pools.internal-pool.cidr"
    assert loc.file.endswith("Pulumi.dev.yaml")


def test_unknown_stack_name_suggests_the_closest():
    with pytest.raises(UsageError, match="did you mean \"prod\""):
        find_stack_file(STACKS, "prd")


def test_config_mapping_builds_the_same_stack_as_the_file():
    """The Pulumi program passes pulumi.Config values; the result must match the CLI's."""
    from_file = load_stack(find_stack_file(STACKS, "dev"))
    config = {
        "cluster": {"routingDomain": "lab", "serviceCidrs": ["10.96.0.0/12"],
                    "nodeCidrs": ["10.0.0.0/24"],
                    "nodeGroups": [{"name": "workers", "count": 3, "labels": {"zone": "a"},
                                    "maxPods": 110}]},
        "pools": {name: dict(spec) for name, spec in from_file.pool_specs.items()},
        "namespaces": {"external-ns": {"ipv4Pools": ["external-pool"], "expectedPods": 3},
                       "internal-ns": {"ipv4Pools": ["internal-pool"], "expectedPods": 3}},
    }
    built = stack_from_config("dev", config)
    assert built.pools == {n: p for n, p in built.pools.items()}
    assert {n: p.spec for n, p in built.pools.items()} == {
        n: p.spec for n, p in from_file.pools.items()}
    assert built.bindings.keys() == from_file.bindings.keys()
    assert built.cluster.calico_api == API_V3
    assert built.cluster.node_count == from_file.cluster.node_count == 3


def test_config_mapping_schema_errors_raise_one_input_error():
    with pytest.raises(InputError) as info:
        stack_from_config("x", {"pools": {"a": {"cidr": "10.0.0.0/24", "blockSize": "26"}}},
                          file="stacks/Pulumi.x.yaml")
    assert str(info.value) == ('stacks/Pulumi.x.yaml: config.calico-ipam:pools.a.blockSize: "26" '
                               'is a string, expected an integer (write 26 without quotes)')


def test_pool_failing_calico_rules_is_kept_as_spec_but_not_as_pool():
    stack = stack_from_config("x", {"pools": {"a": {"cidr": "10.0.0.0/24", "blockSize": 33}}})
    assert "a" in stack.pool_specs and "a" not in stack.pools


def test_other_pulumi_namespaces_are_left_alone(tmp_path):
    path = tmp_path / "Pulumi.other.yaml"
    path.write_text("secretsprovider: passphrase\nconfig:\n  aws:region: eu-west-1\n"
                    "  calico-ipam:pools:\n    a: {cidr: 10.1.0.0/24, blockSize: 26}\n")
    stack = load_stack(path)
    assert stack.name == "other" and list(stack.pools) == ["a"]


def test_the_allocator_settings_of_a_stack_say_where_their_ipam_config_comes_from():
    declared = stack_from_config("t", {"ipamConfig": {"strictAffinity": True},
                                       "reservations": {"b": {"reservedCIDRs": ["10.0.0.8/29"]},
                                                        "a": {"reservedCIDRs": ["10.0.0.1/32",
                                                                                "fd00::/126"]}},
                                       "pools": {"p": {"cidr": "10.0.0.0/24"}}})
    allocator = declared.allocator
    assert allocator.where() == "the IPAMConfig declared in calico-ipam:ipamConfig"
    assert allocator.described().endswith("strictAffinity true, autoAllocateBlocks true, "
                                          "maxBlocksPerHost 0 (Calico's default of 20)")
    assert allocator.reserved_by_name() == {"a": ("10.0.0.1/32", "fd00::/126"),
                                            "b": ("10.0.0.8/29",)}
    none = stack_from_config("t", {"pools": {"p": {"cidr": "10.0.0.0/24"}}}).allocator
    assert none.where().startswith("Calico's default IPAMConfig")
