"""The live-state normaliser and the snapshot / kubectl-output readers."""
from __future__ import annotations

import copy
import json

import netaddr
import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from paths import DATA, ROOT

from ipam_model.core.errors import InputError
from ipam_model.core.live_state import (
    OWNER_CALICO_IPAM,
    OWNER_OTHER,
    OWNER_TIGERA_OPERATOR,
    IPAMConfig,
    LiveAffinity,
    LiveBlock,
    LivePool,
)
from ipam_model.core.model import API_CRD_V1, API_V3, PoolSpec
from ipam_model.live import collector, normalise, snapshot_file
from ipam_model.live.collector import LiveCollector
from ipam_model.live.normalise import (
    build_live_state,
    compute_usage,
    normalise_affinity,
    normalise_block,
    normalise_ipam_config,
    normalise_namespace,
    normalise_pool,
)
from ipam_model.live.snapshot_file import RawSnapshot, load_snapshot, write_snapshot

LIVE = DATA / "live"


def fixture_items() -> list[dict]:
    with open(LIVE / "cluster-v1.yaml") as fh:
        return [item for doc in yaml.safe_load_all(fh) for item in doc["items"]]


def v1_pool(name="external-pool", meta=None, spec=None, **metadata):
    obj = {"apiVersion": API_CRD_V1, "kind": "IPPool", "metadata": {"name": name, **metadata},
           "spec": spec or {"cidr": "172.16.0.0/26", "blockSize": 29}}
    if meta is not None:
        obj["metadata"].setdefault("annotations", {})["projectcalico.org/metadata"] = json.dumps(meta)
    return obj


# --------------------------------------------------------------------------- pools

def test_v1_pool_metadata_annotation_is_decoded_and_merged():
    pool = normalise_pool(v1_pool(
        labels={"team": "net", "app.kubernetes.io/managed-by": "someone-else"},
        annotations={"note": "kept", "projectcalico.org/metadata": json.dumps({
            "labels": {"app.kubernetes.io/managed-by": "calico-ipam",
                       "calico-ipam.io/stack": "prod"},
            "annotations": {"owner": "platform", "pulumi.com/patchForce": "true"},
            "creationTimestamp": None})}))
    # the CR's own labels first, the decoded v3 ones win (Calico's read path)
    assert dict(pool.labels) == {"team": "net", "app.kubernetes.io/managed-by": "calico-ipam",
                                 "calico-ipam.io/stack": "prod"}
    assert dict(pool.annotations) == {"note": "kept", "owner": "platform"}
    assert (pool.owner, pool.owner_stack) == (OWNER_CALICO_IPAM, "prod")


def test_v1_and_v3_forms_of_a_pool_normalise_equal():
    v1 = normalise_pool(v1_pool(meta={"labels": {"app.kubernetes.io/managed-by": "calico-ipam"},
                                      "annotations": {"a": "b"}}))
    v3 = normalise_pool({"apiVersion": API_V3, "kind": "IPPool",
                         "metadata": {"name": "external-pool",
                                      "labels": {"app.kubernetes.io/managed-by": "calico-ipam"},
                                      "annotations": {"a": "b"}},
                         "spec": {"cidr": "172.16.0.0/26", "blockSize": 29, "ipipMode": "Never",
                                  "vxlanMode": "Never", "natOutgoing": False, "disabled": False,
                                  "nodeSelector": "all()", "allowedUses": ["Workload", "Tunnel"],
                                  "assignmentMode": "Automatic", "disableBGPExport": False}})
    assert v1 == v3


DEFAULTS = {"blockSize": (0, None), "ipipMode": ("", "Never"), "vxlanMode": ("", "Never"),
            "nodeSelector": ("", "all()"), "allowedUses": ([], ["Workload", "Tunnel"]),
            "assignmentMode": ("", "Automatic"), "natOutgoing": (None, False),
            "disabled": (None, False), "disableBGPExport": (None, False)}


@settings(max_examples=200, deadline=None)
@given(v6=st.booleans(), choices=st.fixed_dictionaries(
    {k: st.sampled_from(["omit", "empty", "explicit"]) for k in DEFAULTS}))
def test_defaults_omitted_empty_or_written_out_are_the_same_pool(v6, choices):
    cidr = "fd00:10::/64" if v6 else "10.20.0.0/16"
    spec = {"cidr": cidr}
    for key, how in choices.items():
        empty, explicit = DEFAULTS[key]
        if key == "blockSize":
            explicit = 122 if v6 else 26
        if how == "empty" and empty is not None:
            spec[key] = empty
        elif how == "explicit":
            spec[key] = explicit
    pool = normalise_pool(v1_pool(spec=spec))
    assert pool.spec == PoolSpec(cidr=cidr, block_size=122 if v6 else 26)


def test_server_fields_pulumi_and_last_applied_annotations_are_ignored():
    bare = v1_pool(meta={"labels": {"x": "y"}})
    noisy = copy.deepcopy(bare)
    noisy["metadata"].update({
        "uid": "u-1", "resourceVersion": "99", "generation": 7,
        "creationTimestamp": "2026-01-01T00:00:00Z",
        "managedFields": [{"manager": "pulumi-kubernetes"}],
    })
    noisy["metadata"]["annotations"].update({
        "pulumi.com/autonamed": "true", "pulumi.com/patchFieldManager": "calico-pools-dev",
        "kubectl.kubernetes.io/last-applied-configuration": '{"spec": {}}'})
    noisy["status"] = {"conditions": [{"type": "Allocatable", "status": "True", "reason": "OK"}]}
    assert normalise_pool(noisy) == normalise_pool(bare)


APPLIED = ('{"allowedUses":["Workload","Tunnel"],"assignmentMode":"Automatic","blockSize":29,'
           '"cidr":"172.16.0.0/26","disableBGPExport":false,"disabled":false,'
           '"ipipMode":"Never","natOutgoing":false,"nodeSelector":"all()","vxlanMode":"Never"}')


