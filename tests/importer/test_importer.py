"""import: from manifests and snapshots into stack files; round trips through render and plan."""
from __future__ import annotations

import json

import pytest
import yaml
from paths import DATA, ROOT

from ipam_model.calico.validate import apply_defaults
from ipam_model.cli import main
from ipam_model.cli.output import write_output
from ipam_model.core.errors import InputError
from ipam_model.declared.files import load_stack
from ipam_model.importer.build import from_live, minimal_pool
from ipam_model.importer.files import from_manifests, stack_file_text
from ipam_model.live.snapshot_file import load_snapshot
from ipam_model.plan.build import build_plan
from ipam_model.views.manifests import (
    APPLIED_SPEC_ANNOTATION,
    render_pool,
    render_stack,
    to_yaml,
)


def write_stack_file(path, imported, notes=None):
    """What `calico-ipam import` does: the merged text, written atomically."""
    text = stack_file_text(path, imported, notes)
    write_output(path, text, make_parents=True)
    return text

PLAN_DATA = DATA / "plan"
POOLS = PLAN_DATA / "pools.yaml"
SNAPSHOT = PLAN_DATA / "snapshot.json"


def test_import_example_manifests_then_render_equals_them(tmp_path):
    out = tmp_path / "Pulumi.dev.yaml"
    write_stack_file(out, from_manifests(str(POOLS)))
    text = out.read_text()
    assert "vxlanMode" not in text and "nodeSelector" not in text  # Calico defaults left out
    stack = load_stack(out, "dev")
    rendered = {p: render_pool(stack.pools[p], "dev") for p in stack.pools}
    originals = [d for d in yaml.safe_load_all(POOLS.read_text())]
    assert sorted(rendered) == sorted(d["metadata"]["name"] for d in originals)
    for doc in originals:
        mine = rendered[doc["metadata"]["name"]]
        assert mine["apiVersion"] == doc["apiVersion"] and mine["kind"] == doc["kind"]
        assert apply_defaults(mine["spec"]) == apply_defaults(doc["spec"])


def test_import_snapshot_then_plan_shows_no_changes(tmp_path):
    """snapshot.json holds no Installation list: the unlabelled
    default-ipv4-ippool is imported like any unlabelled pool (calico-node
    creates it on manifest installs), with a warning saying how to check."""
    live = load_snapshot(str(SNAPSHOT))
    out = tmp_path / "Pulumi.dev.yaml"
    imported = from_live(live, "dev")
    assert [p.name for p in imported.pools] == ["default-ipv4-ippool", "external-pool",
                                                "internal-pool"]
    assert not imported.skipped
    assert [w.split(" imported")[0] for w in imported.warnings] == [
        "pools default-ipv4-ippool (192.168.0.0/16), external-pool (172.16.0.0/26), "
        "internal-pool (192.169.0.0/24)"]
    assert "kubectl get installations.operator.tigera.io default" in imported.warnings[0]
    assert imported.bindings == {"external-ns": {"ipv4Pools": ["external-pool"]},
                                 "internal-ns": {"ipv4Pools": ["internal-pool"]}}
    write_stack_file(out, imported)
    plan = build_plan(load_stack(out, "dev"), live)
    assert not plan.has_changes and not plan.errors
    assert [f.subject for f in plan.findings if f.rule == "CIP620"] == [
        "pool/default-ipv4-ippool", "pool/external-pool", "pool/internal-pool"]


def _with_installation(tmp_path, cidrs):
    inst = {"apiVersion": "operator.tigera.io/v1", "kind": "Installation",
            "metadata": {"name": "default"},
            "spec": {"calicoNetwork": {"ipPools": [{"cidr": c} for c in cidrs]}}}
    extra = tmp_path / "installation.json"
    extra.write_text(json.dumps({"kind": "List", "items": [inst]}))
    return load_snapshot([str(SNAPSHOT), str(extra)])


