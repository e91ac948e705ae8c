"""Stacks from a config mapping: the calico-ipam config of one stack to a ``Stack``."""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from ..calico.ipam_config import read_ipam_config
from ..calico.ipreservation import validated_reservation
from ..calico.validate import validated_pool
from ..core.errors import CIP002, InputError
from ..core.ipreservation import ReservedCidr
from ..core.limits import MAX_NODES, MAX_PODS
from ..core.locate import YamlPath, position_of
from ..core.model import (
    CONFIG_NAMESPACE,
    ORIGIN_DECLARED,
    AllocatorSettings,
    Binding,
    ClusterSettings,
    NodeGroup,
    Stack,
    frozen_map,
)
from ..core.words import closest
from .schema import stack_schema, validate_config

CONFIG_KEYS = ("cluster", "ipamConfig", "pools", "reservations", "namespaces")
# calico-ipam:cluster keys that became calico-ipam:ipamConfig (Calico's field names).
MOVED_TO_IPAM_CONFIG = ("strictAffinity", "maxBlocksPerHost", "autoAllocateBlocks")


def config_yaml_path(schema_path: tuple) -> YamlPath:
    """('pools', 'a', 'cidr') -> ('config', 'calico-ipam:pools', 'a', 'cidr')."""
    if not schema_path:
        return ("config",)
    head, *rest = schema_path
    return ("config", f"{CONFIG_NAMESPACE}:{head}", *rest)


def stack_from_config(name: str, config: Mapping[str, Any], *, file: str | None = None,
                      source: Mapping[YamlPath, tuple[int, int]] | None = None) -> Stack:
    """Build a Stack from the calico-ipam config mapping (keys cluster, ipamConfig,
    pools, reservations, namespaces).

    Shape and types are checked against the JSON Schema (InputError on the
    first violation). Calico's own rules are not applied here: pools whose
    spec fails them are kept in ``pool_specs`` but left out of ``pools``;
    ``check`` reports them.
    """
    source = source or {}

    def position(path: YamlPath):
        return position_of(source, path)

    config = dict(config)
    _refuse_moved_keys(config, file, position)
    validate_config(config, file=file, to_yaml_path=config_yaml_path, position=position)
    _check_totals(config, file, position)

    positions = frozen_map(source)  # one read-only copy for both stacks
    partial = Stack(name=name, file=file, cluster=ClusterSettings(), pool_specs=frozen_map(),
                    pool_metadata=frozen_map(), pools=frozen_map(), bindings=frozen_map(),
                    source=positions)
    cluster = _cluster_settings(config.get("cluster") or {}, partial)
    pool_specs, pool_metadata, pools, pool_findings = {}, {}, {}, {}
    for pool_name, entry in (config.get("pools") or {}).items():
        entry = dict(entry or {})
        metadata = entry.pop("metadata", None) or {}
        pool_specs[pool_name] = frozen_map(entry)
        pool_metadata[pool_name] = frozen_map(metadata)
        pool, findings = validated_pool(
            pool_name, entry, metadata or None, stack=name,
            locate=lambda path, _p=pool_name: partial.pool_location(_p, *path),
            location=partial.pool_location(pool_name))
        pool_findings[pool_name] = tuple(findings)
        if pool is not None:
            pools[pool_name] = pool
    bindings = {}
    for ns, entry in (config.get("namespaces") or {}).items():
        entry = entry or {}
        bindings[ns] = Binding(
            namespace=ns,
            ipv4_pools=tuple(entry.get("ipv4Pools") or ()),
            ipv6_pools=tuple(entry.get("ipv6Pools") or ()),
            expected_pods=entry.get("expectedPods"),
            labels=frozen_map(entry.get("labels")),
            location=partial.binding_location(ns),
        )
    stack = Stack(name=name, file=file, cluster=cluster, pool_specs=frozen_map(pool_specs),
                  pool_metadata=frozen_map(pool_metadata), pools=frozen_map(pools),
                  bindings=frozen_map(bindings), source=positions,
                  pool_findings=frozen_map(pool_findings))
    return _with_ipam(stack, config)


