"""An IPAMConfigurationSpec as Calico reads it, and what its CRD refuses."""
import pytest

from ipam_model.calico.ipam_config import (
    applied_value,
    changed_fields,
    decode_applied,
    minimal,
    range_problems,
    read_ipam_config,
)
from ipam_model.calico.ippool import FieldError
from ipam_model.core.ipam_config import IPAMConfig


def test_absent_fields_take_the_defaults_calico_uses_without_a_config():
    """libcalico-go lib/ipam/ipam.go:2166-2186 ``GetIPAMConfig`` without an
    IPAMConfig: strictAffinity false, autoAllocateBlocks true, maxBlocksPerHost 0,
    kubeVirtVMAddressPersistence Enabled, ipCooldownSeconds 0."""
    config = read_ipam_config({})
    assert config == IPAMConfig()
    assert (config.strict_affinity, config.auto_allocate_blocks, config.max_blocks_per_host,
            config.kubevirt_vm_address_persistence, config.ip_cooldown_seconds) == (
        False, True, 0, "Enabled", 0)
    assert config.effective_max_blocks_per_host == 20  # 0 means 20 (ipam.go autoAssign)


def test_the_issue_example_is_read_field_by_field():
    config = read_ipam_config({"strictAffinity": True, "maxBlocksPerHost": 4})
    assert changed_fields(IPAMConfig(), config) == [
        ("strictAffinity", False, True), ("maxBlocksPerHost", 0, 4)]
    assert minimal(config) == {"strictAffinity": True, "maxBlocksPerHost": 4}


def test_render_writes_the_required_fields_always_and_the_newer_only_when_set():
    """The crd.projectcalico.org/v1 CRD requires strictAffinity and autoAllocateBlocks
    (libcalico-go/config/crd/crd.projectcalico.org_ipamconfigs.yaml ``required``); a CRD
    predating kubeVirtVMAddressPersistence or ipCooldownSeconds would prune them."""
    assert IPAMConfig().to_calico() == {"strictAffinity": False, "autoAllocateBlocks": True,
                                        "maxBlocksPerHost": 0}
    assert IPAMConfig(ip_cooldown_seconds=30).to_calico()["ipCooldownSeconds"] == 30


@pytest.mark.parametrize("spec", [{"maxBlocksPerHost": -1}, {"maxBlocksPerHost": "4"},
                                  {"maxBlocksPerHost": True}, {"strictAffinity": "maybe"},
                                  {"kubeVirtVMAddressPersistence": 1}])
def test_a_value_of_the_wrong_type_names_its_field(spec):
    with pytest.raises(FieldError) as caught:
        read_ipam_config(spec)
    assert caught.value.path == (next(iter(spec)),)


def test_range_problems_are_the_crds_limits():
    """api/config/crd/projectcalico.org_ipamconfigurations.yaml: maxBlocksPerHost
    maximum 1000000, ipCooldownSeconds maximum 1200, the VM persistence enum."""
    assert range_problems(IPAMConfig(max_blocks_per_host=1_000_000)) == []
    assert [f for f, _ in range_problems(IPAMConfig(max_blocks_per_host=1_000_001,
                                                    ip_cooldown_seconds=1201,
                                                    kubevirt_vm_address_persistence="On"))
            ] == ["maxBlocksPerHost", "kubeVirtVMAddressPersistence", "ipCooldownSeconds"]


def test_the_applied_record_round_trips_and_says_why_it_does_not():
    config = IPAMConfig(strict_affinity=True, max_blocks_per_host=4)
    assert decode_applied(applied_value(config)) == (config, None)
    assert decode_applied("{")[1].startswith("is not valid JSON")
    assert decode_applied("[]")[1] == "is not a JSON object (got list)"
    assert "maxBlocksPerHost" in decode_applied('{"maxBlocksPerHost": "x"}')[1]
