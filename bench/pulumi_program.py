"""The Pulumi program under Pulumi's mock runtime: 1,000 pools, 5,000 namespaces.

Prints the time of the whole program (config, ipam_model's check, render,
capacity, and registering 6,001 resources with the mock monitor) next to the
time of ipam_model alone on the same input (stack_from_config, check_stack,
render_stack, pool_capacity), and their ratio: what Pulumi's own machinery
adds. Both run in this process, ipam_model first. Usage:

    python bench/pulumi_program.py [POOLS [NAMESPACES [NODES]]]

NODES defaults to 50 (one node group): check_stack then also runs the
capacity forecast (forecast.py), as it does for every real stack with node
groups. NODES=0 leaves the forecast out.
"""
from __future__ import annotations

import json
import logging
import runpy
import sys
import time
from pathlib import Path

import netaddr
import pulumi

from ipam_model.declared.build import stack_from_config
from ipam_model.rules import capacity
from ipam_model.rules import runner as check
from ipam_model.views import manifests as render

ROOT = Path(__file__).resolve().parent.parent
STACK = "bench"  # no stacks/Pulumi.bench.yaml: no routing-domain siblings to load


def synthetic_config(pools: int, namespaces: int, nodes: int = 0) -> dict:
    """Disjoint /20 pools in 10.0.0.0/8 (/26 blocks); each namespace bound to one pool.

    With *nodes* > 0 the cluster declares one node group of that size, which
    switches on ipam_model's forecast (the Calico IPAM model run per namespace).
    """
    subnets = netaddr.IPNetwork("10.0.0.0/8").subnet(20)
    pool_specs = {f"pool-{i:04d}": {"cidr": str(next(subnets)), "blockSize": 26,
                                    "vxlanMode": "CrossSubnet", "natOutgoing": True}
                  for i in range(pools)}
    names = list(pool_specs)
    bindings = {f"team-{i:05d}": {"ipv4Pools": [names[i % pools]], "expectedPods": 20}
                for i in range(namespaces)}
    cluster = {"calicoApi": "projectcalico.org/v3", "serviceCidrs": ["172.20.0.0/16"],
               "nodeCidrs": ["172.21.0.0/20"], "headroomPercent": 20}
    if nodes:
        cluster["nodeGroups"] = [{"name": "workers", "count": nodes, "maxPods": 110}]
    return {"cluster": cluster, "pools": pool_specs, "namespaces": bindings}


def ipam_model_alone(config: dict) -> tuple[float, int]:
    start = time.perf_counter()
    stack = stack_from_config(STACK, config, file=f"stacks/Pulumi.{STACK}.yaml")
    findings = check.check_stack(stack)
    docs = render.render_stack(stack)
    capacity.pool_capacity(stack)
    elapsed = time.perf_counter() - start
    assert not any(f.is_error for f in findings), [f.message for f in findings if f.is_error][:3]
    return elapsed, len(docs)


class _CountingMocks(pulumi.runtime.Mocks):
    def __init__(self):
        self.registered = 0

    def new_resource(self, args):
        self.registered += 1
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args):
        return {}


def program_under_mocks(config: dict) -> tuple[float, int]:
    pulumi.runtime.set_all_config({f"calico-ipam:{key}": json.dumps(value)
                                   for key, value in config.items()})
    quiet = logging.getLogger("bench-pulumi-program")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    mocks = _CountingMocks()
    pulumi.runtime.set_mocks(mocks, project="calico-ipam", stack=STACK, preview=False,
                             logger=quiet)

    @pulumi.runtime.test
    def program():
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")

    start = time.perf_counter()
    program()
    return time.perf_counter() - start, mocks.registered


def main(argv: list[str]) -> None:
    pools = int(argv[1]) if len(argv) > 1 else 1000
    namespaces = int(argv[2]) if len(argv) > 2 else 5000
    nodes = int(argv[3]) if len(argv) > 3 else 50
    config = synthetic_config(pools, namespaces, nodes)
    core, documents = ipam_model_alone(config)
    whole, registered = program_under_mocks(config)
    print(f"input: {pools:,} pools, {namespaces:,} namespaces, {nodes:,} nodes"
          + ("" if nodes else " (no node groups: the forecast simulation is not run)"))
    print(f"ipam_model alone (schema, check_stack, render_stack, pool_capacity): {core:.2f} s "
          f"for {documents:,} manifests")
    print(f"Pulumi program under mocks (the above + {registered:,} resource registrations): "
          f"{whole:.2f} s")
    print(f"ratio program/ipam_model: {whole / core:.1f}x")


if __name__ == "__main__":
    main(sys.argv)