def test_import_skips_the_pool_an_installation_declares(tmp_path):
    imported = from_live(_with_installation(tmp_path, ["192.168.0.0/16"]), "dev")
    assert [p.name for p in imported.pools] == ["external-pool", "internal-pool"]
    assert imported.skipped == (
        "pool default-ipv4-ippool (managed by the Tigera operator: the Installation default "
        "lists 192.168.0.0/16 under spec.calicoNetwork.ipPools)",)
    assert not imported.warnings


def test_manifest_install_cluster_imports_its_only_pool_and_plan_accepts_it(tmp_path):
    """A manifest install (no operator: the Installation list is empty): its only
    pool, calico-node's default-ipv4-ippool, is imported, and declaring it gives
    neither CIP607 nor advice about an Installation that does not exist."""
    pool = {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool",
            "metadata": {"name": "default-ipv4-ippool"},
            "spec": {"cidr": "192.168.0.0/16", "blockSize": 26, "ipipMode": "Always",
                     "natOutgoing": True, "nodeSelector": "all()"}}
    snap = tmp_path / "kubespray.json"
    snap.write_text(json.dumps({"kind": "CalicoIpamSnapshot", "version": 1,
                                "calicoApi": "crd.projectcalico.org/v1",
                                "counts": {"IPPool": 1, "Installation": 0}, "items": [pool]}))
    live = load_snapshot(str(snap))
    imported = from_live(live, "prod")
    assert [p.name for p in imported.pools] == ["default-ipv4-ippool"]
    assert not imported.skipped and not imported.warnings
    out = tmp_path / "Pulumi.prod.yaml"
    write_stack_file(out, imported)
    plan = build_plan(load_stack(out, "prod"), live)
    assert not plan.has_changes and not plan.errors
    assert not [f for f in plan.findings if "Installation" in f.message]


def _snapshot_with_ipam(tmp_path, owner_stack=None):
    """The plan snapshot plus the issue's IPAMConfig (strictAffinity true,
    maxBlocksPerHost 4) and a reservation, none of them labelled (made with calicoctl)."""
    doc = json.loads(SNAPSHOT.read_text())
    labels = ({"app.kubernetes.io/managed-by": "calico-ipam", "calico-ipam.io/stack": owner_stack}
              if owner_stack else {})
    doc["items"] += [
        {"apiVersion": "projectcalico.org/v3", "kind": "IPAMConfiguration",
         "metadata": {"name": "default", "labels": labels},
         "spec": {"strictAffinity": True, "maxBlocksPerHost": 4, "autoAllocateBlocks": True}},
        {"apiVersion": "projectcalico.org/v3", "kind": "IPReservation",
         "metadata": {"name": "gateways", "labels": labels},
         "spec": {"reservedCIDRs": ["172.16.0.1", "192.169.0.0/30"]}}]
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(doc))
    return path


def test_import_adopts_the_ipamconfig_and_reservations_then_plan_shows_no_changes(tmp_path):
    """import -> plan (no changes): the IPAMConfig as calico-ipam:ipamConfig (the fields
    Calico's CRD requires, the newer ones when set), each IPReservation as
    calico-ipam:reservations."""
    snapshot = _snapshot_with_ipam(tmp_path)
    stacks = tmp_path / "stacks"
    assert main(["import", "--stack", "dev", "--stacks", str(stacks),
                 "--snapshot", str(snapshot)]) == 0
    config = yaml.safe_load((stacks / "Pulumi.dev.yaml").read_text())["config"]
    assert config["calico-ipam:ipamConfig"] == {"strictAffinity": True, "autoAllocateBlocks": True,
                                                "maxBlocksPerHost": 4}
    assert config["calico-ipam:reservations"] == {
        "gateways": {"reservedCIDRs": ["172.16.0.1/32", "192.169.0.0/30"]}}
    assert config["calico-ipam:cluster"]["liveChecks"] is True  # pulumi up adopts them
    plan = build_plan(load_stack(stacks / "Pulumi.dev.yaml", "dev"), load_snapshot(str(snapshot)))
    assert not plan.has_changes and not plan.errors
    assert {c.address: c.adopt for c in plan.objects} == {
        "ipamconfig/default": True, "ipreservation/gateways": True}


