"""views.manifests (calico-ipam render): IPPool manifests and Namespace patches, as kubectl/calicoctl would read them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ipam_model.core.model import (
    API_CRD_V1,
    API_V3,
    Binding,
    ClusterSettings,
    Pool,
    PoolSpec,
    Stack,
    frozen_map,
)
from ipam_model.declared.build import stack_from_config
from ipam_model.declared.files import load_stack
from ipam_model.live.normalise import (
    applied_pool_spec,
    normalise_ipam_config_object,
    normalise_pool,
)
from ipam_model.views.manifests import (
    APPLIED_SPEC_ANNOTATION,
    render_namespace_patch,
    render_pool,
    render_stack,
    select_kind,
    to_yaml,
)

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"


def example_pool(name: str, cidr: str, **extra) -> Pool:
    """A pool of the Calico v3.3 example, with Calico's defaults applied."""
    spec = PoolSpec(cidr=cidr, block_size=29, ipip_mode="Always", nat_outgoing=True)
    return Pool(name=name, spec=spec, stack="dev", **extra)


def dev_stack(**cluster) -> Stack:
    """stacks/Pulumi.dev.yaml as the loader builds it (built directly here)."""
    pools = {"internal-pool": example_pool("internal-pool", "192.169.0.0/24"),
             "external-pool": example_pool("external-pool", "172.16.0.0/26")}
    bindings = {"internal-ns": Binding("internal-ns", ipv4_pools=("internal-pool",),
                                       expected_pods=3),
                "external-ns": Binding("external-ns", ipv4_pools=("external-pool",),
                                       expected_pods=3)}
    return Stack(name="dev", file="stacks/Pulumi.dev.yaml", cluster=ClusterSettings(**cluster),
                 pool_specs=frozen_map(), pool_metadata=frozen_map(), pools=frozen_map(pools),
                 bindings=frozen_map(bindings))


@pytest.mark.parametrize("api, golden", [(API_V3, "render-dev-v3.yaml"),
                                         (API_CRD_V1, "render-dev-crd-v1.yaml")])
def test_dev_stack_renders_the_golden_manifest(api, golden):
    assert to_yaml(render_stack(dev_stack(), api)) == (GOLDEN / golden).read_text()


def test_dev_stack_is_the_two_pools_then_the_two_namespaces():
    docs = render_stack(dev_stack())
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("IPPool", "external-pool"), ("IPPool", "internal-pool"),
        ("Namespace", "external-ns"), ("Namespace", "internal-ns")]
    external = docs[0]["spec"]
    assert external["cidr"] == "172.16.0.0/26" and external["blockSize"] == 29
    assert external["ipipMode"] == "Always" and external["natOutgoing"] is True
    assert docs[2]["metadata"]["annotations"] == {
        "cni.projectcalico.org/ipv4pools": '["external-pool"]'}


def test_default_api_version_is_the_stacks_calico_api():
    assert {d["apiVersion"] for d in render_stack(dev_stack())[:2]} == {API_V3}
    v1 = render_stack(dev_stack(calico_api=API_CRD_V1))
    assert {d["apiVersion"] for d in v1[:2]} == {API_CRD_V1}
    # an explicit --api-version wins over the stack's setting
    assert render_stack(dev_stack(calico_api=API_CRD_V1), API_V3)[0]["apiVersion"] == API_V3


@pytest.mark.parametrize("api", [API_V3, API_CRD_V1])
def test_rendered_yaml_parses_back_to_the_same_objects(api):
    docs = render_stack(dev_stack(), api)
    assert list(yaml.safe_load_all(to_yaml(docs))) == docs


def test_documents_keep_kubernetes_key_order():
    text = to_yaml(render_stack(dev_stack()))
    first = text.split("---\n")[1]
    assert [line.split(":")[0] for line in first.splitlines() if not line.startswith(" ")] == [
        "apiVersion", "kind", "metadata", "spec"]
    assert text.startswith("---\n") and text.count("---\n") == 4


def test_every_default_is_written_out():
    spec = render_pool(example_pool("p", "10.0.0.0/24"), "dev")["spec"]
    assert spec == {"cidr": "10.0.0.0/24", "blockSize": 29, "ipipMode": "Always",
                    "vxlanMode": "Never", "natOutgoing": True, "disabled": False,
                    "disableBGPExport": False, "nodeSelector": "all()",
                    "allowedUses": ["Workload", "Tunnel"], "assignmentMode": "Automatic"}


@pytest.mark.parametrize("api", [API_V3, API_CRD_V1])
def test_labels_are_ownership_stack_and_declared_and_sit_on_the_object(api):
    pool = example_pool("p", "10.0.0.0/24", labels=frozen_map({"team": "net", "tier": "1"}),
                        annotations=frozen_map({"owner": "net@example.com"}))
    meta = render_pool(pool, "prod", api)["metadata"]
    assert meta["labels"] == {"app.kubernetes.io/managed-by": "calico-ipam",
                              "calico-ipam.io/stack": "prod", "team": "net", "tier": "1"}
    # crd v1 too: Calico reads labels on the CR itself; its private metadata
    # annotation is never written by us.
    assert meta["annotations"] == {"owner": "net@example.com",
                                   APPLIED_SPEC_ANNOTATION: APPLIED_EXAMPLE}
    assert "projectcalico.org/metadata" not in meta["annotations"]