def _refuse_moved_keys(config: Mapping[str, Any], file: str | None, position) -> None:
    """An old stack's IPAMConfig keys under calico-ipam:cluster: one error saying
    where they went (also for a misspelt one), before the schema's generic
    "unknown key"."""
    cluster = config.get("cluster")
    if not isinstance(cluster, Mapping):
        return
    known = stack_schema()["properties"]["cluster"]["properties"]
    for key in cluster:
        if not isinstance(key, str) or key in known:
            continue
        moved = closest(key, MOVED_TO_IPAM_CONFIG)
        if moved is None:
            continue
        path = ("config", f"{CONFIG_NAMESPACE}:cluster", key)
        line, col = position(path)
        lead = (f'unknown key "{key}": it' if key == moved else
                f'unknown key "{key}"; did you mean "{moved}"? It')
        raise InputError(
            f"{lead} moved to {CONFIG_NAMESPACE}:ipamConfig.{moved}: the cluster's IPAMConfig "
            f"is declared state now, under {CONFIG_NAMESPACE}:ipamConfig with Calico's "
            f"IPAMConfigurationSpec field names; move the key there (leave "
            f"{CONFIG_NAMESPACE}:ipamConfig out and calico-ipam never changes the cluster's "
            "IPAMConfig)", file=file, path=path, line=line, column=col, rule=CIP002)


def _with_ipam(stack: Stack, config: Mapping[str, Any]) -> Stack:
    """The stack's declared IPAMConfig and reservations, and what the allocator
    is assumed to read: the declared IPAMConfig (Calico's defaults when none is
    declared) and the reservations that pass Calico's rules."""
    raw_config = config.get("ipamConfig")
    ipam_config = read_ipam_config(raw_config) if raw_config is not None else None
    specs, reservations = {}, {}
    for name, entry in (config.get("reservations") or {}).items():
        specs[name] = frozen_map(entry)
        reservation, _ = validated_reservation(
            name, entry, locate=lambda *p, _n=name: stack.reservation_location(_n, *p),
            stack=stack.name)
        if reservation is not None:
            reservations[name] = reservation
    reserved = tuple(ReservedCidr(c, r.name) for r in reservations.values() for c in r.cidrs)
    allocator = (AllocatorSettings(ipam_config, ORIGIN_DECLARED, None, reserved)
                 if ipam_config is not None else AllocatorSettings(reserved=reserved))
    return replace(stack, ipam_config=ipam_config,
                   ipam_config_spec=frozen_map(raw_config) if raw_config is not None else None,
                   reservation_specs=frozen_map(specs), reservations=frozen_map(reservations),
                   allocator=allocator)


def _check_totals(config: Mapping[str, Any], file: str | None, position) -> None:
    """The sums the schema cannot bound: nodes over all node groups and expected
    pods over all namespaces (the forecast simulates each of them)."""
    groups = (config.get("cluster") or {}).get("nodeGroups") or ()
    totals = (
        (MAX_NODES, "node groups", "nodes",
         [(("cluster", "nodeGroups", i, "count"), g.get("count", 0)) for i, g in enumerate(groups)]),
        (MAX_PODS, "namespaces' expectedPods", "pods",
         [(("namespaces", ns, "expectedPods"), (entry or {}).get("expectedPods") or 0)
          for ns, entry in (config.get("namespaces") or {}).items()]),
    )
    for limit, what, unit, parts in totals:
        total = 0
        for schema_path, count in parts:
            total += count
            if total > limit.value:
                path = config_yaml_path(schema_path)
                line, col = position(path)
                raise InputError(f"the {what} add up to more than {limit.text} (the most "
                                 f"calico-ipam models; see Limits in the README)", file=file,
                                 path=path, line=line, column=col, rule=CIP002)


def _cluster_settings(raw: Mapping[str, Any], stack: Stack) -> ClusterSettings:
    defaults = ClusterSettings()
    groups = tuple(
        NodeGroup(name=g["name"], count=g["count"], labels=frozen_map(g.get("labels")),
                  max_pods=g.get("maxPods", 110),
                  location=stack.cluster_location("nodeGroups", i))
        for i, g in enumerate(raw.get("nodeGroups") or ()))
    return ClusterSettings(
        calico_api=raw.get("calicoApi", defaults.calico_api),
        routing_domain=raw.get("routingDomain"),
        service_cidrs=tuple(raw.get("serviceCidrs") or ()),
        node_cidrs=tuple(raw.get("nodeCidrs") or ()),
        node_groups=groups,
        headroom_percent=raw.get("headroomPercent", defaults.headroom_percent),
        kubeconfig=raw.get("kubeconfig"),
        context=raw.get("context"),
        live_checks=raw.get("liveChecks", defaults.live_checks),
        retain_on_delete=raw.get("retainOnDelete", defaults.retain_on_delete),
        protect=raw.get("protect", defaults.protect),
    )