def test_import_skips_the_ipamconfig_and_reservations_of_another_stack(tmp_path):
    imported = from_live(load_snapshot(str(_snapshot_with_ipam(tmp_path, "prod"))), "dev")
    assert imported.ipam_config is None and imported.reservations == ()
    assert "ipamconfig/default (owned by stack prod)" in imported.skipped
    assert "reservation gateways (owned by stack prod)" in imported.skipped


def test_existing_file_keeps_comments_and_other_keys(tmp_path):
    out = tmp_path / "Pulumi.dev.yaml"
    out.write_text("# keep me\nconfig:\n  kubernetes:context: kind-dev  # theirs\n"
                   "  calico-ipam:pools:\n    internal-pool:\n      # why /24\n"
                   "      cidr: 192.169.0.0/24\n      blockSize: 26\n"
                   "      natOutgoing: true\n      ipipMode: Always\n")
    write_stack_file(out, from_manifests(str(POOLS)))
    text = out.read_text()
    assert "# keep me" in text and "# why /24" in text and "kind-dev  # theirs" in text
    stack = load_stack(out, "dev")
    assert stack.pools["internal-pool"].spec.block_size == 29
    assert set(stack.pools) == {"external-pool", "internal-pool"}


def test_minimal_pool_leaves_out_defaults():
    from ipam_model.importer.build import ImportedPool
    pool = ImportedPool("v6", apply_defaults({"cidr": "fd00:10::/64", "blockSize": 122,
                                              "allowedUses": ["Tunnel", "Workload"]}))
    assert minimal_pool(pool) == {"cidr": "fd00:10::/64"}


@pytest.mark.parametrize("text,where", [
    ("apiVersion: projectcalico.org/v3\nkind: IPPool\nspec: {cidr: 10.0.0.0/24}\n",
     ("document 1", "metadata.name")),
    ("apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: b}\n"
     "spec:\n  cidr: 10.1.0.0/24\n  blockSize: 40\n", ("document 1", "spec.blockSize", "bad.yaml:6:")),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
     ("nothing to import", "1 ConfigMap object: a (document 1)")),
    ("- 1\n", ("document 1", "not int")),
    ("apiVersion: v1\nmetadata: {name: a}\n", ("document 1", "kind is missing")),
])
def test_malformed_manifests_name_file_document_and_path(tmp_path, text, where):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    out = tmp_path / "Pulumi.dev.yaml"
    with pytest.raises(InputError) as exc:
        write_stack_file(out, from_manifests(str(bad)))
    message = str(exc.value)
    assert message.startswith(str(bad))
    for part in where:
        assert part in message
    assert not out.exists()


MIXED = """\
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: a}
spec: {cidr: 10.0.0.0/24}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: b}
spec:
  cidr: 10.1.0.0/24
  blockSize: 40
---
apiVersion: v1
kind: Namespace
metadata:
  name: web
  annotations: {cni.projectcalico.org/ipv4pools: '["a"]', team: x}
---
apiVersion: v1
kind: Namespace
metadata:
  name: batch
  annotations: {cni.projectcalico.org/ipv4pools: '["b"]'}
---
apiVersion: v1
kind: Namespace
metadata: {name: plain}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: web}
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: calico-config, namespace: kube-system}
"""


