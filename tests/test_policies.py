"""The CrossGuard policy pack (policies/), without the Pulumi CLI.

The policies are called the way the analyzer calls them: with hand-built
``ResourceValidationArgs`` / ``StackValidationArgs`` and a report callback.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

from ipam_model.declared.files import load_stack
from ipam_model.views.manifests import render_stack

ROOT = Path(__file__).resolve().parent.parent
V3 = "kubernetes:projectcalico.org/v3:IPPool"
V1 = "kubernetes:crd.projectcalico.org/v1:IPPool"
PATCH = "kubernetes:core/v1:NamespacePatch"
V3_IPAM_CONFIG = "kubernetes:projectcalico.org/v3:IPAMConfiguration"
V3_RESERVATION = "kubernetes:projectcalico.org/v3:IPReservation"


def _load_rules():
    spec = importlib.util.spec_from_file_location("calico_ipam_policy_rules",
                                                  ROOT / "policies" / "rules.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


rules = _load_rules()
POLICIES = {p.name: p for p in rules.all_policies()}


def _opts() -> PolicyResourceOptions:
    return PolicyResourceOptions(protect=False, ignore_changes=[], delete_before_replace=None,
                                 aliases=[], custom_timeouts=None, additional_secret_outputs=[])


def urn(stack: str, typ: str, name: str) -> str:
    return f"urn:pulumi:{stack}::calico-ipam::pulumi:pulumi:Stack${typ}::{name}"


def pool(name: str, cidr: str, block_size: int, api: str = "projectcalico.org/v3", **spec):
    return {"apiVersion": api, "kind": "IPPool",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "calico-ipam"}},
            "spec": {"cidr": cidr, "blockSize": float(block_size), **spec}}  # engine: floats


def namespace(name: str, **annotations):
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "annotations": annotations}}


def validate_resource(policy: str, typ: str, props: dict, config: dict | None = None,
                      stack: str = "test") -> list[str]:
    args = ResourceValidationArgs(resource_type=typ, props=props,
                                  urn=urn(stack, typ, "r"), name="r", opts=_opts(),
                                  provider=None, config=config or {})
    messages: list[str] = []
    POLICIES[policy].validate(args, lambda message, urn=None: messages.append(message))
    return messages


def _policy_resource(typ: str, props: dict, stack: str) -> PolicyResource:
    name = props["metadata"]["name"]
    prefix = {"IPPool": "ippool-", "IPAMConfiguration": "ipamconfig-", "IPAMConfig": "ipamconfig-",
              "IPReservation": "ipreservation-"}.get(typ.rsplit(":", 1)[1], "namespace-")
    logical = prefix + name
    return PolicyResource(resource_type=typ, props=props, urn=urn(stack, typ, logical),
                          name=logical, opts=_opts(), provider=None, parent=None,
                          dependencies=[], property_dependencies={})


def validate_stack(policy: str, resources: list[tuple[str, dict]], stack: str = "test",
                   config: dict | None = None) -> list[tuple[str, str | None]]:
    args = StackValidationArgs(
        resources=[_policy_resource(t, p, stack) for t, p in resources], config=config or {})
    reported: list[tuple[str, str | None]] = []
    POLICIES[policy].validate(args, lambda message, urn=None: reported.append((message, urn)))
    return reported


def rendered_resources(env: str) -> list[tuple[str, dict]]:
    """What the Pulumi program registers for *env*, as the analyzer sees it."""
    out = []
    for doc in render_stack(load_stack(ROOT / "stacks" / f"Pulumi.{env}.yaml")):
        typ = (PATCH if doc["kind"] == "Namespace"
               else f"kubernetes:{doc['apiVersion']}:{doc['kind']}")
        out.append((typ, json.loads(json.dumps(doc))))
    return out


# ------------------------------------------------------------------ the pack's shape

def test_errors_are_mandatory_and_warnings_advisory():
    levels = {name: p.enforcement_level for name, p in POLICIES.items()}
    assert levels == {
        "calico-ippool": EnforcementLevel.MANDATORY,
        "calico-ippool-advisory": EnforcementLevel.ADVISORY,
        "calico-pool-annotations": EnforcementLevel.MANDATORY,
        "calico-ipam-stack": EnforcementLevel.MANDATORY,
        "calico-ipam-stack-advisory": EnforcementLevel.ADVISORY}
    assert "allowedCidrs" in POLICIES["calico-ippool"].config_schema.properties
    assert "headroomPercent" in POLICIES["calico-ipam-stack"].config_schema.properties


# ------------------------------------------------------------------ IPPool resources

@pytest.mark.parametrize("typ, api", [(V3, "projectcalico.org/v3"),
                                      (V1, "crd.projectcalico.org/v1")])
def test_ippool_with_block_size_33_is_rejected_on_both_api_versions(typ, api):
    messages = validate_resource("calico-ippool", typ, pool("bad-pool", "10.1.0.0/24", 33, api))
    assert len(messages) == 1
    assert messages[0].startswith("CIP104 block-size-range: spec.blockSize: ")
    assert "bad-pool" in messages[0]


def test_valid_ippool_passes_and_other_types_are_ignored():
    good = pool("good-pool", "10.1.0.0/24", 26)
    assert validate_resource("calico-ippool", V3, good) == []
    bad = pool("bad-pool", "10.1.0.0/24", 33)
    assert validate_resource("calico-ippool", "kubernetes:core/v1:ConfigMap", bad) == []


def test_ippool_without_metadata_name_is_rejected():
    props = pool("x", "10.1.0.0/24", 26)
    del props["metadata"]["name"]
    [message] = validate_resource("calico-ippool", V3, props)
    assert "metadata.name" in message


def test_ippool_errors_and_warnings_go_to_their_own_policies():
    # IPIP and VXLAN both on (CIP107, error) and a namespaceSelector with
    # defaulted allowedUses (CIP122, warning).
    props = pool("mixed", "10.1.0.0/24", 26, ipipMode="Always", vxlanMode="Always",
                 namespaceSelector="team == 'a'")
    mandatory = validate_resource("calico-ippool", V3, props)
    advisory = validate_resource("calico-ippool-advisory", V3, props)
    assert any(m.startswith("CIP107 ") for m in mandatory)
    assert not any(m.startswith("CIP122 ") for m in mandatory)
    assert any(m.startswith("CIP122 ") for m in advisory)


def test_allowed_address_space_from_policy_config():
    config = {"allowedCidrs": ["10.0.0.0/8", "fd00::/8"]}
    inside = pool("inside", "10.20.0.0/16", 26)
    outside = pool("outside", "192.169.0.0/24", 29)
    assert validate_resource("calico-ippool", V3, inside, config) == []
    [message] = validate_resource("calico-ippool", V3, outside, config)
    assert "192.169.0.0/24" in message and "10.0.0.0/8" in message and "allowedCidrs" in message
    v6 = pool("v6", "fd00:1::/112", 122)
    assert validate_resource("calico-ippool", V3, v6, config) == []
    assert validate_resource("calico-ippool", V3, v6, {"allowedCidrs": ["10.0.0.0/8"]})


def test_malformed_allowed_cidrs_config_is_reported_not_ignored():
    messages = validate_resource("calico-ippool", V3, pool("p", "10.1.0.0/24", 26),
                                 {"allowedCidrs": ["ten-slash-eight"]})
    assert any("ten-slash-eight" in m for m in messages)


# ------------------------------------------------------------------ annotations

@pytest.mark.parametrize("value", ['["a", ', '"external-pool"', '[1, 2]', '[""]', "{}"])
def test_malformed_pool_annotation_is_rejected(value):
    props = namespace("team-a", **{"cni.projectcalico.org/ipv4pools": value})
    [message] = validate_resource("calico-pool-annotations", PATCH, props)
    assert message.startswith("CIP609 annotation-invalid: ")
    assert "team-a" in message and "cni.projectcalico.org/ipv4pools" in message


def test_wellformed_pool_annotations_pass():
    props = namespace("team-a", **{"cni.projectcalico.org/ipv4pools": '["a","b"]',
                                   "cni.projectcalico.org/ipv6pools": '["c"]',
                                   "pulumi.com/patchFieldManager": "calico-ipam-dev"})
    assert validate_resource("calico-pool-annotations", PATCH, props) == []
    assert validate_resource("calico-pool-annotations", "kubernetes:core/v1:Namespace",
                             props) == []


def test_annotation_naming_a_missing_pool_is_rejected_by_the_stack_policy():
    resources = [(V3, pool("team-a-pool", "10.1.0.0/24", 26)),
                 (PATCH, namespace("team-a", **{"cni.projectcalico.org/ipv4pools":
                                                '["team-a-pool","gone-pool"]'}))]
    reported = validate_stack("calico-ipam-stack", resources)
    assert any(m.startswith("CIP402 ") and "gone-pool" in m for m, _ in reported), reported
    [(message, where)] = [r for r in reported if r[0].startswith("CIP402 ")]
    assert where == urn("test", PATCH, "namespace-team-a")


# ------------------------------------------------------------------ the stack

def test_hand_built_stack_with_overlapping_pools_is_rejected():
    resources = [(V3, pool("pool-a", "10.1.0.0/16", 26)),
                 (V3, pool("pool-b", "10.1.128.0/24", 26))]
    reported = validate_stack("calico-ipam-stack", resources)
    overlaps = [(m, u) for m, u in reported if m.startswith("CIP201 ")]
    assert overlaps, reported
    assert "10.1.0.0/16" in overlaps[0][0] and "10.1.128.0/24" in overlaps[0][0]
    assert overlaps[0][1] in (urn("test", V3, "ippool-pool-a"), urn("test", V3, "ippool-pool-b"))


def test_disjoint_hand_built_stack_passes():
    resources = [(V3, pool("pool-a", "10.1.0.0/24", 26)),
                 (V3, pool("pool-b", "10.2.0.0/24", 26)),
                 (PATCH, namespace("team-a", **{"cni.projectcalico.org/ipv4pools":
                                                '["pool-a"]'}))]
    assert validate_stack("calico-ipam-stack", resources) == []


def test_stack_warnings_are_advisory_only():
    resources = [(V3, pool("public", "192.169.0.0/24", 29))]
    assert validate_stack("calico-ipam-stack", resources) == []
    advisory = validate_stack("calico-ipam-stack-advisory", resources)
    assert any(m.startswith("CIP301 ") for m, _ in advisory), advisory


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_what_the_program_registers_passes_the_mandatory_policies(env):
    resources = rendered_resources(env)
    for typ, props in resources:
        policy = "calico-ippool" if "IPPool" in typ else "calico-pool-annotations"
        assert validate_resource(policy, typ, props, stack=env) == []
    if env == "prod":  # prod declares its IPAMConfig and a reservation
        assert {t for t, _ in resources} >= {V3_IPAM_CONFIG, V3_RESERVATION}
    assert validate_stack("calico-ipam-stack", resources, stack=env) == []


def test_stack_policy_checks_the_routing_domain_siblings():
    # staging shares routing domain dc1 with prod (10.128.0.0/16 is prod-default-v4).
    resources = rendered_resources("staging") + [
        (V3, pool("staging-extra-v4", "10.128.64.0/24", 26))]
    reported = validate_stack("calico-ipam-stack", resources, stack="staging")
    assert any(m.startswith("CIP202 ") and "prod-default-v4" in m for m, _ in reported), reported


def test_headroom_from_policy_config_overrides_the_stack():
    # dev's external-ns expects 3 pods; shrink its pool to one /29 block (8
    # addresses): enough with dev's 20% headroom, too little with 300%.
    resources = rendered_resources("dev")
    for _, props in resources:
        if props["metadata"]["name"] == "external-pool":
            props["spec"]["cidr"] = "172.16.0.0/29"
    default = validate_stack("calico-ipam-stack-advisory", resources, stack="dev")
    assert not [m for m, _ in default if m.startswith("CIP504 ")], default
    reported = validate_stack("calico-ipam-stack-advisory", resources, stack="dev",
                              config={"headroomPercent": 300})
    assert any(m.startswith("CIP504 ") and "external-ns" in m and "300%" in m
               for m, _ in reported), reported
    # 9 pods do not fit at all: an error, whatever the headroom
    for _, props in resources:
        if props["metadata"]["name"] == "external-pool":
            props["spec"]["cidr"] = "172.16.0.0/31"
            props["spec"]["blockSize"] = 31.0
    errors = validate_stack("calico-ipam-stack", resources, stack="dev")
    assert any(m.startswith("CIP503 ") and "external-ns" in m for m, _ in errors), errors


# ------------------------------------------------------------------ no server on import

_PROBE = """
import sys, json
import pulumi_policy
built = []
def record(self, *args, **kwargs):
    built.append(kwargs)