def test_declared_labels_cannot_forge_ownership_or_stack():
    pool = example_pool("p", "10.0.0.0/24", labels=frozen_map({
        "app.kubernetes.io/managed-by": "helm", "calico-ipam.io/stack": "other"}))
    labels = render_pool(pool, "dev")["metadata"]["labels"]
    assert labels == {"app.kubernetes.io/managed-by": "calico-ipam",
                      "calico-ipam.io/stack": "dev"}


APPLIED_EXAMPLE = ('{"allowedUses":["Workload","Tunnel"],"assignmentMode":"Automatic",'
                   '"blockSize":29,"cidr":"10.0.0.0/24","disableBGPExport":false,'
                   '"disabled":false,"ipipMode":"Always","natOutgoing":true,'
                   '"nodeSelector":"all()","vxlanMode":"Never"}')


def test_pool_without_declared_annotations_carries_only_the_applied_spec():
    meta = render_pool(example_pool("p", "10.0.0.0/24"), "dev")["metadata"]
    assert meta["annotations"] == {APPLIED_SPEC_ANNOTATION: APPLIED_EXAMPLE}


def test_declared_annotation_cannot_forge_the_applied_spec():
    pool = example_pool("p", "10.0.0.0/24",
                        annotations=frozen_map({APPLIED_SPEC_ANNOTATION: '{"cidr":"1.2.3.0/24"}'}))
    assert render_pool(pool, "dev")["metadata"]["annotations"] == {
        APPLIED_SPEC_ANNOTATION: APPLIED_EXAMPLE}


@pytest.mark.parametrize("api", [API_V3, API_CRD_V1])
def test_applied_spec_reads_back_as_the_rendered_spec(api):
    # What pulumi up / kubectl apply writes is what drift later compares with.
    pool = example_pool("p", "fd00:10::/64", annotations=frozen_map({"note": "x"}))
    pool = Pool(pool.name, PoolSpec(cidr="fd00:10::/64", block_size=122,
                                    namespace_selector="team == 'a'",
                                    allowed_uses=("Workload",)), annotations=pool.annotations)
    live = normalise_pool(yaml.safe_load(to_yaml([render_pool(pool, "dev", api)])))
    assert applied_pool_spec(live) == (pool.spec, None)
    assert live.spec == pool.spec


def test_unknown_api_version_is_refused():
    with pytest.raises(ValueError, match="projectcalico.org/v3"):
        render_pool(example_pool("p", "10.0.0.0/24"), "dev", "projectcalico.org/v1")


def test_namespace_patch_has_only_bound_families_in_binding_order():
    v4 = render_namespace_patch(Binding("a", ipv4_pools=("p1", "p2")), "dev")
    assert v4 == {"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": "a", "annotations": {"cni.projectcalico.org/ipv4pools": '["p1","p2"]'}}}
    dual = render_namespace_patch(Binding("b", ipv4_pools=("v4",), ipv6_pools=("fd00::/120",)),
                                  "dev")["metadata"]["annotations"]
    assert json.loads(dual["cni.projectcalico.org/ipv6pools"]) == ["fd00::/120"]
    v6 = render_namespace_patch(Binding("c", ipv6_pools=("v6",)), "dev")["metadata"]
    assert list(v6["annotations"]) == ["cni.projectcalico.org/ipv6pools"]
    assert "labels" not in v6  # the namespace is not ours to label


def test_namespaces_without_pools_are_not_rendered_and_order_is_by_name():
    stack = dev_stack()
    bindings = dict(stack.bindings)
    bindings["aaa-unbound"] = Binding("aaa-unbound", expected_pods=5)
    bindings["zzz"] = Binding("zzz", ipv4_pools=("external-pool",))
    stack = Stack(**{**stack.__dict__, "bindings": frozen_map(bindings)})
    names = [d["metadata"]["name"] for d in render_stack(stack) if d["kind"] == "Namespace"]
    assert names == ["external-ns", "internal-ns", "zzz"]


def test_select_kind_splits_pools_for_calicoctl_from_namespaces_for_kubectl():
    docs = render_stack(dev_stack())
    assert [d["kind"] for d in select_kind(docs, "pools")] == ["IPPool", "IPPool"]
    assert [d["kind"] for d in select_kind(docs, "namespaces")] == ["Namespace", "Namespace"]
    assert select_kind(docs, None) == docs


def test_empty_stack_renders_nothing():
    assert to_yaml([]) == ""


def test_rendering_does_not_depend_on_declaration_order():
    stack = dev_stack()
    flipped = Stack(**{**stack.__dict__,
                       "pools": frozen_map(dict(reversed(list(stack.pools.items())))),
                       "bindings": frozen_map(dict(reversed(list(stack.bindings.items()))))})
    assert to_yaml(render_stack(flipped)) == to_yaml(render_stack(stack))


