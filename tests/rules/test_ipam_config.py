"""CIP510-CIP512: the declared IPAMConfig (calico-ipam:ipamConfig) against what Calico accepts."""
import pytest

from ipam_model.calico.ipam.simulator import Simulator
from ipam_model.core.errors import InputError
from ipam_model.core.model import Pool, PoolSpec, Severity
from ipam_model.declared.build import stack_from_config
from ipam_model.rules.ipam_config import ipam_config_findings
from ipam_model.rules.runner import check_stacks

POOLS = {"a": {"cidr": "10.1.0.0/16"}}


def stack(**ipam_config):
    config = {"pools": POOLS}
    if ipam_config:
        config["ipamConfig"] = ipam_config
    return stack_from_config("t", config, file="stacks/Pulumi.t.yaml")


def findings(**ipam_config):
    return ipam_config_findings(stack(**ipam_config))


def test_block_limit_without_strict_affinity_is_a_warning_not_a_refusal():
    """Calico's documentation shows strictAffinity false with maxBlocksPerHost 4
    (docs.tigera.io/calico/latest/reference/resources/ipamconfig, sample YAML); the
    resource path accepts it (clientv3 ipamconfig.go:45-52 checks only the name,
    validator.go:1127-1134 only a negative limit); SetIPAMConfig alone refuses it
    (libcalico-go lib/ipam/ipam.go:2224-2229)."""
    (finding,) = findings(maxBlocksPerHost=4, strictAffinity=False)
    assert finding.rule == "CIP510" and finding.severity is Severity.WARNING
    assert finding.name == "block-limit-without-strict-affinity"
    assert "maxBlocksPerHost 4 with strictAffinity false" in finding.message
    assert "its own documentation's example is strictAffinity false, maxBlocksPerHost 4" \
        in finding.message
    assert "SetIPAMConfig: \"MaxBlocksPerHost requires StrictAffinity to be enabled\"" \
        in finding.message
    assert "cannot allocate new block due to per host block limit" in finding.message
    assert finding.location.yaml_path == "config.calico-ipam:ipamConfig.maxBlocksPerHost"
    assert finding.subject == "ipamconfig/default"
    # a warning: the stack is not refused
    assert not [f for f in check_stacks([stack(maxBlocksPerHost=4)]) if f.is_error]


def test_the_limit_is_enforced_without_borrowing_whatever_strict_affinity_says():
    """autoAssign stops new claims at the limit (ipam.go:777-779) and returns
    ErrBlockLimit (ipam.go:791-796) before the borrowing loop (ipam.go:876): with
    strictAffinity false a node at the limit fails although other blocks have room."""
    pool = Pool("p", PoolSpec("172.16.0.0/26", 29))
    sim = Simulator([pool], strict_affinity=False, max_blocks_per_host=1)
    got = [sim.allocate("default", f"p{i}", "n1") for i in range(9)]
    assert got[8].message == "cannot allocate new block due to per host block limit"
    assert not any(getattr(r, "borrowed", False) for r in got)


def test_block_limit_with_strict_affinity_is_accepted():
    assert findings(maxBlocksPerHost=4, strictAffinity=True) == []


def test_zero_means_calicos_default_and_is_always_accepted():
    assert findings(maxBlocksPerHost=0) == []
    assert findings(strictAffinity=False) == []
    assert ipam_config_findings(stack()) == []  # nothing declared: nothing to judge


def test_a_block_limit_above_the_crds_maximum_is_refused_by_the_schema():
    """maxBlocksPerHost maximum 1000000 (api/pkg/apis/projectcalico/v3/ipamconfig.go:73):
    the stack schema's bound, with the line."""
    assert findings(maxBlocksPerHost=1_000_000, strictAffinity=True) == []
    with pytest.raises(InputError, match="maxBlocksPerHost"):
        stack(maxBlocksPerHost=1_000_001, strictAffinity=True)


@pytest.mark.parametrize("field,value,ok", [
    ("ipCooldownSeconds", 1200, True), ("ipCooldownSeconds", 1201, False),
    ("kubeVirtVMAddressPersistence", "Disabled", True),
    ("kubeVirtVMAddressPersistence", "disabled", False)])
def test_values_the_crd_refuses_are_errors(field, value, ok):
    """The IPAMConfiguration CRD: maxBlocksPerHost maximum 1000000, ipCooldownSeconds
    maximum 1200, kubeVirtVMAddressPersistence enum Enabled/Disabled
    (api/config/crd/projectcalico.org_ipamconfigurations.yaml:60-103)."""
    found = [f for f in findings(strictAffinity=True, **{field: value}) if f.rule == "CIP511"]
    if ok:
        assert found == []
        return
    (finding,) = found
    assert finding.severity is Severity.ERROR
    assert finding.location.yaml_path == f"config.calico-ipam:ipamConfig.{field}"
    assert field in finding.message


def test_strict_affinity_and_auto_allocate_both_false_is_refused_like_set_ipam_config():
    """SetIPAMConfig: "Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the
    same time" (libcalico-go lib/ipam/ipam.go:2220-2222)."""
    (finding,) = findings(strictAffinity=False, autoAllocateBlocks=False)
    assert finding.rule == "CIP512" and finding.is_error
    assert "Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time" \
        in finding.message
    assert findings(strictAffinity=True, autoAllocateBlocks=False) == []
