"""CIP510: the declared IPAMConfig must be one Calico accepts."""
from ipam_model.rules.ipam_config import ipam_config_findings
from ipam_model.declared.build import stack_from_config

POOLS = {"a": {"cidr": "10.1.0.0/16"}}


def findings(**cluster):
    return ipam_config_findings(stack_from_config("t", {"cluster": cluster, "pools": POOLS},
                                                  file="stacks/Pulumi.t.yaml"))


def test_block_limit_without_strict_affinity_is_refused_like_calico():
    (finding,) = findings(maxBlocksPerHost=20, strictAffinity=False)
    assert finding.rule == "CIP510" and finding.severity == "error"
    assert "maxBlocksPerHost 20 with strictAffinity false" in finding.message
    assert "write maxBlocksPerHost: 0" in finding.message
    assert finding.location.yaml_path == "config.calico-ipam:cluster.maxBlocksPerHost"


def test_block_limit_with_strict_affinity_is_accepted():
    assert findings(maxBlocksPerHost=4, strictAffinity=True) == []


def test_zero_means_calicos_default_and_is_always_accepted():
    assert findings(maxBlocksPerHost=0) == []
    assert findings() == []
