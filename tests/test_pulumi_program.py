"""The Pulumi program (__main__.py) under Pulumi's mock runtime.

There is no Pulumi CLI and no cluster here: ``pulumi.runtime.set_mocks``
stands in for the engine, and the config comes from the real
``stacks/Pulumi.<env>.yaml`` files through ``pulumi.runtime.set_all_config``
(JSON values, exactly as the CLI hands structured config to a program).
Each test runs the program afresh (``runpy``) with its own mock monitor.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import logging
import runpy
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pytest
import yaml

from ipam_model.declared.files import load_stack
from ipam_model.views.manifests import render_stack

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "__main__.py"
STACKS = ROOT / "stacks"
V3_POOL = "kubernetes:projectcalico.org/v3:IPPool"
V1_POOL = "kubernetes:crd.projectcalico.org/v1:IPPool"
PATCH = "kubernetes:core/v1:NamespacePatch"
V3_IPAM_CONFIG = "kubernetes:projectcalico.org/v3:IPAMConfiguration"
V1_IPAM_CONFIG = "kubernetes:crd.projectcalico.org/v1:IPAMConfig"
V3_RESERVATION = "kubernetes:projectcalico.org/v3:IPReservation"
V1_RESERVATION = "kubernetes:crd.projectcalico.org/v1:IPReservation"
CALICO_TYPES = (V3_POOL, V1_POOL, V3_IPAM_CONFIG, V1_IPAM_CONFIG, V3_RESERVATION,
                V1_RESERVATION)
PROVIDER = "pulumi:providers:kubernetes"
FIELD_MANAGER = "pulumi.com/patchFieldManager"


@dataclass
class Registration:
    type: str
    name: str
    inputs: dict
    protect: bool
    retain_on_delete: bool
    replace_on_changes: list
    dependencies: list
    provider: str
    import_id: str = ""          # Pulumi's import option: adopt the object with this ID


@dataclass
class Run:
    resources: list[Registration] = field(default_factory=list)
    logs: list[tuple[str, str]] = field(default_factory=list)
    outputs: dict = field(default_factory=dict)

    def of_type(self, *types: str) -> dict[str, Registration]:
        return {r.name: r for r in self.resources if r.type in types}

    def messages(self, level: str) -> list[str]:
        return [m for lvl, m in self.logs if lvl == level]


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


class _RecordingMonitor(pulumi.runtime.mocks.MockMonitor):
    """The mock monitor, also keeping the resource options Mocks never see."""

    def __init__(self, mocks, run: Run):
        super().__init__(mocks)
        self.run = run

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.run.resources.append(Registration(
                type=request.type, name=request.name,
                inputs=self.resources[response.urn].state,
                protect=request.protect, retain_on_delete=request.retainOnDelete,
                replace_on_changes=list(request.replaceOnChanges),
                dependencies=list(request.dependencies), provider=request.provider,
                import_id=request.importId))
        return response


class _LogCapture(logging.Handler):
    def __init__(self, run: Run):
        super().__init__()
        self.run = run

    def emit(self, record):
        self.run.logs.append((record.levelname.lower(), record.getMessage()))


def stack_config(env: str) -> dict:
    """The ``config:`` mapping of the real stack file."""
    with open(STACKS / f"Pulumi.{env}.yaml") as handle:
        return yaml.safe_load(handle)["config"]


def run_program(env: str, config: dict | None = None, run: Run | None = None) -> Run:
    """Run __main__.py for stack *env* under mocks; return what it registered.

    Pass *run* to keep what was recorded when the program raises.
    """
    config = stack_config(env) if config is None else config
    run = Run() if run is None else run
    pulumi.runtime.settings.ROOT.set(None)  # a fresh root Stack per run
    pulumi.runtime.set_all_config(
        {key: value if isinstance(value, str) else json.dumps(value)
         for key, value in config.items()})
    logger = logging.getLogger(f"pulumi-program-test-{id(run)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(_LogCapture(run))
    mocks = _Mocks()
    pulumi.runtime.set_mocks(mocks, project="calico-ipam", stack=env, preview=False,
                             logger=logger, monitor=_RecordingMonitor(mocks, run))

    @pulumi.runtime.test
    def program():
        runpy.run_path(str(PROGRAM), run_name="__main__")

    try:
        program()
    finally:
        run.outputs = dict(pulumi.runtime.settings.get_root_resource().outputs)
    return run


def without_pulumi_annotations(inputs: dict) -> dict:
    """The object as Kubernetes sees it: pulumi.com/* control annotations removed."""
    inputs = copy.deepcopy(inputs)
    annotations = inputs.get("metadata", {}).get("annotations")
    if annotations is not None:
        for key in [k for k in annotations if k.startswith("pulumi.com/")]:
            del annotations[key]
    return inputs


DEV_EXTERNAL_SPEC = {
    "cidr": "172.16.0.0/26", "blockSize": 29, "ipipMode": "Always", "vxlanMode": "Never",
    "natOutgoing": True, "disabled": False, "disableBGPExport": False, "nodeSelector": "all()",
    "allowedUses": ["Workload", "Tunnel"], "assignmentMode": "Automatic"}


# ------------------------------------------------------------------ dev

def test_dev_registers_the_calico_example_exactly():
    run = run_program("dev")
    assert sorted((r.type, r.name) for r in run.resources) == sorted([
        (V3_POOL, "ippool-external-pool"), (V3_POOL, "ippool-internal-pool"),
        (PATCH, "namespace-external-ns"), (PATCH, "namespace-internal-ns"),
        (PROVIDER, "calico-ipam-cluster")])
    external = run.of_type(V3_POOL)["ippool-external-pool"].inputs
    assert external["apiVersion"] == "projectcalico.org/v3" and external["kind"] == "IPPool"
    assert external["metadata"] == {"name": "external-pool", "labels": {
        "app.kubernetes.io/managed-by": "calico-ipam", "calico-ipam.io/stack": "dev"},
        "annotations": {"calico-ipam.io/applied-spec": json.dumps(
            DEV_EXTERNAL_SPEC, sort_keys=True, separators=(",", ":"))}}
    assert external["spec"] == DEV_EXTERNAL_SPEC
    assert run.of_type(V3_POOL)["ippool-internal-pool"].inputs["spec"]["cidr"] == "192.169.0.0/24"
    patch = run.of_type(PATCH)["namespace-external-ns"].inputs
    assert patch["metadata"] == {"name": "external-ns", "annotations": {
        "cni.projectcalico.org/ipv4pools": '["external-pool"]',
        FIELD_MANAGER: "calico-ipam-dev"}}


def test_dev_pool_options_never_delete_and_show_replacement():
    run = run_program("dev")
    provider_urn_part = "pulumi:providers:kubernetes::calico-ipam-cluster"
    for pool in run.of_type(V3_POOL).values():
        assert pool.retain_on_delete is True
        assert pool.protect is False  # dev does not ask for protect
        assert pool.replace_on_changes == ["spec.cidr", "spec.blockSize"]
        assert provider_urn_part in pool.provider
    for patch in run.of_type(PATCH).values():
        assert provider_urn_part in patch.provider
        assert patch.protect is False and patch.retain_on_delete is False


def test_dev_namespace_patches_depend_on_the_pools_they_name():
    run = run_program("dev")
    patch = run.of_type(PATCH)["namespace-internal-ns"]
    assert len(patch.dependencies) == 1
    assert patch.dependencies[0].endswith(f"{V3_POOL}::ippool-internal-pool")


def test_dev_outputs_pools_bindings_capacity():
    run = run_program("dev")
    assert run.outputs["pools"] == {
        "external-pool": {"cidr": "172.16.0.0/26", "blockSize": 29, "addresses": 64,
                          "blocks": 8},
        "internal-pool": {"cidr": "192.169.0.0/24", "blockSize": 29, "addresses": 256,
                          "blocks": 32}}
    assert run.outputs["bindings"] == {
        "external-ns": {"ipv4Pools": ["external-pool"], "ipv6Pools": [], "expectedPods": 3},
        "internal-ns": {"ipv4Pools": ["internal-pool"], "ipv6Pools": [], "expectedPods": 3}}
    capacity = json.dumps(run.outputs["capacity"])
    assert "external-pool" in capacity and "internal-pool" in capacity
    assert run.outputs["findings"]["error"] == 0


def test_dev_warns_about_public_address_space_without_failing():
    run = run_program("dev")
    warnings = run.messages("warning")
    assert any(m.startswith("CIP301 ") and "internal-pool" in m and "Pulumi.dev.yaml" in m
               for m in warnings), warnings
    assert run.messages("error") == []


# ------------------------------------------------------------------ every env vs render

@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_registered_objects_equal_what_render_prints(env):
    run = run_program(env)
    stack = load_stack(STACKS / f"Pulumi.{env}.yaml")
    rendered = render_stack(stack)
    registered = {}
    for r in run.resources:
        if r.type in (*CALICO_TYPES, PATCH):
            registered[(r.inputs["kind"], r.inputs["metadata"]["name"])] = \
                without_pulumi_annotations(r.inputs)
    assert registered == {(d["kind"], d["metadata"]["name"]): d for d in rendered}
    # every pool of the stack file is there, under its stable logical name
    assert set(run.of_type(V3_POOL, V1_POOL)) == {f"ippool-{n}" for n in stack.pools}
    for name, patch in run.of_type(PATCH).items():
        assert patch.inputs["metadata"]["annotations"][FIELD_MANAGER] == f"calico-ipam-{env}"


def test_prod_pools_are_protected_and_retained():
    run = run_program("prod")
    pools = run.of_type(V3_POOL)
    assert sorted(pools) == sorted(f"ippool-{n}" for n in [
        "prod-default-v4", "prod-default-v6", "prod-gpu-v4", "prod-payments-v4",
        "prod-payments-v6", "prod-legacy-v4", "prod-lb"])
    assert all(p.protect and p.retain_on_delete for p in pools.values())
    assert all(p.replace_on_changes == ["spec.cidr", "spec.blockSize"] for p in pools.values())
    # only payments names pools; web/batch/monitoring rely on the default pools
    patch = run.of_type(PATCH)
    assert list(patch) == ["namespace-payments"]
    assert patch["namespace-payments"].inputs["metadata"]["annotations"] == {
        "cni.projectcalico.org/ipv4pools": '["prod-payments-v4"]',
        "cni.projectcalico.org/ipv6pools": '["prod-payments-v6"]',
        FIELD_MANAGER: "calico-ipam-prod"}
    deps = sorted(d.rsplit("::", 1)[1] for d in patch["namespace-payments"].dependencies)
    assert deps == ["ippool-prod-payments-v4", "ippool-prod-payments-v6"]
    assert run.outputs["pools"]["prod-default-v6"] == {
        "cidr": "fd00:20:128::/108", "blockSize": 122, "addresses": 1 << 20, "blocks": 1 << 14}


def test_staging_is_not_protected_but_retained_and_uses_its_context():
    run = run_program("staging")
    assert all(p.retain_on_delete and not p.protect for p in run.of_type(V3_POOL).values())
    provider = run.of_type(PROVIDER)["calico-ipam-cluster"].inputs
    assert provider["context"] == "staging-admin"


def test_crd_v1_api_registers_the_v1_type():
    config = stack_config("dev")
    config["calico-ipam:cluster"]["calicoApi"] = "crd.projectcalico.org/v1"
    run = run_program("dev", config)
    pools = run.of_type(V1_POOL)
    assert sorted(pools) == ["ippool-external-pool", "ippool-internal-pool"]
    assert pools["ippool-external-pool"].inputs["apiVersion"] == "crd.projectcalico.org/v1"
    assert pools["ippool-external-pool"].inputs["spec"] == DEV_EXTERNAL_SPEC
    assert run.of_type(V3_POOL) == {}


def test_cluster_settings_drive_the_provider_and_options():
    config = stack_config("dev")
    config["calico-ipam:cluster"].update(
        {"kubeconfig": "/etc/calico-ipam/lab.kubeconfig", "context": "lab-admin",
         "retainOnDelete": False, "protect": True})
    run = run_program("dev", config)
    provider = run.of_type(PROVIDER)["calico-ipam-cluster"].inputs
    assert provider["kubeconfig"] == "/etc/calico-ipam/lab.kubeconfig"
    assert provider["context"] == "lab-admin"
    assert all(p.protect and not p.retain_on_delete for p in run.of_type(V3_POOL).values())


def test_conflicting_kubernetes_context_registers_nothing():
    config = stack_config("prod")
    config["kubernetes:context"] = "staging-admin"
    with pytest.raises(pulumi.RunError, match="staging-admin"):
        run_program("prod", config)


# ------------------------------------------------------------------ refusals

@pytest.mark.parametrize("mutate, rule, where", [
    (lambda c: c["calico-ipam:pools"].update(
        {"overlapping-pool": {"cidr": "172.16.0.32/27", "blockSize": 29}}),
     "CIP201", "calico-ipam:pools.overlapping-pool.cidr"),
    (lambda c: c["calico-ipam:pools"]["external-pool"].update({"blockSize": 33}),
     "CIP104", "calico-ipam:pools.external-pool.blockSize"),
    (lambda c: c["calico-ipam:namespaces"]["external-ns"].update(
        {"ipv4Pools": ["no-such-pool"]}),
     "CIP402", "calico-ipam:namespaces.external-ns.ipv4Pools"),
    (lambda c: c["calico-ipam:cluster"].update({"serviceCidrs": ["172.16.0.0/24"]}),
     "CIP203", "Pulumi.dev.yaml"),
], ids=["overlap", "block-size-33", "missing-pool", "service-cidr-overlap"])
def test_error_findings_register_nothing_and_name_the_rule(mutate, rule, where):
    config = stack_config("dev")
    mutate(config)
    run = Run()
    with pytest.raises(pulumi.RunError) as excinfo:
        run_program("dev", config, run)
    assert run.resources == []  # not even the provider
    assert rule in str(excinfo.value) and "nothing was registered" in str(excinfo.value)
    errors = run.messages("error")
    assert any(m.startswith(rule + " ") and "Pulumi.dev.yaml" in m and where in m
               for m in errors), errors
    assert run.outputs == {}


def test_schema_error_is_one_line_and_registers_nothing():
    config = stack_config("dev")
    config["calico-ipam:pools"]["external-pool"]["blocksize"] = 29
    run = Run()
    with pytest.raises(pulumi.RunError) as excinfo:
        run_program("dev", config, run)
    message = str(excinfo.value)
    assert "blocksize" in message and "Pulumi.dev.yaml" in message and "\n" not in message
    assert run.resources == []
    assert [m for m in run.messages("error") if m.startswith("CIP002 ")], run.logs


def test_missing_pools_config_fails_before_registering():
    config = stack_config("dev")
    del config["calico-ipam:pools"]
    with pytest.raises(pulumi.RunError, match="calico-ipam:pools"):
        run_program("dev", config)


def test_cross_stack_overlap_in_the_routing_domain_is_refused():
    # staging and prod share routing domain dc1; prod-default-v4 is 10.128.0.0/16
    config = stack_config("staging")
    config["calico-ipam:pools"]["staging-extra-v4"] = {"cidr": "10.128.64.0/24",
                                                       "blockSize": 26}
    with pytest.raises(pulumi.RunError, match="CIP202"):
        run_program("staging", config)


# ------------------------------------------------------------------ live safety gates

def _live_dev(block_size: int = 29, extra_pools=(), blocks=()):
    """A live cluster for dev: its pools as rendered (owned by stack dev), namespaces present."""
    from ipam_model.core.live_state import OWNER_CALICO_IPAM, LiveNamespace, LivePool
    from ipam_model.live.normalise import build_live_state

    stack = load_stack(STACKS / "Pulumi.dev.yaml")
    labels = {"app.kubernetes.io/managed-by": "calico-ipam", "calico-ipam.io/stack": "dev"}
    pools = []
    for name, pool in stack.pools.items():
        spec = pool.spec
        if name == "external-pool":
            spec = dataclasses.replace(spec, block_size=block_size)
        pools.append(LivePool(name=name, spec=spec, labels=labels, owner=OWNER_CALICO_IPAM,
                              owner_stack="dev"))
    pools += list(extra_pools)
    namespaces = [LiveNamespace(name=ns, annotations={
        key: json.dumps(list(value)) for key, value in b.annotations().items()})
        for ns, b in stack.bindings.items()]
    return build_live_state("fake cluster", "projectcalico.org/v3", pools, namespaces, [],
                            blocks, [])


@pytest.fixture
def live_cluster(monkeypatch):
    """Replace the Kubernetes reader; yields a setter for the state it returns."""
    import ipam_model.live.kube.reader
    state = {}

    class FakeReader:
        def __init__(self, kubeconfig=None, context=None, **_):
            state["target"] = (kubeconfig, context)

        def read(self):
            if isinstance(state["live"], Exception):
                raise state["live"]
            return state["live"]

    monkeypatch.setattr(ipam_model.live.kube.reader.KubeReader, "from_kubeconfig", FakeReader)
    monkeypatch.delenv("CALICO_IPAM_ALLOW_DISRUPTION", raising=False)
    return state


def _dev_live_checks() -> dict:
    config = stack_config("dev")
    config["calico-ipam:cluster"].update({"liveChecks": True, "context": "lab-admin"})
    return config


def test_live_checks_pass_when_the_cluster_matches(live_cluster):
    live_cluster["live"] = _live_dev()
    run = run_program("dev", _dev_live_checks())
    assert live_cluster["target"] == (None, "lab-admin")
    assert len(run.of_type(V3_POOL)) == 2 and len(run.of_type(PATCH)) == 2


def test_live_block_size_change_with_allocations_is_refused_with_the_migration(live_cluster):
    from ipam_model.core.live_state import LiveBlock
    # live external-pool has /26 blocks and 3 pods of external-ns; the stack says /29
    live_cluster["live"] = _live_dev(block_size=26, blocks=[LiveBlock(
        "172.16.0.0/26", "host:worker-0", 64, 3, {"external-ns": 3})])
    run = Run()
    with pytest.raises(pulumi.RunError) as excinfo:
        run_program("dev", _dev_live_checks(), run)
    assert run.resources == []
    assert "CIP601" in str(excinfo.value) and "\n" not in str(excinfo.value)
    errors = "\n".join(run.messages("error"))
    assert errors.startswith("CIP601 immutable-field-change: stacks/Pulumi.dev.yaml")
    # the migration plan, with concrete names, is in the log
    assert "external-pool-migration" in errors and "kubectl -n external-ns" in errors, errors


def test_live_checks_off_never_read_the_cluster(live_cluster):
    live_cluster["live"] = RuntimeError("the reader must not be used")
    run = run_program("dev")
    assert "target" not in live_cluster and len(run.of_type(V3_POOL)) == 2


def test_unreadable_cluster_registers_nothing(live_cluster):
    from ipam_model.core.errors import ClusterError
    live_cluster["live"] = ClusterError("cluster https://lab:6443: 403 Forbidden listing ippools")
    run = Run()
    with pytest.raises(pulumi.RunError, match="403 Forbidden"):
        run_program("dev", _dev_live_checks(), run)
    assert run.resources == []


def test_deleting_an_owned_pool_in_use_is_gated_unless_allowed(live_cluster, monkeypatch):
    # retainOnDelete: false, so removing old-pool from the stack would delete it
    config = _dev_live_checks()
    config["calico-ipam:cluster"]["retainOnDelete"] = False
    from ipam_model.core.live_state import OWNER_CALICO_IPAM, LiveBlock, LivePool
    from ipam_model.core.model import PoolSpec
    old = LivePool(name="old-pool", spec=PoolSpec("172.16.1.0/26", 29),
                   labels={"app.kubernetes.io/managed-by": "calico-ipam",
                           "calico-ipam.io/stack": "dev"},
                   owner=OWNER_CALICO_IPAM, owner_stack="dev")
    live_cluster["live"] = _live_dev(extra_pools=[old], blocks=[LiveBlock(
        "172.16.1.0/29", "host:worker-0", 8, 2, {"legacy": 2})])
    run = Run()
    with pytest.raises(pulumi.RunError, match="CIP602"):
        run_program("dev", config, run)
    assert run.resources == []
    assert any("old-pool" in m for m in run.messages("error"))
    monkeypatch.setenv("CALICO_IPAM_ALLOW_DISRUPTION", "old-pool")
    run = run_program("dev", config)
    assert len(run.of_type(V3_POOL)) == 2


# ------------------------------------------------------------------ IPAMConfig and IPReservations

def test_prod_registers_its_ipam_config_and_reservations_before_the_pools():
    run = run_program("prod")
    (config,) = run.of_type(V3_IPAM_CONFIG).values()
    assert config.name == "ipamconfig-default"
    assert config.inputs["kind"] == "IPAMConfiguration"
    assert config.inputs["metadata"]["name"] == "default"
    assert config.inputs["spec"] == {"strictAffinity": False, "autoAllocateBlocks": True,
                                     "maxBlocksPerHost": 0}
    # never deleted with the stack: that would put the cluster back on Calico's defaults
    assert config.retain_on_delete is True and config.protect is True
    (reservation,) = run.of_type(V3_RESERVATION).values()
    assert reservation.name == "ipreservation-payments-gateways"
    assert reservation.inputs["spec"] == {"reservedCIDRs": ["10.129.16.0/29",
                                                            "fd00:20:129::/125"]}
    assert reservation.inputs["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "calico-ipam", "calico-ipam.io/stack": "prod"}
    assert reservation.retain_on_delete is True and reservation.protect is True
    # no pod may get an address between a pool's creation and its reservation's
    for pool in run.of_type(V3_POOL).values():
        assert sorted(d.rsplit("::", 1)[1] for d in pool.dependencies) == [
            "ipamconfig-default", "ipreservation-payments-gateways"]
    assert run.outputs["ipamConfig"] == config.inputs["spec"]
    assert run.outputs["reservations"] == {
        "payments-gateways": ["10.129.16.0/29", "fd00:20:129::/125"]}


def test_crd_v1_registers_ipam_config_and_reservation_kinds_of_v1():
    config = stack_config("prod")
    config["calico-ipam:cluster"]["calicoApi"] = "crd.projectcalico.org/v1"
    run = run_program("prod", config)
    assert [r.inputs["kind"] for r in run.of_type(V1_IPAM_CONFIG).values()] == ["IPAMConfig"]
    assert list(run.of_type(V1_RESERVATION)) == ["ipreservation-payments-gateways"]
    assert run.of_type(V3_IPAM_CONFIG) == {} and run.of_type(V3_RESERVATION) == {}


def test_dev_declares_no_ipam_config_so_none_is_registered():
    run = run_program("dev")
    assert run.of_type(V3_IPAM_CONFIG, V1_IPAM_CONFIG, V3_RESERVATION, V1_RESERVATION) == {}
    assert "ipamConfig" not in run.outputs and "reservations" not in run.outputs


def test_an_old_stack_with_ipam_keys_under_cluster_is_refused_with_where_they_went():
    config = stack_config("dev")
    config["calico-ipam:cluster"]["strictAffinity"] = True
    run = Run()
    with pytest.raises(pulumi.RunError) as excinfo:
        run_program("dev", config, run)
    assert 'unknown key "strictAffinity": it moved to calico-ipam:ipamConfig.strictAffinity' \
        in str(excinfo.value)
    assert run.resources == []


# ------------------------------------------------------------------ adoption (pulumi up after import)

def _adopted_prod_cluster():
    """prod's cluster as `calico-ipam import` found it: every pool, the IPAMConfig and the
    reservation exist, none of them labelled (made by hand or by another tool), plus a
    pool prod does not declare."""
    from ipam_model.core.live_state import (
        LiveIpamConfig,
        LiveNamespace,
        LivePool,
        LiveReservation,
    )
    from ipam_model.core.model import IPAMConfig, ReservationSpec
    from ipam_model.live.normalise import build_live_state

    stack = load_stack(STACKS / "Pulumi.prod.yaml")
    pools = [LivePool(name=n, spec=p.spec) for n, p in stack.pools.items()
             if n != "prod-lb"]  # prod-lb is new: pulumi up creates it
    pools.append(LivePool(name="someone-elses", spec=dataclasses.replace(
        stack.pools["prod-lb"].spec, cidr="10.200.0.0/24")))
    namespaces = [LiveNamespace(name=ns) for ns in stack.bindings]
    reservation = LiveReservation("payments-gateways", ReservationSpec(
        ("10.129.16.0/29", "fd00:20:129::/125")))
    return build_live_state("fake cluster", "projectcalico.org/v3", pools, namespaces, [], [],
                            [], ipam_config_object=LiveIpamConfig(IPAMConfig()),
                            reservations=[reservation])


def _prod_live_checks() -> dict:
    config = stack_config("prod")
    config["calico-ipam:cluster"]["liveChecks"] = True
    return config


def test_adopting_pulumi_up_imports_every_declared_object_that_exists(live_cluster):
    """pulumi-kubernetes >= 4.29.0 fails a create of an existing object with
    AlreadyExists (its CHANGELOG.md, 4.29.0; provider/pkg/await/await.go:190-290):
    every declared object the live read found gets Pulumi's import option with its
    name as the ID; the one that does not exist (prod-lb) is created as before."""
    live_cluster["live"] = _adopted_prod_cluster()
    run = run_program("prod", _prod_live_checks())
    imported = {r.name: r.import_id for r in run.resources if r.type in CALICO_TYPES}
    assert imported == {
        "ipamconfig-default": "default",
        "ipreservation-payments-gateways": "payments-gateways",
        **{f"ippool-{n}": n for n in ["prod-default-v4", "prod-default-v6", "prod-gpu-v4",
                                      "prod-payments-v4", "prod-payments-v6",
                                      "prod-legacy-v4"]},
        "ippool-prod-lb": ""}
    # the undeclared live pool is not Pulumi's business
    assert "ippool-someone-elses" not in {r.name for r in run.resources}
    # imported with the program's inputs: Pulumi updates them to carry the ownership
    # labels and the applied-spec record (import then update, pulumi/pulumi#19339)
    pool = run.of_type(V3_POOL)["ippool-prod-default-v4"]
    assert pool.inputs["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "calico-ipam"
    assert "calico-ipam.io/applied-spec" in pool.inputs["metadata"]["annotations"]
    # the namespace patches need no import: a Patch never creates the namespace
    assert all(r.import_id == "" for r in run.of_type(PATCH).values())


def test_a_second_pulumi_up_keeps_the_same_import_ids(live_cluster):
    """Once imported, a resource with the same import ID is treated like any other
    (pulumi/pulumi developer-docs/architecture/import.md, case 2), so the option may
    stay: the next run, against the cluster the first one labelled, registers the same
    IDs (an ID that changed would make Pulumi import again, or replace)."""
    from ipam_model.core.live_state import OWNER_CALICO_IPAM
    live = _adopted_prod_cluster()
    live_cluster["live"] = live
    first = {r.name: r.import_id for r in run_program("prod", _prod_live_checks()).resources}
    # what the first run left: every object labelled as prod's
    labels = {"app.kubernetes.io/managed-by": "calico-ipam", "calico-ipam.io/stack": "prod"}
    ours = {"labels": labels, "owner": OWNER_CALICO_IPAM, "owner_stack": "prod"}
    live_cluster["live"] = dataclasses.replace(
        live,
        pools={n: dataclasses.replace(p, **ours) if n != "someone-elses" else p
               for n, p in live.pools.items()},
        ipam_config_object=dataclasses.replace(live.ipam_config_object, **ours),
        reservations={n: dataclasses.replace(r, **ours) for n, r in live.reservations.items()})
    second = {r.name: r.import_id for r in run_program("prod", _prod_live_checks()).resources}
    assert first == second
    assert second["ippool-prod-default-v4"] == "prod-default-v4"


def test_adoption_is_guarded_by_the_gates_nothing_is_registered_when_they_refuse(live_cluster):
    from ipam_model.core.live_state import OWNER_CALICO_IPAM, LiveReservation
    from ipam_model.core.model import ReservationSpec
    live = _adopted_prod_cluster()
    # the cluster's reservation belongs to another stack: adopting it would steal it
    other = LiveReservation("payments-gateways", ReservationSpec(("10.129.16.0/29",)),
                            owner=OWNER_CALICO_IPAM, owner_stack="staging")
    live_cluster["live"] = dataclasses.replace(live, reservations={"payments-gateways": other})
    run = Run()
    with pytest.raises(pulumi.RunError, match="CIP615"):
        run_program("prod", _prod_live_checks(), run)
    assert run.resources == []


def test_without_live_checks_nothing_is_imported(live_cluster):
    live_cluster["live"] = RuntimeError("the reader must not be used")
    run = run_program("prod")
    assert all(r.import_id == "" for r in run.resources)
