"""Synthetic fleet of stack files for benchmarks: many clusters, realistic shapes.

``write_fleet(directory, stacks=200, pools_per_stack=50, bindings=20_000)`` writes
``Pulumi.fleet-NNN.yaml`` files that look like real environments:

* stacks are spread over a few routing domains; inside a domain every stack
  owns a disjoint /14 of 10.0.0.0/8 and a /48 of fd00::/8, while different
  domains reuse the same space (separate networks, never compared);
* each stack has node groups with zone / pool / accelerator labels, service
  and node CIDRs, IPv4 and IPv6 pools (a GPU pool with a nodeSelector, Manual
  payment pools, a disabled legacy pool, a LoadBalancer pool);
* namespaces bind one or two pools per family by name or CIDR, some bind none
  and count against the Automatic pools;
* a few deliberate mistakes: pools overlapping inside a stack, across two
  stacks of one routing domain, and a pool over the service CIDR.

Run directly to write a fleet: ``python bench/fleet.py DIR``.
"""
from __future__ import annotations

import ipaddress
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

DOMAINS = 8


@dataclass(frozen=True)
class FleetSummary:
    directory: Path
    files: int
    pools: int
    bindings: int
    bytes: int
    deliberate_overlaps: tuple[str, ...]


def _stack_config(index: int, pools_per_stack: int, namespaces: int,
                  rng: random.Random) -> tuple[dict, list[str]]:
    domain, slot = index % DOMAINS, index // DOMAINS
    v4_base = ipaddress.ip_network(f"10.{slot * 4}.0.0/14")
    v6_base = ipaddress.ip_network(f"fd00:{domain:x}:{slot:x}::/48")
    v4_subnets = v4_base.subnets(new_prefix=20)       # 64 x /20
    v6_subnets = v6_base.subnets(new_prefix=112)
    v6_count = pools_per_stack // 3
    v4_count = pools_per_stack - v6_count
    pools: dict[str, dict] = {}
    notes: list[str] = []
    for i in range(v4_count):
        cidr = str(next(v4_subnets))
        name = f"v4-{i:02d}"
        spec: dict = {"cidr": cidr, "blockSize": 26, "natOutgoing": True}
        kind = i % 10
        if kind == 1:
            spec.update(nodeSelector="accelerator == 'nvidia'", vxlanMode="CrossSubnet")
        elif kind == 2:
            spec.update(assignmentMode="Manual", allowedUses=["Workload"], blockSize=28)
        elif kind == 3:
            spec.update(ipipMode="CrossSubnet", nodeSelector="!has(accelerator)")
        elif kind == 4 and i == 4:
            spec.update(disabled=True)
        elif kind == 5 and i == 5:
            spec = {"cidr": cidr.replace("/20", "/24"), "blockSize": 32,
                    "allowedUses": ["LoadBalancer"]}
        pools[name] = spec
    for i in range(v6_count):
        spec = {"cidr": str(next(v6_subnets)), "blockSize": 122}
        if i % 5 == 2:
            spec.update(assignmentMode="Manual", allowedUses=["Workload"], blockSize=124)
        pools[f"v6-{i:02d}"] = spec

    # Deliberate mistakes, a handful in the whole fleet.
    if index % 50 == 7:
        pools["v4-overlap"] = {"cidr": str(v4_base.supernet(new_prefix=14).network_address) +
                               "/22", "blockSize": 26}
        notes.append(f"fleet-{index:03d}: v4-overlap inside v4-00 (CIP201)")
    if index % 50 == 11:
        pools["v4-svc"] = {"cidr": f"172.{16 + domain}.{slot}.0/25", "blockSize": 28}
        notes.append(f"fleet-{index:03d}: v4-svc inside the service CIDR (CIP203)")
    if index % 50 == 19 and slot > 0:
        clash = ipaddress.ip_network(f"10.{(slot - 1) * 4}.16.0/24")
        pools["v4-clash"] = {"cidr": str(clash), "blockSize": 26}
        notes.append(f"fleet-{index:03d}: v4-clash inside fleet-{index - DOMAINS:03d}'s "
                     f"v4-01 (CIP202)")
    while len(pools) > pools_per_stack:       # keep exactly pools_per_stack per stack
        for name in reversed(list(pools)):
            if name.startswith("v6-"):
                del pools[name]
                break

    names4 = [n for n, s in pools.items() if ":" not in s["cidr"]
              and s.get("allowedUses") != ["LoadBalancer"] and not s.get("disabled")]
    names6 = [n for n, s in pools.items() if ":" in s["cidr"]]
    bindings: dict[str, dict] = {}
    for i in range(namespaces):
        ns = f"team-{i:03d}"
        entry: dict = {"expectedPods": rng.choice((5, 20, 40, 120))}
        style = i % 7
        if style == 0:
            pass  # no annotation: served by the Automatic pools
        elif style == 1:
            entry["ipv4Pools"] = [pools[rng.choice(names4)]["cidr"]]     # by exact CIDR
        else:
            entry["ipv4Pools"] = rng.sample(names4, 1 + (style == 2))
        if style in (3, 4) and names6:
            entry["ipv6Pools"] = [rng.choice(names6)]
        if style == 5:
            entry["labels"] = {"team": f"t{i % 13}", "pci": "true" if i % 2 else "false"}
        bindings[ns] = entry

    cluster = {
        "calicoApi": "projectcalico.org/v3",
        "routingDomain": f"dc{domain}",
        "serviceCidrs": [f"172.{16 + domain}.{slot}.0/24", f"fd10:{domain:x}:{slot:x}::/112"],
        "nodeCidrs": [f"192.168.{slot}.0/24"],
        "nodeGroups": [
            {"name": "general-a", "count": 12, "maxPods": 110,
             "labels": {"topology.kubernetes.io/zone": "a", "node.kubernetes.io/pool": "general"}},
            {"name": "general-b", "count": 12, "maxPods": 110,
             "labels": {"topology.kubernetes.io/zone": "b", "node.kubernetes.io/pool": "general"}},
            {"name": "gpu", "count": 4, "maxPods": 32,
             "labels": {"topology.kubernetes.io/zone": "a", "accelerator": "nvidia"}},
        ],
        "headroomPercent": 20,
    }
    config = {"kubernetes:context": f"fleet-{index:03d}", "calico-ipam:cluster": cluster,
              "calico-ipam:pools": pools, "calico-ipam:namespaces": bindings}
    return config, notes