def test_manifests_take_what_kubectl_apply_takes(tmp_path, capsys):
    """A pool failing Calico's rules is reported with file, line and path; the
    rest is imported, the Namespaces' pool annotations too; every other kind is
    listed. Exit 1 as kubectl apply fails when one object is refused."""
    src = tmp_path / "app.yaml"
    src.write_text(MIXED)
    imported = from_manifests(str(src))
    assert [p.name for p in imported.pools] == ["a"]
    assert imported.bindings == {"web": {"ipv4Pools": ["a"]}}
    assert len(imported.rejected) == 1
    assert imported.rejected[0].startswith(f"{src}:11: spec.blockSize: document 2: IPPool b:")
    assert imported.skipped == (
        "1 ConfigMap object: kube-system/calico-config (document 7) (calico-ipam imports "
        "IPPools and Namespaces' pool annotations)",
        "1 Deployment object: web/web (document 6) (calico-ipam imports IPPools and "
        "Namespaces' pool annotations)",
        "the binding of namespace batch (document 4): cni.projectcalico.org/ipv4pools = "
        "'[\"b\"]' does not name only pools of this file")
    out = tmp_path / "stacks" / "Pulumi.x.yaml"
    code = main(["import", "--stack", "x", "--manifests", str(src), "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and out.exists()
    assert "  rejected " in err and "  skipped 1 Deployment object" in err
    stack = load_stack(out, "x")
    assert list(stack.pools) == ["a"] and list(stack.bindings) == ["web"]


def test_manifests_directory_like_kubectl_apply_f_dir(tmp_path):
    d = tmp_path / "manifests"
    d.mkdir()
    (d / "b-pools.yaml").write_text(POOLS.read_text())
    (d / "a-ns.json").write_text(json.dumps({
        "apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": "external-ns",
            "annotations": {"cni.projectcalico.org/ipv4pools": "[\"external-pool\"]"}}}))
    (d / "notes.txt").write_text("not a manifest")
    imported = from_manifests(str(d))
    assert sorted(p.name for p in imported.pools) == ["external-pool", "internal-pool"]
    assert imported.bindings == {"external-ns": {"ipv4Pools": ["external-pool"]}}
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="holds no .yaml, .yml or .json file"):
        from_manifests(str(empty))


def test_legacy_v1_fields_are_read_as_calicos_crd_reader_reads_them(tmp_path):
    """libcalico-go v3.31.7 backend/k8s/resources/ippool.go:58-86
    (IPPoolv1v3Converter.ConvertFromK8s): ipip disabled -> Never, mode
    cross-subnet -> CrossSubnet, else Always (over ipipMode); natOutgoing =
    nat-outgoing || natOutgoing. Through the API server (projectcalico.org/v3)
    the same fields are refused (CIP118)."""
    cases = [({"enabled": True, "mode": "cross-subnet"}, "CrossSubnet"),
             ({"enabled": True}, "Always"), ({"enabled": True, "mode": "always"}, "Always"),
             ({"enabled": False, "mode": "cross-subnet"}, "Never")]
    docs = []
    for i, (ipip, _) in enumerate(cases):
        docs.append(yaml.safe_dump({
            "apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool",
            "metadata": {"name": f"p{i}"},
            "spec": {"cidr": f"10.{i}.0.0/16", "ipipMode": "Always", "ipip": ipip,
                     "nat-outgoing": i % 2 == 0}}))
    src = tmp_path / "legacy.yaml"
    src.write_text("---\n".join(docs))
    imported = from_manifests(str(src))
    got = {p.name: (p.spec.ipip_mode, p.spec.nat_outgoing) for p in imported.pools}
    assert got == {f"p{i}": (mode, i % 2 == 0) for i, (_, mode) in enumerate(cases)}
    assert any("read as ipipMode: CrossSubnet" in w for w in imported.warnings)
    v3 = tmp_path / "v3.yaml"
    v3.write_text(docs[0].replace("crd.projectcalico.org/v1", "projectcalico.org/v3"))
    with pytest.raises(InputError, match="CIP118"):
        from_manifests(str(v3))


def test_a_calico_v2_ippool_gets_a_message_saying_so(tmp_path):
    """Calico v2's calicoctl v1 API (apiVersion v1, kind ipPool, the CIDR in
    metadata): Calico v3 reads none of it; the message shows what
    calico-upgrade made of it (lib/upgrade/converters/ippool.go:34-107)."""
    src = tmp_path / "v2.yaml"
    src.write_text("- apiVersion: v1\n  kind: ipPool\n  metadata: {cidr: 192.168.0.0/16}\n"
                   "  spec:\n    ipip: {enabled: true, mode: cross-subnet}\n"
                   "    nat-outgoing: true\n")
    with pytest.raises(InputError) as exc:
        from_manifests(str(src))
    message = str(exc.value)
    assert "document 1 is a Calico v2 ipPool (apiVersion v1, kind ipPool" in message
    assert ("{apiVersion: projectcalico.org/v3, kind: IPPool, metadata: {name: "
            "192-168-0-0-16}, spec: {cidr: 192.168.0.0/16, ipipMode: CrossSubnet, "
            "natOutgoing: true}}") in message


