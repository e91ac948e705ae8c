"""Building blocks of plan tests: a stack from config, live pools and namespaces.

Shared by tests/plan/ and tests/views/ (the plan views' golden scenarios).
"""
from __future__ import annotations

from ipam_model.calico.ippool import applied_spec_value, apply_defaults
from ipam_model.core.live_state import LiveNamespace, LivePool, LiveState, PoolUsage
from ipam_model.core.model import APPLIED_SPEC_ANNOTATION, frozen_map
from ipam_model.declared.build import stack_from_config

OURS = {"app.kubernetes.io/managed-by": "calico-ipam", "calico-ipam.io/stack": "dev"}
V4 = "cni.projectcalico.org/ipv4pools"


def stack(pools, namespaces=None, **cluster):
    config = {"cluster": cluster, "pools": pools, "namespaces": namespaces or {}}
    return stack_from_config("dev", config, file="stacks/Pulumi.dev.yaml")


def live_pool(name, spec, owner="calico-ipam", stack_name="dev", applied=None, **kw):
    """A live pool; ``applied`` is the spec its applied-spec annotation records
    (a dict, or a str for a raw annotation value), None for no annotation."""
    labels = dict(OURS, **{"calico-ipam.io/stack": stack_name}) if owner == "calico-ipam" else {}
    annotations = {}
    if isinstance(applied, str):
        annotations[APPLIED_SPEC_ANNOTATION] = applied
    elif applied is not None:
        annotations[APPLIED_SPEC_ANNOTATION] = applied_spec_value(apply_defaults(applied))
    return LivePool(name, apply_defaults(spec), frozen_map(labels), frozen_map(annotations),
                    owner=owner, owner_stack=stack_name if owner == "calico-ipam" else None,
                    **kw)


def live(pools=(), namespaces=None, usage=None):
    return LiveState("test snapshot", pools=frozen_map({p.name: p for p in pools}),
                     namespaces=frozen_map({n: LiveNamespace(n, annotations=frozen_map(a))
                                            for n, a in (namespaces or {}).items()}),
                     usage=frozen_map(usage or {}))


def used(n, ns="web"):
    return PoolUsage(allocated=n, blocks=1, nodes=("node1",), by_namespace=frozen_map({ns: n}))


WEB = {"cidr": "10.10.0.0/24", "blockSize": 26}