def write_fleet(directory: str | Path, stacks: int = 200, pools_per_stack: int = 50,
                bindings: int = 20_000, seed: int = 1) -> FleetSummary:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    per_stack = bindings // stacks
    total_pools = total_bindings = total_bytes = 0
    notes: list[str] = []
    for index in range(stacks):
        config, stack_notes = _stack_config(index, pools_per_stack, per_stack, rng)
        text = (f"# fleet-{index:03d}: synthetic cluster for bench/check_fleet.py\n"
                + yaml.safe_dump({"config": config}, sort_keys=False, width=120))
        path = directory / f"Pulumi.fleet-{index:03d}.yaml"
        path.write_text(text)
        total_pools += len(config["calico-ipam:pools"])
        total_bindings += len(config["calico-ipam:namespaces"])
        total_bytes += len(text)
        notes.extend(stack_notes)
    return FleetSummary(directory, stacks, total_pools, total_bindings, total_bytes, tuple(notes))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python bench/fleet.py DIRECTORY")
    summary = write_fleet(sys.argv[1])
    print(f"wrote {summary.files} stacks, {summary.pools} pools, {summary.bindings} bindings "
          f"({summary.bytes:,} bytes) to {summary.directory}")
    for note in summary.deliberate_overlaps:
        print("  deliberate:", note)