@pytest.mark.parametrize("where", ["on the object", "in projectcalico.org/metadata"])
def test_applied_spec_annotation_is_kept_and_read_back(where):
    # drift compares the live spec with it, so unlike pulumi.com/* and
    # last-applied it must survive normalisation, wherever Calico stored it.
    noise = {"pulumi.com/patchForce": "true",
             "kubectl.kubernetes.io/last-applied-configuration": "{}"}
    annotations = {"calico-ipam.io/applied-spec": APPLIED, **noise}
    obj = (v1_pool(annotations=annotations) if where == "on the object"
           else v1_pool(meta={"annotations": annotations}))
    pool = normalise_pool(obj)
    assert dict(pool.annotations) == {"calico-ipam.io/applied-spec": APPLIED}
    assert normalise.applied_pool_spec(pool) == (pool.spec, None)


def test_applied_spec_is_normalised_like_the_live_spec():
    # Defaults left out or written as Calico's empty values mean the same spec.
    pool = normalise_pool(v1_pool(annotations={"calico-ipam.io/applied-spec": json.dumps(
        {"cidr": "172.16.0.0/26", "blockSize": 29, "vxlanMode": "", "natOutgoing": "false"})}))
    assert normalise.applied_pool_spec(pool) == (pool.spec, None)
    assert normalise.applied_pool_spec(normalise_pool(v1_pool())) == (None, None)


@pytest.mark.parametrize("raw,words", [
    ("{\"cidr\": ", "is not valid JSON"),
    ("[]", "is not a JSON object (got list)"),
    ('{"blockSize": 29}', "cidr must be a CIDR"),
    ('{"cidr": "172.16.0.0/26", "natOutgoing": "maybe"}', "natOutgoing must be true or false"),
])
def test_unreadable_applied_spec_says_why_without_raising(raw, words):
    pool = normalise_pool(v1_pool(annotations={"calico-ipam.io/applied-spec": raw}))
    spec, problem = normalise.applied_pool_spec(pool)
    assert spec is None and words in problem


def test_canonical_cidr():
    assert normalise_pool(v1_pool(spec={"cidr": "172.16.0.5/26"})).spec.cidr == "172.16.0.0/26"
    assert normalise_pool(v1_pool(spec={"cidr": "FD00:0:0::/64"})).spec.cidr == "fd00::/64"


@pytest.mark.parametrize("metadata,owner,stack", [
    ({"labels": {"app.kubernetes.io/managed-by": "calico-ipam", "calico-ipam.io/stack": "dev"}},
     OWNER_CALICO_IPAM, "dev"),
    ({"labels": {"app.kubernetes.io/managed-by": "tigera-operator"}}, OWNER_TIGERA_OPERATOR, None),
    ({"ownerReferences": [{"apiVersion": "operator.tigera.io/v1", "kind": "Installation",
                           "name": "default", "uid": "1"}]}, OWNER_TIGERA_OPERATOR, None),
    # the operator owns it even if someone added our label: it would revert our edits
    ({"labels": {"app.kubernetes.io/managed-by": "calico-ipam"},
      "ownerReferences": [{"apiVersion": "operator.tigera.io/v1", "kind": "Installation",
                           "name": "default", "uid": "1"}]}, OWNER_TIGERA_OPERATOR, None),
    ({"labels": {"app.kubernetes.io/managed-by": "helm"}}, OWNER_OTHER, None),
    ({}, OWNER_OTHER, None),
])
def test_ownership(metadata, owner, stack):
    pool = normalise_pool(v1_pool(name="p1", meta=metadata))
    assert (pool.owner, pool.owner_stack) == (owner, stack)


def _installation(cidrs, name="default", **meta):
    return {"apiVersion": "operator.tigera.io/v1", "kind": "Installation",
            "metadata": {"name": name, **meta},
            "spec": {"calicoNetwork": {"ipPools": [
                {"name": f"p{i}", "cidr": c} for i, c in enumerate(cidrs)]}}}


def _state(*objects, listed_installations=True):
    c = LiveCollector()
    if listed_installations:
        c.start("Installation")
    for obj in objects:
        c.add(obj)
    return c.result("test")


def test_the_name_default_ipv4_ippool_alone_decides_nothing():
    """calico-node creates default-ipv4-ippool on manifest installs (calico.yaml,
    kubespray) where no operator runs: without the operator's markers the pool
    is nobody's in particular, never the operator's by its name."""
    for name, cidr in (("default-ipv4-ippool", "192.168.0.0/16"),
                       ("default-ipv6-ippool", "fd00::/48")):
        pool = _state(v1_pool(name=name, spec={"cidr": cidr})).pools[name]
        assert (pool.owner, pool.owner_certain) == (OWNER_OTHER, True)
    adopted = v1_pool(name="default-ipv4-ippool",
                      meta={"labels": {"app.kubernetes.io/managed-by": "calico-ipam"}})
    assert normalise_pool(adopted).owner == OWNER_CALICO_IPAM


def test_an_installation_listing_the_cidr_gives_the_pool_to_the_operator():
    """tigera/operator pool_controller.go:242-283: an unlabelled pool that equals
    a pool of the Installation "default" is adopted; one that only shares its
    CIDR is refused ("Cannot update an IP pool not owned by the operator",
    :301-306). Either way the Installation declares the CIDR. CIDRs are compared
    in canonical form (normalizeCIDR, defaults.go:75)."""
    pool = v1_pool(name="default-ipv6-ippool", spec={"cidr": "fd00:0:0::/48"})
    state = _state(pool, _installation(["FD00::/48"]))
    got = state.pools["default-ipv6-ippool"]
    assert got.owner == OWNER_TIGERA_OPERATOR
    assert got.owner_reason == ("the Installation default lists fd00::/48 under "
                                "spec.calicoNetwork.ipPools (as p0)")
    # even a pool carrying our label: the operator would adopt it and revert edits
    ours = v1_pool(name="web", meta={"labels": {"app.kubernetes.io/managed-by": "calico-ipam",
                                                "calico-ipam.io/stack": "dev"}})
    assert _state(ours, _installation(["172.16.0.0/26"])).pools["web"].owner == \
        OWNER_TIGERA_OPERATOR
    # another CIDR, or an Installation the operator does not read: not claimed
    assert _state(ours, _installation(["10.0.0.0/8"])).pools["web"].owner == OWNER_CALICO_IPAM
    other = _state(v1_pool(name="x"), _installation(["172.16.0.0/26"], name="secondary"))
    assert other.pools["x"].owner == OWNER_OTHER