pulumi_policy.PolicyPack.__init__ = record
sys.path.insert(0, {policies!r})
import rules
after_import = len(built)
names = [p.name for p in rules.all_policies()]
if {run_main}:
    import runpy
    runpy.run_path({main!r}, run_name="__main__")
print(json.dumps({{"after_import": after_import, "after_main": len(built), "names": names,
                  "pack": [{{"name": b.get("name"),
                            "policies": [p.name for p in b.get("policies", [])]}}
                           for b in built]}}))
"""


def _probe(run_main: bool) -> dict:
    code = _PROBE.format(policies=str(ROOT / "policies"), run_main=run_main,
                         main=str(ROOT / "policies" / "__main__.py"))
    # The timeout only catches a hang (a real PolicyPack serves forever).
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=ROOT / "policies")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_policies_module_builds_no_policy_pack():
    result = _probe(run_main=False)
    assert result["after_import"] == 0 and result["after_main"] == 0
    assert len(result["names"]) == 5


def test_the_pack_entry_point_builds_exactly_one_pack_with_every_policy():
    result = _probe(run_main=True)
    assert result["after_main"] == 1
    assert result["pack"] == [{"name": "calico-ipam", "policies": result["names"]}]


# ------------------------------------------------------------------ IPAMConfig and IPReservations

def ipam_config(**spec):
    return {"apiVersion": "projectcalico.org/v3", "kind": "IPAMConfiguration",
            "metadata": {"name": "default"},
            "spec": {k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v
                     for k, v in spec.items()}}  # the engine sends numbers as floats


def reservation(name: str, *cidrs: str):
    return {"apiVersion": "projectcalico.org/v3", "kind": "IPReservation",
            "metadata": {"name": name}, "spec": {"reservedCIDRs": list(cidrs)}}


def test_the_stack_policy_refuses_an_ipam_config_calico_refuses():
    """SetIPAMConfig: "Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same
    time" (libcalico-go lib/ipam/ipam.go:2220-2222): CIP512, mandatory, on the resource."""
    resources = [(V3, pool("pool-a", "10.1.0.0/24", 26)),
                 (V3_IPAM_CONFIG, ipam_config(strictAffinity=False, autoAllocateBlocks=False))]
    reported = validate_stack("calico-ipam-stack", resources)
    [(message, where)] = [r for r in reported if r[0].startswith("CIP512 ")]
    assert where == urn("test", V3_IPAM_CONFIG, "ipamconfig-default")
    advisory = validate_stack("calico-ipam-stack-advisory", [
        (V3, pool("pool-a", "10.1.0.0/24", 26)),
        (V3_IPAM_CONFIG, ipam_config(strictAffinity=False, autoAllocateBlocks=True,
                                     maxBlocksPerHost=4))])
    assert any(m.startswith("CIP510 ") for m, _ in advisory), advisory


def test_the_stack_policy_checks_reservations():
    resources = [(V3, pool("pool-a", "10.1.0.0/24", 26)),
                 (V3_RESERVATION, reservation("gw", "10.1.0.1/32", "10.1.0.1/32"))]
    reported = validate_stack("calico-ipam-stack", resources)
    [(message, where)] = [r for r in reported if r[0].startswith("CIP703 ")]
    assert where == urn("test", V3_RESERVATION, "ipreservation-gw")
    outside = validate_stack("calico-ipam-stack-advisory", [
        (V3, pool("pool-a", "10.1.0.0/24", 26)),
        (V3_RESERVATION, reservation("far", "192.168.9.0/24"))])
    assert any(m.startswith("CIP706 ") for m, _ in outside), outside