def test_cli_import_then_plan_detailed_exitcode(tmp_path, capsys):
    stacks = tmp_path / "stacks"
    assert main(["import", "--stack", "dev", "--stacks", str(stacks),
                 "--snapshot", str(SNAPSHOT)]) == 0
    args = ["plan", "--stack", "dev", "--stacks", str(stacks), "--snapshot", str(SNAPSHOT),
            "--detailed-exitcode"]
    assert main(args) == 0
    # 3 pools: the snapshot's unlabelled default-ipv4-ippool is imported too (its
    # name says nothing about the operator, issue 10 point 1)
    assert ("No changes. The cluster matches stack dev: 3 pools and 2 namespace bindings "
            "unchanged.") in capsys.readouterr().out
    path = stacks / "Pulumi.dev.yaml"
    path.write_text(path.read_text().replace("natOutgoing: true", "natOutgoing: false", 1))
    assert main(args) == 2
    assert main(args[:-1]) == 0
    assert main(["drift", "--stack", "dev", "--stacks", str(stacks),
                 "--snapshot", str(SNAPSHOT)]) == 0  # unlabelled pools: adoption, not drift
    path.write_text(path.read_text().replace("blockSize: 29", "blockSize: 28", 1))
    capsys.readouterr()
    assert main(args) == 2  # replacing an unused pool is allowed
    assert "must be replaced" in capsys.readouterr().out


def test_import_of_rendered_manifests_does_not_copy_the_applied_spec(tmp_path):
    # render (and so pulumi up) writes calico-ipam.io/applied-spec; a stack file
    # must never declare it, or the record would be frozen at import time.
    stack = load_stack(ROOT / "stacks" / "Pulumi.dev.yaml", "dev")
    pools = [render_pool(stack.pools[p], "dev", api) for p, api in
             (("external-pool", "projectcalico.org/v3"), ("internal-pool", "projectcalico.org/v3"))]
    pools[0]["metadata"]["annotations"]["owner"] = "net@example.com"
    manifests = tmp_path / "rendered.yaml"
    manifests.write_text(to_yaml(pools))
    assert APPLIED_SPEC_ANNOTATION in manifests.read_text()
    out = tmp_path / "Pulumi.dev.yaml"
    write_stack_file(out, from_manifests(str(manifests)))
    text = out.read_text()
    assert APPLIED_SPEC_ANNOTATION not in text and "owner: net@example.com" in text
    imported = load_stack(out, "dev")
    assert {n: p.spec for n, p in imported.pools.items()} == {
        n: p.spec for n, p in stack.pools.items()}


def test_import_of_a_rendered_snapshot_does_not_copy_the_applied_spec(tmp_path):
    stack = load_stack(ROOT / "stacks" / "Pulumi.dev.yaml", "dev")
    snapshot = tmp_path / "live.yaml"
    snapshot.write_text(to_yaml(render_stack(stack)))
    live = load_snapshot(str(snapshot))
    assert all(APPLIED_SPEC_ANNOTATION in p.annotations for p in live.pools.values())
    out = tmp_path / "Pulumi.dev.yaml"
    write_stack_file(out, from_live(live, "dev"))
    assert APPLIED_SPEC_ANNOTATION not in out.read_text()
    plan = build_plan(load_stack(out, "dev"), live)
    assert not plan.has_changes and not plan.drift