def test_ownership_is_uncertain_when_the_source_holds_no_installation_list():
    """kubectl List output of IPPools says nothing about the operator: the
    unlabelled pool is 'other' but uncertain (warned and explained, never
    refused); our own and the operator's labelled pools are certain."""
    state = _state(v1_pool(name="default-ipv4-ippool", spec={"cidr": "192.168.0.0/16"}),
                   v1_pool(name="mine", spec={"cidr": "10.1.0.0/24"},
                           meta={"labels": {"app.kubernetes.io/managed-by": "calico-ipam"}}),
                   v1_pool(name="op", spec={"cidr": "10.2.0.0/24"},
                           labels={"app.kubernetes.io/managed-by": "tigera-operator"}),
                   listed_installations=False)
    assert state.installations is None
    assert [(n, p.owner, p.owner_certain) for n, p in state.pools.items()] == [
        ("default-ipv4-ippool", OWNER_OTHER, False), ("mine", OWNER_CALICO_IPAM, True),
        ("op", OWNER_TIGERA_OPERATOR, True)]
    assert state.pools["op"].owner_reason == "label app.kubernetes.io/managed-by: tigera-operator"
    # an Installation object in the input answers the question by itself
    with_inst = _state(v1_pool(name="default-ipv4-ippool", spec={"cidr": "192.168.0.0/16"}),
                       _installation(["192.168.0.0/16"]), listed_installations=False)
    assert with_inst.pools["default-ipv4-ippool"].owner == OWNER_TIGERA_OPERATOR


def test_snapshot_counts_say_which_kinds_were_listed(tmp_path):
    pool = v1_pool(name="default-ipv4-ippool", spec={"cidr": "192.168.0.0/16"})
    for counts, certain in (({"IPPool": 1, "Installation": 0}, True), ({"IPPool": 1}, False)):
        snap = tmp_path / "s.json"
        snap.write_text(json.dumps({"kind": "CalicoIpamSnapshot", "version": 1,
                                    "counts": counts, "items": [pool]}))
        assert load_snapshot(str(snap)).pools["default-ipv4-ippool"].owner_certain is certain


@pytest.mark.parametrize("spec,path", [
    ({"calicoNetwork": []}, "spec.calicoNetwork"),
    ({"calicoNetwork": {"ipPools": {"cidr": "10.0.0.0/8"}}}, "spec.calicoNetwork.ipPools"),
    ({"calicoNetwork": {"ipPools": [{"cidr": 10}]}}, "spec.calicoNetwork.ipPools[0]"),
    ({"calicoNetwork": {"ipPools": ["10.0.0.0/8"]}}, "spec.calicoNetwork.ipPools[0]"),
])
def test_malformed_installation_is_named(spec, path):
    obj = {"kind": "Installation", "metadata": {"name": "default"}, "spec": spec}
    with pytest.raises(InputError, match=r"s\.json: items\[2\]\." + path.replace("[", r"\[")
                       .replace("]", r"\]").replace(".", r"\.")):
        normalise.normalise_installation(obj, "s.json", ("items", 2))


def test_installation_without_calico_network_lists_no_pools():
    inst = normalise.normalise_installation({"kind": "Installation",
                                             "metadata": {"name": "default"}, "spec": {}})
    assert inst.pools == ()


def test_deleting_pool():
    assert normalise_pool(v1_pool(deletionTimestamp="2026-01-01T00:00:00Z")).deleting


@pytest.mark.parametrize("spec,path,words", [
    ({"cidr": "172.16.0.0/33"}, "spec.cidr", "not a valid CIDR"),
    ({"cidr": "172.16.0.0"}, "spec.cidr", "must be a CIDR"),
    ({"cidr": "10.0.0.0/8", "blockSize": "26"}, "spec.blockSize", "must be an integer"),
    ({"cidr": "10.0.0.0/8", "natOutgoing": "yes"}, "spec.natOutgoing",
     "natOutgoing must be true or false"),
    ({"cidr": "10.0.0.0/8", "allowedUses": "Workload"}, "spec.allowedUses", "list of strings"),
])
def test_bad_pool_spec_names_file_path_and_problem(spec, path, words):
    with pytest.raises(InputError) as err:
        normalise_pool(v1_pool(spec=spec), "snap.yaml", ("items", 2))
    assert str(err.value).startswith(f"snap.yaml: items[2].{path}: ")
    assert words in str(err.value)


def test_bad_metadata_annotation():
    obj = v1_pool(annotations={"projectcalico.org/metadata": "{not json"})
    with pytest.raises(InputError, match="projectcalico.org/metadata is not valid JSON"):
        normalise_pool(obj, "x.yaml", ("items", 0))


# --------------------------------------------------------------------------- blocks & co

def test_block_counts_like_reference_example():
    items = {i["metadata"]["name"]: i for i in fixture_items()}
    block = normalise_block(items["172-16-0-32-29"])
    assert block == LiveBlock(cidr="172.16.0.32/29", affinity="host:node1", size=8, allocated=3,
                              by_namespace={"external-ns": 3})
    assert block.node == "node1"
    tunnel = normalise_block(items["192-168-10-64-26"])
    # the VXLAN tunnel address is allocated but belongs to no namespace
    assert (tunnel.allocated, dict(tunnel.by_namespace)) == (3, {"default": 1, "kube-system": 1})
    assert tunnel.size == 64