# Strings YAML likes to reinterpret: booleans, nulls, numbers, tags, comments.
_tricky = st.one_of(
    st.sampled_from(["true", "no", "null", "~", "0x1F", "1e3", "!has(a)", "#x", "a: b", "-",
                     "'q'", '"d"', "all()", "[x]", "{y}", "*ref", "&anc", "@at", "%p", "08"]),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20))


@settings(max_examples=150, deadline=None)
@given(labels=st.dictionaries(_tricky, _tricky, max_size=4),
       annotations=st.dictionaries(_tricky, _tricky, max_size=3),
       selector=_tricky, namespace=_tricky, pool_names=st.lists(_tricky, min_size=1, max_size=3))
def test_yaml_round_trips_any_strings(labels, annotations, selector, namespace, pool_names):
    spec = PoolSpec(cidr="10.0.0.0/24", block_size=26, node_selector=selector)
    pool = Pool(name="p", spec=spec, labels=frozen_map(labels),
                annotations=frozen_map(annotations))
    docs = [render_pool(pool, "dev"), render_namespace_patch(
        Binding(namespace, ipv4_pools=tuple(pool_names)), "dev")]
    back = list(yaml.safe_load_all(to_yaml(docs)))
    assert back == docs
    value = back[1]["metadata"]["annotations"]["cni.projectcalico.org/ipv4pools"]
    assert json.loads(value) == pool_names


def test_documented_render_example_is_what_render_prints():
    """The first IPPool of the documented `render --stack dev` output, applied-spec
    annotation included, is byte for byte what the bundled dev stack renders."""
    root = Path(__file__).resolve().parents[2]
    text = (root / "README.md").read_text(encoding="utf-8")
    example = text.split("$ calico-ipam render --stack dev\n", 1)[1]
    first = "---" + example.split("---", 2)[1]
    stack = load_stack(root / "stacks" / "Pulumi.dev.yaml", "dev")
    rendered = to_yaml(render_stack(stack))
    assert first == "---" + rendered.split("---", 2)[1]


# --------------------------------------------------------------------------- IPAMConfig, IPReservation

def _stack_with_ipam(api=API_V3):
    return stack_from_config("dev", {
        "cluster": {"calicoApi": api},
        "ipamConfig": {"strictAffinity": True, "maxBlocksPerHost": 4},
        "reservations": {"gateways": {"reservedCIDRs": ["10.1.0.1/32", "10.1.0.2/32"]}},
        "pools": {"web": {"cidr": "10.1.0.0/24"}}}, file="stacks/Pulumi.dev.yaml")


@pytest.mark.parametrize("api,kind", [(API_V3, "IPAMConfiguration"), (API_CRD_V1, "IPAMConfig")])
def test_render_emits_the_ipamconfig_as_calico_names_it(api, kind):
    """IPAMConfiguration in projectcalico.org/v3, IPAMConfig in crd.projectcalico.org/v1,
    always named default (libcalico-go lib/apis/internalapi/ipam_config.go:22-27;
    lib/clientv3/ipamconfig.go:45-52 refuses any other name). The v1 CRD requires
    strictAffinity and autoAllocateBlocks (config/crd/crd.projectcalico.org_ipamconfigs.yaml),
    so both are written even at their defaults. The consumer: kubectl apply / calicoctl
    apply, and the normaliser that plan reads it back with."""
    docs = render_stack(_stack_with_ipam(api))
    assert [d["kind"] for d in docs] == [kind, "IPReservation", "IPPool"]  # apply order
    config = docs[0]
    assert (config["apiVersion"], config["metadata"]["name"]) == (api, "default")
    assert config["spec"] == {"strictAffinity": True, "autoAllocateBlocks": True,
                              "maxBlocksPerHost": 4}
    assert config["metadata"]["labels"]["calico-ipam.io/stack"] == "dev"
    back = normalise_ipam_config_object(yaml.safe_load(to_yaml([config])))
    assert back.spec == _stack_with_ipam().ipam_config and back.owner_stack == "dev"


def test_render_emits_each_reservation():
    reservation = render_stack(_stack_with_ipam())[1]
    assert reservation["metadata"]["name"] == "gateways"
    assert reservation["spec"] == {"reservedCIDRs": ["10.1.0.1/32", "10.1.0.2/32"]}
    assert json.loads(reservation["metadata"]["annotations"][APPLIED_SPEC_ANNOTATION]) == {
        "reservedCIDRs": ["10.1.0.1/32", "10.1.0.2/32"]}


def test_only_calico_keeps_what_calicoctl_applies():
    docs = render_stack(_stack_with_ipam())
    assert [d["kind"] for d in select_kind(docs, "calico")] == [
        "IPAMConfiguration", "IPReservation", "IPPool"]
    assert [d["kind"] for d in select_kind(docs, "pools")] == ["IPPool"]


def test_a_stack_without_ipamconfig_renders_none():
    docs = render_stack(load_stack(Path(__file__).resolve().parents[2] / "stacks"
                                   / "Pulumi.dev.yaml"))
    assert {d["kind"] for d in docs} == {"IPPool", "Namespace"}
