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
    ("apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: a}\nspec: {cidr: 10.0.0.0/24}\n"
     "---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: b}\n"
     "spec:\n  cidr: 10.1.0.0/24\n  blockSize: 40\n", ("document 2", "spec.blockSize", "bad.yaml:11:")),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", ("document 1", "kind")),
    ("apiVersion: projectcalico.org/v3\nkind: IPPool\nspec: {cidr: 10.0.0.0/24}\n",
     ("document 1", "metadata.name")),
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


def test_cli_import_then_plan_detailed_exitcode(tmp_path, capsys):
    stacks = tmp_path / "stacks"
    assert main(["import", "--stack", "dev", "--stacks", str(stacks),
                 "--snapshot", str(SNAPSHOT)]) == 0
    args = ["plan", "--stack", "dev", "--stacks", str(stacks), "--snapshot", str(SNAPSHOT),
            "--detailed-exitcode"]
    assert main(args) == 0
    assert "No changes. The cluster matches stack dev." in capsys.readouterr().out
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