def test_block_counts_borrowed_and_tunnel_addresses():
    """Borrowed as ``calicoctl ipam show --show-borrowed`` counts it
    (calicoctl/calicoctl/commands/ipam/show.go:45-100): the allocation's node
    attribute differs from the block's host, and an allocation without one is
    not classified. Tunnel addresses carry a ``type`` attribute
    (libcalico-go/lib/backend/model/block.go:39-43)."""
    items = {i["metadata"]["name"]: i for i in fixture_items()}
    assert (normalise_block(items["192-168-10-64-26"]).tunnels,
            normalise_block(items["192-168-10-64-26"]).borrowed) == (1, 0)
    pod = {"namespace": "web", "pod": "p"}
    obj = {"kind": "IPAMBlock", "spec": {
        "cidr": "10.0.0.0/29", "affinity": "host:a",
        "allocations": [0, 1, 1, 2, 3, None, 4, None],
        "attributes": [{"handle_id": "k8s-pod-network.1", "secondary": dict(pod, node="a")},
                       {"handle_id": "k8s-pod-network.2", "secondary": dict(pod, node="b")},
                       {"handle_id": "vxlan-tunnel-addr-b",
                        "secondary": {"node": "b", "type": "vxlanTunnelAddress"}},
                       {"handle_id": "from-an-old-calico"},
                       {"handle_id": "wireguard-tunnel-addr-a",
                        "secondary": {"node": "a", "type": "wireguardTunnelAddress"}}]}}
    block = normalise_block(obj)
    assert (block.allocated, block.borrowed, block.tunnels) == (6, 3, 2)
    assert dict(block.by_namespace) == {"web": 3}
    obj["spec"]["affinity"] = None  # no affinity: every allocation with a node is borrowed
    assert normalise_block(obj).borrowed == 5
    # the owner is the part after the colon whatever the prefix (show.go:74-83)
    obj["spec"]["affinity"] = "virtual:b"
    assert normalise_block(obj).borrowed == 2


def test_block_with_dangling_allocation_names_the_ordinal():
    obj = {"kind": "IPAMBlock", "spec": {"cidr": "10.0.0.0/30", "allocations": [0, None, 5],
                                         "attributes": [{"handle_id": "h"}]}}
    with pytest.raises(InputError, match=r"b\.json: items\[4\]\.spec\.allocations\[2\]: "
                                         r"allocation 2 points at attribute 5"):
        normalise_block(obj, "b.json", ("items", 4))


def test_block_deleted_flag_as_string_or_bool():
    base = {"kind": "IPAMBlock", "spec": {"cidr": "10.0.0.0/30", "deleted": "true"}}
    assert normalise_block(base).deleted
    base["spec"]["deleted"] = False
    assert not normalise_block(base).deleted


def test_affinity():
    spec = {"cidr": "10.0.0.0/26", "node": "n1", "state": "", "deleted": "false"}
    aff = normalise_affinity({"kind": "BlockAffinity", "spec": spec})
    assert (aff.node, aff.cidr, aff.state, aff.type) == ("n1", "10.0.0.0/26", "confirmed", "host")
    assert normalise_affinity({"kind": "BlockAffinity", "spec": {**spec, "deleted": "true"}}) is None


def test_namespace_annotations_without_pulumi_control_annotations():
    ns = normalise_namespace({"kind": "Namespace", "metadata": {
        "name": "a", "annotations": {"cni.projectcalico.org/ipv4pools": '["p"]',
                                     "pulumi.com/patchForce": "true"}}})
    assert dict(ns.annotations) == {"cni.projectcalico.org/ipv4pools": '["p"]'}


def test_ipam_config():
    assert normalise_ipam_config({"spec": {}}) == IPAMConfig()
    assert normalise_ipam_config({"spec": {"strictAffinity": True, "maxBlocksPerHost": 4}}) == \
        IPAMConfig(strict_affinity=True, auto_allocate_blocks=True, max_blocks_per_host=4)
    with pytest.raises(InputError, match="maxBlocksPerHost"):
        normalise_ipam_config({"spec": {"maxBlocksPerHost": -1}})


# --------------------------------------------------------------------------- usage

def _pool(name, cidr, block_size):
    return LivePool(name=name, spec=PoolSpec(cidr=cidr, block_size=block_size))


