"""What render writes, read back as the cluster, plans as no change and no drift.

The consumer here is calico-ipam's own reader (live/normalise.py), which reads
objects as Calico does: a rendered IPAMConfiguration/IPAMConfig and
IPReservation applied unchanged must give "No changes" and no drift, for any
declared values, on both API versions.
"""
from hypothesis import given, settings
from hypothesis import strategies as st

from ipam_model.core.model import API_CRD_V1, API_V3
from ipam_model.declared.build import stack_from_config
from ipam_model.live.collector import LiveCollector
from ipam_model.plan.build import build_plan, drift_plan
from ipam_model.plan.model import Action
from ipam_model.views.manifests import render_stack


def _cidrs():
    v4 = st.builds(lambda a, p: f"10.20.{a}.0/{p}", st.integers(0, 255), st.integers(24, 24))
    host = st.builds(lambda a, b: f"10.20.{a}.{b}/32", st.integers(0, 255), st.integers(0, 255))
    v6 = st.builds(lambda a: f"fd00:20::{a:x}/128", st.integers(0, 0xffff))
    return st.lists(st.one_of(v4, host, v6), min_size=1, max_size=4, unique=True)


CONFIGS = st.fixed_dictionaries({}, optional={
    "strictAffinity": st.booleans(), "autoAllocateBlocks": st.just(True),
    "maxBlocksPerHost": st.integers(0, 1_000_000),
    "kubeVirtVMAddressPersistence": st.sampled_from(["Enabled", "Disabled"]),
    "ipCooldownSeconds": st.integers(0, 1200)})


@settings(max_examples=40, deadline=None)
@given(api=st.sampled_from([API_V3, API_CRD_V1]), ipam_config=CONFIGS,
       reservations=st.dictionaries(st.sampled_from(["gw", "vips", "edge-1"]), _cidrs(),
                                    max_size=3))
def test_rendered_objects_read_back_plan_no_change(api, ipam_config, reservations):
    stack = stack_from_config("dev", {
        "cluster": {"calicoApi": api}, "ipamConfig": ipam_config,
        "pools": {"web": {"cidr": "10.20.0.0/16"}, "v6": {"cidr": "fd00:20::/112"}},
        "reservations": {n: {"reservedCIDRs": c} for n, c in reservations.items()}},
        file="stacks/Pulumi.dev.yaml")
    collector = LiveCollector()
    for doc in render_stack(stack):
        if doc["kind"] != "Namespace":
            collector.add(doc)
    live = collector.result("rendered objects")
    plan = build_plan(stack, live, run_check=False)
    assert {c.address: c.action for c in plan.objects} == {
        "ipamconfig/default": Action.NOOP,
        **{f"ipreservation/{n}": Action.NOOP for n in reservations}}
    assert not any(c.adopt for c in plan.objects)
    assert plan.drift == () and drift_plan(stack, live).drift == ()
