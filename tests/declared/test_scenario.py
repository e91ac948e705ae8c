"""declared/scenario.py: the simulate scenario file, loaded and schema-checked."""
from __future__ import annotations

import pytest

from ipam_model.calico.ipam.cni import CniConfig
from ipam_model.core.errors import InputError
from ipam_model.declared.scenario import PodStep, ReleaseStep, load_scenario

GOOD = """\
cni: {assign_ipv4: "true", assign_ipv6: true, ipv4_pools: [external-pool]}
nodes:
  - {name: node1, labels: {zone: a}}
  - {name: node2}
pods:
  - {namespace: web, count: 2}
  - namespace: web
    name: fixed
    node: node2
    annotations: {cni.projectcalico.org/ipAddrs: '["172.16.0.40"]'}
  - {release: web/web-1}
"""


def test_a_scenario_reads_the_cni_config_nodes_and_pod_events(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(GOOD)
    scenario = load_scenario(path)
    assert scenario.cni == CniConfig(True, True, ("external-pool",), ())
    assert scenario.nodes == (("node1", {"zone": "a"}), ("node2", None))
    assert scenario.steps == (
        PodStep("web", count=2),
        PodStep("web", "fixed", 1, "node2", {"cni.projectcalico.org/ipAddrs": '["172.16.0.40"]'}),
        ReleaseStep("web", "web-1"))


def test_absent_cni_keys_take_the_plugins_defaults(tmp_path):
    """ipam_plugin.go:299-310: assign_ipv4 defaults to on, assign_ipv6 to off."""
    path = tmp_path / "s.yaml"
    path.write_text("cni: {}\n")
    assert load_scenario(path).cni == CniConfig(True, False)
    path.write_text("pods: []\n")
    assert load_scenario(path).cni is None


@pytest.mark.parametrize("text,where,words", [
    ("cni: {assign_ipv6: yes please}\n", "cni.assign_ipv6", "is not one of"),
    ("pods:\n  - {namespace: web, count: 0}\n", "pods[0].count", "below the minimum of 1"),
    ("pods:\n  - {namespace: web, annotations: {a: 1}}\n", "pods[0].annotations.a",
     "expected a string"),
    ("pods:\n  - {release: web}\n", "pods[0].release", "does not match"),
    ("pods:\n  - {namespce: web}\n", "pods[0]", 'unknown key "namespce"'),
    ("nodes: []\n", "nodes", "should be non-empty"),
    ("wat: 1\n", "", 'unknown key "wat"'),
])
def test_schema_errors_name_file_line_and_path(tmp_path, text, where, words):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as exc:
        load_scenario(path)
    message = str(exc.value)
    assert message.startswith(f"{path}:") and words in message
    assert where in message


def test_a_scenario_is_bounded_like_simulate_pods(tmp_path):
    """Each count and the sum of counts are bounded (the simulation keeps every
    pod): a hostile scenario is refused before anything runs."""
    path = tmp_path / "big.yaml"
    path.write_text("pods:\n  - {namespace: web, count: 1000001}\n")
    with pytest.raises(InputError, match="pods\\[0\\].count"):
        load_scenario(path)
    path.write_text("pods:\n  - {namespace: web, count: 600000}\n"
                    "  - {namespace: api, count: 600000}\n")
    with pytest.raises(InputError, match="1,200,000 pods in all, more than 1,000,000"):
        load_scenario(path)