@st.composite
def pools_and_blocks(draw):
    pools = {}
    for i in range(draw(st.integers(0, 6))):
        prefix = draw(st.integers(8, 28))
        base = draw(st.integers(0, 2**32 - 1)) >> (32 - prefix) << (32 - prefix)
        base = (10 << 24) | (base & 0x00FFFFFF) if prefix > 8 else 10 << 24
        cidr = str(netaddr.IPNetwork((base, prefix)).cidr)
        if any(p.spec.cidr == cidr for p in pools.values()):
            continue
        pools[f"p{i}"] = _pool(f"p{i}", cidr, draw(st.integers(max(prefix, 20), 32)))
    blocks = []
    for _ in range(draw(st.integers(0, 30))):
        if pools and draw(st.booleans()):  # a block inside some pool
            pool = draw(st.sampled_from(sorted(pools.values(), key=lambda p: p.name)))
            net = netaddr.IPNetwork(pool.spec.cidr)
            size = 2 ** (32 - pool.spec.block_size)
            idx = draw(st.integers(0, net.size // size - 1))
            cidr = f"{netaddr.IPAddress(int(net.network) + idx * size)}/{pool.spec.block_size}"
        else:
            prefix = draw(st.integers(20, 32))
            addr = draw(st.integers(0, 2**32 - 1)) >> (32 - prefix) << (32 - prefix)
            cidr = f"{netaddr.IPAddress(addr)}/{prefix}"
        node = draw(st.sampled_from([None, "n1", "n2", "n3"]))
        ns = draw(st.dictionaries(st.sampled_from(["a", "b", "c"]), st.integers(1, 3), max_size=2))
        blocks.append(LiveBlock(cidr=cidr, affinity=f"host:{node}" if node else None,
                                size=2 ** (32 - int(cidr.split("/")[1])),
                                allocated=sum(ns.values()) + draw(st.integers(0, 1)),
                                by_namespace=ns))
    return pools, blocks


@settings(max_examples=80, deadline=None)
@given(pools_and_blocks())
def test_usage_matches_brute_force_longest_prefix(case):
    pools, blocks = case
    usage = compute_usage(pools, blocks, ())
    for name, pool in pools.items():
        mine = []
        for block in blocks:
            bnet = netaddr.IPNetwork(block.cidr)
            containing = [p for p in pools.values() if bnet in netaddr.IPNetwork(p.spec.cidr)]
            if containing and max(containing, key=lambda p: netaddr.IPNetwork(p.spec.cidr)
                                  .prefixlen).name == name:
                mine.append(block)
        expected_ns: dict = {}
        for b in mine:
            for k, v in b.by_namespace.items():
                expected_ns[k] = expected_ns.get(k, 0) + v
        got = usage[name]
        assert got.blocks == len(mine)
        assert got.allocated == sum(b.allocated for b in mine)
        assert dict(got.by_namespace) == expected_ns
        assert got.nodes == tuple(sorted({b.node for b in mine if b.node}))


def test_usage_counts_affinities_and_ipv6():
    pools = {"v6": _pool("v6", "fd00:10::/120", 124), "v4": _pool("v4", "10.0.0.0/24", 26)}
    blocks = [LiveBlock(cidr="fd00:10::10/124", affinity="host:a", size=16, allocated=2,
                        by_namespace={"x": 2})]
    affinities = [LiveAffinity(node="b", cidr="10.0.0.64/26")]
    usage = compute_usage(pools, blocks, affinities)
    assert (usage["v6"].allocated, usage["v6"].nodes) == (2, ("a",))
    assert (usage["v4"].allocated, usage["v4"].nodes, usage["v4"].in_use) == (0, ("b",), False)


# --------------------------------------------------------------------------- files

def expected_state():
    collector = LiveCollector()
    for item in fixture_items():
        collector.add(item)
    return collector.result("x")


def same_state(a, b):
    for attr in ("calico_api", "pools", "namespaces", "nodes", "blocks", "affinities",
                 "ipam_config", "usage"):
        assert getattr(a, attr) == getattr(b, attr), attr


def test_kubectl_yaml_lists_multi_document():
    state = load_snapshot(str(LIVE / "cluster-v1.yaml"))
    same_state(state, expected_state())
    assert state.calico_api == API_CRD_V1
    assert state.usage["external-pool"].allocated == 3
    assert state.notes == ("ignored objects of kinds calico-ipam does not read: ConfigMap (1)",)
    assert state.source == "snapshot cluster-v1.yaml"


def test_kubectl_json_lists_in_several_files(tmp_path):
    items = fixture_items()
    pools = [i for i in items if i["kind"] == "IPPool"]
    rest = [i for i in items if i["kind"] != "IPPool"]
    (tmp_path / "pools.json").write_text(json.dumps(
        {"apiVersion": "v1", "items": pools, "kind": "List", "metadata": {}}, indent=4))
    # two `kubectl get -o json` outputs appended to one file
    (tmp_path / "rest.json").write_text(
        json.dumps({"apiVersion": "v1", "items": rest[:5], "kind": "List"}) + "\n"
        + json.dumps({"apiVersion": "v1", "items": rest[5:], "kind": "List"}))
    state = load_snapshot([str(tmp_path / "pools.json"), str(tmp_path / "rest.json")])
    same_state(state, expected_state())


def test_single_objects_in_a_yaml_stream(tmp_path):
    path = tmp_path / "pools.yaml"
    path.write_text(yaml.safe_dump_all([i for i in fixture_items() if i["kind"] == "IPPool"]))
    assert sorted(load_snapshot(str(path)).pools) == [
        "default-ipv4-ippool", "external-pool", "internal-pool", "legacy-pool"]


def test_snapshot_round_trip(tmp_path):
    raw = RawSnapshot(source="cluster 10.0.0.1:6443 (context lab)", calico_api=API_CRD_V1,
                      objects=[snapshot_file.slim_object(i["kind"], i, i["apiVersion"])
                               for i in fixture_items() if i["kind"] in collector.SUPPORTED_KINDS])
    path = tmp_path / "snap.json"
    with open(path, "w", encoding="utf-8") as out:
        write_snapshot(raw, out)
    doc = json.loads(path.read_text())
    assert (doc["kind"], doc["version"], doc["calicoApi"]) == ("CalicoIpamSnapshot", 1, API_CRD_V1)
    assert doc["counts"]["IPAMBlock"] == 4
    state = load_snapshot(str(path))
    same_state(state, expected_state())
    assert state.source == "snapshot snap.json of cluster 10.0.0.1:6443 (context lab)"
    assert state.notes == ()


@settings(max_examples=40, deadline=None)
@given(chunk=st.integers(1, 64))
def test_streaming_json_reader_is_independent_of_chunk_size(tmp_path_factory, chunk):
    path = tmp_path_factory.mktemp("c") / "s.json"
    raw = RawSnapshot(source="s", calico_api=API_V3,
                      objects=[i for i in fixture_items() if i["kind"] in collector.SUPPORTED_KINDS])
    with open(path, "w", encoding="utf-8") as out:
        write_snapshot(raw, out)
    normal = load_snapshot(str(path))
    old = snapshot_file._JsonStream.CHUNK
    snapshot_file._JsonStream.CHUNK = chunk
    try:
        small = load_snapshot(str(path))
    finally:
        snapshot_file._JsonStream.CHUNK = old
    same_state(small, normal)


@pytest.mark.parametrize("text,words", [
    ('{"kind": "CalicoIpamSnapshot", "version": 1, "items": [{"kind": "Node", "metadata": {"na',
     "s.json:1:86: not valid JSON: Unterminated string"),  # issue 9: line and column
    ('{"kind": "CalicoIpamSnapshot", "version": 1, "items": [{"kind": "Node", "metadata": {"name": "a"}}',
     "s.json:1:99: not valid JSON: expected ']'"),
    ('{"kind": "CalicoIpamSnapshot", "version": 2, "items": []}',
     "s.json: version: unsupported CalicoIpamSnapshot version 2"),
    ('{"kind": "List", "items": [{"kind": "Node", "metadata": {"name": "a"}}, {"metadata": {}}]}',
     "s.json: items[1]: kind is missing"),
    ('{"kind": "List", "items": [{"kind": "IPPool", "metadata": {"name": "a"}, "spec": {}}]}',
     "s.json: items[0].spec.cidr: cidr must be a CIDR"),
    ('{"kind": "List", "items": [3]}', "s.json: items[0]: expected a Kubernetes object"),
    ('{"kind": "Deployment", "items": []}', "s.json: kind: expected kind CalicoIpamSnapshot or List"),
    ('{"kind": "List", "items": {"a": 1}}', "s.json: items: items must be a list"),
    ("", "s.json: the file is empty"),
])
def test_malformed_json_names_file_and_path(tmp_path, text, words):
    path = tmp_path / "s.json"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_snapshot(str(path))
    assert str(err.value).replace(str(tmp_path) + "/", "").startswith(words), str(err.value)


def test_malformed_yaml_names_line_and_document(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("kind: List\nitems:\n- kind: Node\n  metadata: {name: a\n")
    with pytest.raises(InputError, match=r"s\.yaml:5:1: not valid YAML"):
        load_snapshot(str(path))
    path.write_text("kind: Node\nmetadata: {name: a}\n---\nkind: IPAMBlock\nspec: {cidr: x}\n")
    with pytest.raises(InputError, match=r'"document 1"\.spec\.cidr: cidr must be a CIDR'):
        load_snapshot(str(path))


def test_duplicate_pool_across_files_is_an_error(tmp_path):
    with pytest.raises(InputError, match=r"ippools-v3\.yaml: items\[0\]: IPPool 'external-pool' "
                                         r"appears twice"):
        load_snapshot([str(LIVE / "cluster-v1.yaml"), str(LIVE / "ippools-v3.yaml")])


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="nope.json: cannot read the snapshot"):
        load_snapshot(str(tmp_path / "nope.json"))


def test_build_live_state_without_ipam_config_uses_calico_defaults():
    state = build_live_state("s", API_V3, [], [], [], [], [])
    assert state.ipam_config == IPAMConfig(False, True, 0)


@pytest.mark.parametrize("bad", [[0], {"a": 1}])
def test_block_allocation_that_is_not_an_index_is_an_input_error(bad, tmp_path, capsys):
    # A hand-edited or corrupted IPAMBlock (allocations: [[0]]) once ended plan
    # in "TypeError: unhashable type"; the user must get the file and path.
    obj = {"kind": "IPAMBlock", "spec": {"cidr": "10.0.0.0/30", "allocations": [None, bad],
                                         "attributes": [{"handle_id": "h"}]}}
    with pytest.raises(InputError, match=r"b\.json: items\[3\]\.spec\.allocations\[1\]: "
                                         r"allocation 1 points at attribute"):
        normalise_block(obj, "b.json", ("items", 3))
    snap = tmp_path / "snap.json"
    snap.write_text(json.dumps({"kind": "List", "items": [obj]}))
    from ipam_model.cli import main
    stacks = ROOT / "stacks"
    code = main(["plan", "--stack", "dev", "--stacks", str(stacks), "--snapshot", str(snap)])
    err = capsys.readouterr().err
    assert code == 1  # plan: every error is 1 (2 means changes with --detailed-exitcode)
    assert "Traceback" not in err and "items[0].spec.allocations[1]" in err


def test_only_a_reader_or_a_snapshot_header_knows_which_pool_api_the_cluster_serves():
    data = DATA
    from_kubectl = load_snapshot(str(data / "live" / "cluster-v1.yaml"))
    assert from_kubectl.calico_api_inferred is True
    from_snapshot = load_snapshot(str(data / "plan" / "snapshot.json"))
    assert from_snapshot.calico_api_inferred is False


@pytest.mark.parametrize("bad, message", [
    ([0, True], "allocation 1 points at attribute True"),
    ([0, 1.0], "allocation 1 points at attribute 1.0"),
    ([None, 0, 5], "allocation 2 points at attribute 5"),
    ([0, -1], "allocation 1 points at attribute -1"),
])
def test_block_with_corrupt_allocation_names_the_ordinal(bad, message):
    block = {"kind": "IPAMBlock", "spec": {"cidr": "10.0.0.0/30", "allocations": bad,
                                           "attributes": [{"secondary": {"namespace": "a"}}]}}
    with pytest.raises(InputError, match=message):
        normalise.normalise_block(block, "snap.json", ("items", 3))


def test_stored_legacy_v1_fields_are_read_as_calico_reads_them():
    """A crd.projectcalico.org/v1 pool stored with the APIv1 fields (written
    before v3.32 with kubectl): Calico's CRD reader converts them
    (libcalico-go v3.31.7 backend/k8s/resources/ippool.go:58-86)."""
    pool = normalise_pool(v1_pool(spec={"cidr": "10.20.0.0/16", "ipipMode": "Never",
                                        "ipip": {"enabled": True, "mode": "cross-subnet"},
                                        "nat-outgoing": True}))
    assert (pool.spec.ipip_mode, pool.spec.nat_outgoing) == ("CrossSubnet", True)
    with pytest.raises(InputError, match=r"spec\.ipip: ipip must be a mapping"):
        normalise_pool(v1_pool(spec={"cidr": "10.20.0.0/16", "ipip": "yes"}))


def test_status_condition_allocatable_false_is_read():
    """kube-controllers marks an overlapping pool Allocatable=False
    (pool_controller.go:280-293); Calico's pool list then skips it
    (lib/clientv3/client.go:221-239)."""
    obj = v1_pool(spec={"cidr": "10.20.0.0/16"})
    obj["status"] = {"conditions": [
        {"type": "Allocatable", "status": "False", "reason": "CIDROverlap",
         "message": "CIDR overlaps another pool; disabled to prevent IP allocation conflicts."}]}
    assert normalise_pool(obj).not_allocatable == (
        "CIDROverlap", "CIDR overlaps another pool; disabled to prevent IP allocation conflicts.")
    obj["status"]["conditions"][0]["status"] = "True"
    assert normalise_pool(obj).not_allocatable is None
    obj["status"] = {"conditions": {"type": "Allocatable"}}
    with pytest.raises(InputError, match=r"status\.conditions must be a list"):
        normalise_pool(obj)


def test_non_canonical_stored_cidr_is_kept_for_the_plan():
    pool = normalise_pool(v1_pool(spec={"cidr": "FD00:0:0:0::/120"}))
    assert (pool.spec.cidr, pool.stored_cidr) == ("fd00::/120", "FD00:0:0:0::/120")
    assert normalise_pool(v1_pool(spec={"cidr": "fd00::/120"})).stored_cidr is None
# --------------------------------------------------------------------------- IPAMConfig, IPReservation

def _kubectl_list(tmp_path, *items):
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": list(items)}))
    return load_snapshot([str(path)])


def test_the_ipamconfig_object_is_read_with_its_owner_from_v3_or_crd_v1(tmp_path):
    """The object is IPAMConfiguration in projectcalico.org/v3 and IPAMConfig in
    crd.projectcalico.org/v1, named default either way
    (libcalico-go lib/apis/internalapi/ipam_config.go:22-27)."""
    labels = {"app.kubernetes.io/managed-by": "calico-ipam", "calico-ipam.io/stack": "dev"}
    for api, kind in (("projectcalico.org/v3", "IPAMConfiguration"),
                      ("crd.projectcalico.org/v1", "IPAMConfig")):
        live = _kubectl_list(tmp_path, {
            "apiVersion": api, "kind": kind,
            "metadata": {"name": "default", "labels": labels},
            "spec": {"strictAffinity": True, "maxBlocksPerHost": 4,
                     "autoAllocateBlocks": True}})
        assert live.ipam_config == IPAMConfig(strict_affinity=True, max_blocks_per_host=4)
        obj = live.ipam_config_object
        assert (obj.owner, obj.owner_stack, obj.api_version) == (OWNER_CALICO_IPAM, "dev", api)


def test_without_an_ipamconfig_calico_uses_its_defaults(tmp_path):
    """libcalico-go lib/ipam/ipam.go:2166-2186 GetIPAMConfig."""
    live = _kubectl_list(tmp_path, {"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
                                    "metadata": {"name": "p"}, "spec": {"cidr": "10.0.0.0/24"}})
    assert live.ipam_config == IPAMConfig() and live.ipam_config_object is None


def test_reservations_are_read_as_calico_reads_them(tmp_path):
    """lib/ipam/reserved.go:94-115: a bare address is its /32, host bits are cleared,
    a malformed entry is skipped (and kept aside to be shown)."""
    live = _kubectl_list(tmp_path, {
        "apiVersion": "projectcalico.org/v3", "kind": "IPReservation",
        "metadata": {"name": "vips"},
        "spec": {"reservedCIDRs": ["10.0.0.9", "10.0.1.7/24", "bogus"]}})
    reservation = live.reservations["vips"]
    assert reservation.spec.reserved_cidrs == ("10.0.0.9/32", "10.0.1.0/24")
    assert reservation.invalid == ("bogus",)
    assert reservation.owner == OWNER_OTHER


def test_a_reservation_whose_cidrs_are_not_a_list_names_the_path(tmp_path):
    with pytest.raises(InputError, match="reservedCIDRs must be a list"):
        _kubectl_list(tmp_path, {"apiVersion": "projectcalico.org/v3", "kind": "IPReservation",
                                 "metadata": {"name": "r"},
                                 "spec": {"reservedCIDRs": "10.0.0.0/24"}})


# --------------------------------------------------------------------------- blocks, plainly

def plain_block(obj, file=None, where=()):
    """normalise_block written as plainly as it reads: every ordinal visited
    in turn (the oracle of the counting shortcuts, issue 11 point 5)."""
    where = tuple(where)
    obj = {} if obj is None else obj
    if not isinstance(obj, dict):
        raise InputError(f"IPAMBlock must be a mapping, got {type(obj).__name__}", file=file,
                         path=where)
    spec = {} if obj.get("spec") is None else obj["spec"]
    if not isinstance(spec, dict):
        raise InputError(f"spec must be a mapping, got {type(spec).__name__}", file=file,
                         path=where)
    where += ("spec",)
    cidr, _ = normalise._canonical_cidr(spec.get("cidr"), "cidr", file, where + ("cidr",))
    parsed = normalise.parse_cidr(spec.get("cidr"))
    allocations = spec.get("allocations") or []
    attributes = spec.get("attributes") or []
    for name, value in (("allocations", allocations), ("attributes", attributes)):
        if not isinstance(value, list):
            raise InputError(f"{name} must be a list", file=file, path=where + (name,))
    if len(allocations) > parsed.size:
        raise InputError(f"allocations has {len(allocations)} entries but the block holds "
                         f"{parsed.size} addresses", file=file, path=where + ("allocations",))

    def dangling(ordinal, ref):
        return InputError(f"allocation {ordinal} points at attribute {ref!r}, which does not "
                          "exist", file=file, path=where + ("allocations", ordinal))
    for ordinal, ref in enumerate(allocations):
        if ref is not None and type(ref) is not int:
            raise dangling(ordinal, ref)
    affinity = spec.get("affinity")
    if affinity is not None and not isinstance(affinity, str):
        raise InputError(f"affinity must be a string, got {affinity!r}", file=file,
                         path=where + ("affinity",))
    per_attr: dict = {}  # attribute index -> allocations, first allocated first
    for ordinal, ref in enumerate(allocations):
        if ref is None:
            continue
        if not 0 <= ref < len(attributes):
            raise dangling(ordinal, ref)
        per_attr[ref] = per_attr.get(ref, 0) + 1
    if len(attributes) <= 8:  # a block of few attributes lists its namespaces by attribute
        per_attr = dict(sorted(per_attr.items()))
    owner = (affinity or "").split(":")
    host = owner[1] if len(owner) == 2 else owner[0]
    by_namespace, borrowed, tunnels = {}, 0, 0
    for ref, count in per_attr.items():
        secondary = attributes[ref].get("secondary") if isinstance(attributes[ref], dict) else None
        if not isinstance(secondary, dict):
            continue
        namespace = secondary.get("namespace")
        if namespace and isinstance(namespace, str):
            by_namespace[namespace] = by_namespace.get(namespace, 0) + count
        if secondary.get("node") and isinstance(secondary["node"], str) \
                and secondary["node"] != host:
            borrowed += count
        if secondary.get("type") in ("ipipTunnelAddress", "vxlanTunnelAddress",
                                     "vxlanV6TunnelAddress", "wireguardTunnelAddress",
                                     "wireguardV6TunnelAddress"):
            tunnels += count
    deleted = spec.get("deleted")
    if deleted is None:
        deleted = False
    elif isinstance(deleted, str) and deleted.lower() in ("true", "false"):
        deleted = deleted.lower() == "true"
    elif not isinstance(deleted, bool):
        raise InputError(f"deleted must be true or false, got {deleted!r}", file=file,
                         path=where)  # the spec's path, as main has always said
    return LiveBlock(cidr=cidr, affinity=affinity or None, size=parsed.size,
                     allocated=sum(per_attr.values()), by_namespace=by_namespace,
                     deleted=deleted, borrowed=borrowed, tunnels=tunnels, parsed=parsed)


SECONDARY = st.fixed_dictionaries({}, optional={
    "namespace": st.sampled_from(["web", "db", "", None, 3]),
    "node": st.sampled_from(["n1", "n2", "", None]),
    "type": st.sampled_from(["vxlanTunnelAddress", "wireguardTunnelAddress", "pod", None]),
})
ATTRIBUTE = st.one_of(st.fixed_dictionaries({"handle_id": st.just("h")},
                                            optional={"secondary": SECONDARY | st.just("x")}),
                      st.sampled_from([None, "attr", 1]))
ALLOCATION = st.one_of(st.none(), st.integers(-1, 12), st.sampled_from([True, False, 1.0, "0",
                                                                         [0], {"a": 1}]))


@st.composite
def raw_blocks(draw):
    """IPAMBlocks as a hand edit or a corrupted store might hold them, mostly well formed."""
    spec = {}
    for key, values in (
            ("cidr", st.sampled_from(["10.0.0.0/28", "10.0.0.16/29", "10.0.0.5/28",
                                      "fd00::/124", "10.0.0.0", "bad", None, 5])),
            ("affinity", st.sampled_from(["host:n1", "host:n2", "virtual:n1", "n1", "a:b:c",
                                          "", None, 3])),
            ("allocations", st.lists(ALLOCATION | st.none(), max_size=20)
             | st.sampled_from([None, {}, "x", {"a": 1}, 0])),
            ("attributes", st.lists(ATTRIBUTE, max_size=12) | st.sampled_from([None, "x", {}])),
            ("deleted", st.sampled_from([True, False, "true", "False", "no", 1, None]))):
        if draw(st.integers(0, 9)):  # now and then the field is missing
            spec[key] = draw(values)
    shape = draw(st.integers(0, 19))
    return {"kind": "IPAMBlock", "spec": spec} if shape > 2 else [
        None, {"kind": "IPAMBlock", "spec": 3}, [spec]][shape]


def outcome(normalise_one, obj):
    try:
        block = normalise_one(obj, "snap.json", ("items", 7))
    except InputError as exc:
        return "refused", str(exc)
    return block, list(block.by_namespace.items()), block.parsed


def _attrs(*namespaces):
    return [{"handle_id": "h", "secondary": {"namespace": ns, "node": "n1"}} for ns in namespaces]


@settings(max_examples=600, deadline=None)
@given(raw_blocks())
@example({"kind": "IPAMBlock", "spec": {"cidr": "10.0.0.0/28", "allocations": [9, 0, None, 9],
                                        "attributes": _attrs("web", *["x"] * 8, "db")}})
@example({"kind": "IPAMBlock", "spec": {"cidr": "10.0.0.0/28", "allocations": [1, 0, None, 1],
                                        "attributes": _attrs("web", "db")}})
@example({"kind": "IPAMBlock", "spec": {"cidr": "10.0.0.0/29", "allocations": [0] * 9,
                                        "attributes": _attrs("web")}})
def test_block_counts_are_those_of_the_plain_reading(obj):
    assert outcome(normalise_block, obj) == outcome(plain_block, obj)


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["namespace", "node", "pod", "type", "x"]), JSON_VALUES),
       JSON_VALUES)
def test_any_json_in_a_blocks_attributes_is_read_or_refused_never_a_crash(secondary, attr):
    """Calico writes an attribute's secondary as map[string]string, but a pasted or
    hand-edited block may hold any JSON there: each is counted or skipped, or the
    block refused with an InputError, never a TypeError (``secondary.type: []``
    was "unhashable type: 'list'")."""
    obj = {"kind": "IPAMBlock", "spec": {
        "cidr": "10.0.0.0/30", "affinity": "host:a", "allocations": [0, 1, None, None],
        "attributes": [{"handle_id": "h", "secondary": secondary}, attr]}}
    try:
        block = normalise_block(obj)
    except InputError:
        return
    assert block.allocated == 2 and 0 <= block.tunnels <= 2 and 0 <= block.borrowed <= 2