def test_import_into_existing_file_drops_bindings_the_cluster_does_not_have(tmp_path, capsys):
    # The stack binds ns-gone to internal-pool, but the live namespace carries no
    # pool annotation: import must write what exists, so the next plan is clean.
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    path = stacks / "Pulumi.dev.yaml"
    path.write_text("# ours\nconfig:\n  calico-ipam:pools:\n"
                    "    internal-pool: {cidr: 192.169.0.0/24, blockSize: 29, ipipMode: Always,"
                    " natOutgoing: true}\n"
                    "  calico-ipam:namespaces:\n"
                    "    default:  # was bound once\n      ipv4Pools: [internal-pool]\n"
                    "      expectedPods: 7\n")
    assert main(["import", "--stack", "dev", "--stacks", str(stacks),
                 "--snapshot", str(SNAPSHOT)]) == 0
    text = path.read_text()
    assert "# ours" in text and "expectedPods: 7" in text
    binding = load_stack(path, "dev").bindings["default"]
    assert (binding.ipv4_pools, binding.expected_pods) == ((), 7)
    capsys.readouterr()
    assert main(["plan", "--stack", "dev", "--stacks", str(stacks), "--snapshot", str(SNAPSHOT),
                 "--detailed-exitcode"]) == 0
    assert "No changes" in capsys.readouterr().out


def test_import_reports_declarations_the_cluster_lacks(tmp_path, capsys):
    # A declared pool or bound namespace that does not exist is kept (import does
    # not delete the user's work) but said, since the next plan is not clean.
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.dev.yaml").write_text(
        "config:\n  calico-ipam:pools:\n    planned-pool: {cidr: 10.77.0.0/24}\n"
        "  calico-ipam:namespaces:\n    future-ns: {ipv4Pools: [planned-pool]}\n")
    assert main(["import", "--stack", "dev", "--stacks", str(stacks),
                 "--snapshot", str(SNAPSHOT)]) == 0
    out, err = capsys.readouterr()
    assert "pool planned-pool" in err and "namespace future-ns" in err
    assert "should show no changes" not in out


def test_import_replaces_declared_pool_metadata_with_the_live_one(tmp_path, capsys):
    # internal-pool carries no user labels in the cluster; a stale "team" label
    # in the stack file would make the next plan propose adding it.
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    path = stacks / "Pulumi.dev.yaml"
    path.write_text("config:\n  calico-ipam:pools:\n    internal-pool:  # ours\n"
                    "      cidr: 192.169.0.0/24\n      blockSize: 29\n      ipipMode: Always\n"
                    "      natOutgoing: true\n      metadata: {labels: {team: net}}\n")
    assert main(["import", "--stack", "dev", "--stacks", str(stacks),
                 "--snapshot", str(SNAPSHOT)]) == 0
    assert "team" not in path.read_text() and "# ours" in path.read_text()
    capsys.readouterr()
    assert main(["plan", "--stack", "dev", "--stacks", str(stacks), "--snapshot", str(SNAPSHOT),
                 "--detailed-exitcode"]) == 0


def test_unreadable_existing_stack_file_error_names_line_and_problem(tmp_path, capsys):
    # It said only "cannot read the existing stack file: while constructing a
    # mapping": neither the line nor that a key is duplicated.
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    path = stacks / "Pulumi.dev.yaml"
    text = ("config:\n  calico-ipam:pools:\n    a: {cidr: 10.0.0.0/24}\n"
            "    a: {cidr: 10.1.0.0/24}\n")
    path.write_text(text)
    assert main(["import", "--stack", "dev", "--stacks", str(stacks),
                 "--snapshot", str(SNAPSHOT)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:4:" in err and "duplicate key" in err and '"a"' in err
    assert path.read_text() == text


@pytest.mark.parametrize("text, words", [
    ("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
     "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
     "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
     "expands to more than"),
    ("apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: a}\n"
     "spec: {cidr: 10.0.0.0/24, blockSize: !!int \"x\"}\n", "invalid value for !!int"),
    ("apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: a}\n"
     "spec: !!python/object/apply:os.system [\"true\"]\n", "is not allowed"),
], ids=["alias-bomb", "bad-explicit-tag", "object-tag"])
def test_manifests_are_loaded_as_safely_as_stack_files(tmp_path, text, words):
    """Manifests come from outside (a vendor's pools.yaml): the same refusals apply."""
    path = tmp_path / "pools.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=words):
        from_manifests(str(path))
