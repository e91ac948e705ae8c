"""The nouns of the planning core: locations, findings, pools, bindings, stacks.

Everything here is a frozen dataclass. Mappings held by these objects are
``types.MappingProxyType`` views so that a ``Stack`` cannot be mutated after
it was loaded; build new objects with ``dataclasses.replace`` instead.
"""
from __future__ import annotations

import enum
import types
from dataclasses import dataclass, field
from typing import Any, Mapping

import netaddr

from .cidr import Cidr

# Re-exported: it lived here before the IPAMConfig got its own module.
from .ipam_config import DEFAULT_MAX_BLOCKS_PER_HOST as DEFAULT_MAX_BLOCKS_PER_HOST
from .ipam_config import IPAMConfig
from .ippool import PoolSpec
from .ipreservation import ReservationSpec, ReservedCidr, ReservedRanges
from .locate import YamlPath, format_yaml_path, position_of

OWNERSHIP_LABEL = "app.kubernetes.io/managed-by"
OWNERSHIP_VALUE = "calico-ipam"
STACK_LABEL = "calico-ipam.io/stack"
# The spec calico-ipam last applied, kept on the IPPool itself: drift is live vs
# this. Bookkeeping, not configuration: never declared, never shown as a change.
APPLIED_SPEC_ANNOTATION = "calico-ipam.io/applied-spec"
IPV4_POOLS_ANNOTATION = "cni.projectcalico.org/ipv4pools"
IPV6_POOLS_ANNOTATION = "cni.projectcalico.org/ipv6pools"
API_V3 = "projectcalico.org/v3"
API_CRD_V1 = "crd.projectcalico.org/v1"
CONFIG_NAMESPACE = "calico-ipam"


def frozen_map(value: Mapping | None = None) -> Mapping:
    """A read-only view of a copy of *value* (empty when None)."""
    return types.MappingProxyType(dict(value or {}))


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Lower is worse; used to sort findings worst first."""
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True)
class Location:
    """Where a finding points: a stack file, a YAML path inside it, a line."""

    file: str | None = None
    path: YamlPath = ()
    line: int | None = None
    column: int | None = None

    @property
    def yaml_path(self) -> str:
        return format_yaml_path(self.path)

    def __str__(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file + (f":{self.line}" if self.line else ""))
        if self.path:
            parts.append(self.yaml_path)
        return ": ".join(parts) if parts else "<input>"

    def to_dict(self) -> dict:
        return {"file": self.file, "path": self.yaml_path or None, "line": self.line,
                "column": self.column}


@dataclass(frozen=True)
class Finding:
    """One verdict of one rule about one subject.

    ``subject`` names the thing in the user's terms: ``pool/<name>``,
    ``namespace/<name>``, ``stack/<name>`` or ``node-group/<name>``.
    """

    rule: str
    name: str
    severity: Severity
    message: str
    subject: str
    location: Location = Location()
    stack: str | None = None
    related: tuple[Location, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple:
        return (self.severity.rank, self.location.file or "", self.location.line or 0,
                self.rule, self.subject, self.message)

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "subject": self.subject,
            "stack": self.stack,
            "location": self.location.to_dict(),
            "related": [loc.to_dict() for loc in self.related],
        }


def has_errors(findings) -> bool:
    return any(f.is_error for f in findings)


def sort_findings(findings) -> list[Finding]:
    return sorted(findings, key=Finding.sort_key)


@dataclass(frozen=True)
class Pool:
    """A declared (or live) IP pool whose spec passed Calico's rules."""

    name: str
    spec: PoolSpec
    labels: Mapping[str, str] = field(default_factory=frozen_map)
    annotations: Mapping[str, str] = field(default_factory=frozen_map)
    stack: str | None = None
    location: Location = Location()

    @property
    def network(self) -> netaddr.IPNetwork:
        return netaddr.IPNetwork(self.spec.cidr)

    @property
    def version(self) -> int:
        return 6 if ":" in self.spec.cidr else 4

    @property
    def prefixlen(self) -> int:
        return int(self.spec.cidr.rsplit("/", 1)[1])

    @property
    def addresses(self) -> int:
        return 1 << ((32 if self.version == 4 else 128) - self.prefixlen)

    @property
    def block_addresses(self) -> int:
        return 1 << ((32 if self.version == 4 else 128) - self.spec.block_size)

    @property
    def blocks(self) -> int:
        """Blocks in the pool (0 when the pool is smaller than one block)."""
        if self.prefixlen > self.spec.block_size:
            return 0
        return 1 << (self.spec.block_size - self.prefixlen)

    @property
    def usable_for_workloads(self) -> bool:
        return (not self.spec.disabled and "Workload" in self.spec.allowed_uses)


@dataclass(frozen=True)
class NodeGroup:
    name: str
    count: int
    labels: Mapping[str, str] = field(default_factory=frozen_map)
    max_pods: int = 110
    location: Location = Location()


@dataclass(frozen=True)
class ClusterSettings:
    """``calico-ipam:cluster``: everything about the cluster a stack targets."""

    calico_api: str = API_V3
    routing_domain: str | None = None
    service_cidrs: tuple[str, ...] = ()
    node_cidrs: tuple[str, ...] = ()
    node_groups: tuple[NodeGroup, ...] = ()
    headroom_percent: int = 20
    kubeconfig: str | None = None
    context: str | None = None
    live_checks: bool = False
    retain_on_delete: bool = True
    protect: bool = False

    @property
    def node_count(self) -> int:
        return sum(g.count for g in self.node_groups)


@dataclass(frozen=True)
class Binding:
    """``calico-ipam:namespaces.<name>``: which pools a namespace draws from."""

    namespace: str
    ipv4_pools: tuple[str, ...] = ()
    ipv6_pools: tuple[str, ...] = ()
    expected_pods: int | None = None
    labels: Mapping[str, str] = field(default_factory=frozen_map)
    location: Location = Location()

    def annotations(self) -> dict[str, list[str]]:
        """The Calico annotations this binding sets (only non-empty families)."""
        out: dict[str, list[str]] = {}
        if self.ipv4_pools:
            out[IPV4_POOLS_ANNOTATION] = list(self.ipv4_pools)
        if self.ipv6_pools:
            out[IPV6_POOLS_ANNOTATION] = list(self.ipv6_pools)
        return out


@dataclass(frozen=True)
class Reservation:
    """``calico-ipam:reservations.<name>``: an IPReservation whose spec passed the rules."""

    name: str
    spec: ReservationSpec
    cidrs: tuple[Cidr, ...]                   # the networks Calico reserves, parsed
    location: Location = Location()


ORIGIN_DECLARED = "declared"   # the stack's calico-ipam:ipamConfig
ORIGIN_DEFAULT = "default"     # Calico's defaults: neither declared nor read from a cluster
ORIGIN_LIVE = "live"           # the cluster's (the stack declares none)


@dataclass(frozen=True)
class AllocatorSettings:
    """What Calico's allocator reads besides the pools: the IPAMConfig and the
    reserved CIDRs, and where the IPAMConfig comes from (``origin``, ``source``:
    the live source it was read from), so that every forecast can say which
    configuration it assumed."""

    config: IPAMConfig = IPAMConfig()
    origin: str = ORIGIN_DEFAULT
    source: str | None = None
    reserved: tuple[ReservedCidr, ...] = ()

    @property
    def strict_affinity(self) -> bool:
        return self.config.strict_affinity

    @property
    def auto_allocate_blocks(self) -> bool:
        return self.config.auto_allocate_blocks

    @property
    def max_blocks_per_host(self) -> int:
        """maxBlocksPerHost as configured (0 means Calico's default of 20)."""
        return self.config.max_blocks_per_host

    @property
    def effective_max_blocks_per_host(self) -> int:
        return self.config.effective_max_blocks_per_host

    def ranges(self) -> ReservedRanges:
        return ReservedRanges(r.cidr for r in self.reserved)

    def reserved_by_name(self) -> dict[str, tuple[str, ...]]:
        """The reserved CIDRs per IPReservation, by name."""
        out: dict[str, list[str]] = {}
        for r in self.reserved:
            out.setdefault(r.reservation, []).append(r.cidr.text)
        return {name: tuple(out[name]) for name in sorted(out)}

    def described(self) -> str:
        """``the IPAMConfig declared in calico-ipam:ipamConfig: strictAffinity false, ...``."""
        return f"{self.where()}: {self.config.summary()}"

    def where(self) -> str:
        """Where the IPAMConfig comes from, without its values."""
        if self.origin == ORIGIN_DECLARED:
            where = "the IPAMConfig declared in calico-ipam:ipamConfig"
        elif self.origin == ORIGIN_LIVE:
            where = (f"the live IPAMConfig of {self.source} (the stack declares no "
                     "calico-ipam:ipamConfig)")
        elif self.source:
            where = (f"Calico's default IPAMConfig (neither the stack nor {self.source} has "
                     "one)")
        else:
            where = "Calico's default IPAMConfig (the stack declares no calico-ipam:ipamConfig)"
        return where


@dataclass(frozen=True)
class Stack:
    """One environment as declared in ``stacks/Pulumi.<name>.yaml``.

    ``pool_specs`` keeps each pool's raw mapping as written (validation runs
    on it); ``pools`` holds the pools that passed Calico's rules, with
    defaults applied. ``source`` maps YAML paths to (line, column).
    """

    name: str
    file: str | None
    cluster: ClusterSettings
    pool_specs: Mapping[str, Mapping[str, Any]]
    pool_metadata: Mapping[str, Mapping[str, Any]]
    pools: Mapping[str, Pool]
    bindings: Mapping[str, Binding]
    source: Mapping[YamlPath, tuple[int, int]] = field(default_factory=frozen_map)
    config_prefix: YamlPath = ("config",)
    # Calico-rule findings per pool, computed once while loading (see check.py).
    pool_findings: Mapping[str, tuple[Finding, ...]] = field(default_factory=frozen_map)
    # calico-ipam:ipamConfig as declared (None: not declared, the cluster's stays).
    ipam_config: IPAMConfig | None = None
    ipam_config_spec: Mapping[str, Any] | None = None          # as written
    # calico-ipam:reservations: as written, and those whose spec passed the rules.
    reservation_specs: Mapping[str, Mapping[str, Any]] = field(default_factory=frozen_map)
    reservations: Mapping[str, Reservation] = field(default_factory=frozen_map)
    # What the checks and the simulator assume Calico's allocator reads.
    allocator: AllocatorSettings = AllocatorSettings()

    def locate(self, *path) -> Location:
        """The location of a path below ``config`` (the longest known prefix's line)."""
        full = tuple(self.config_prefix) + tuple(path)
        line, col = position_of(self.source, full)
        return Location(self.file, full, line, col)

    def pool_location(self, pool: str, *field_path) -> Location:
        return self.locate(f"{CONFIG_NAMESPACE}:pools", pool, *field_path)

    def binding_location(self, namespace: str, *field_path) -> Location:
        return self.locate(f"{CONFIG_NAMESPACE}:namespaces", namespace, *field_path)

    def cluster_location(self, *field_path) -> Location:
        return self.locate(f"{CONFIG_NAMESPACE}:cluster", *field_path)

    def ipam_config_location(self, *field_path) -> Location:
        return self.locate(f"{CONFIG_NAMESPACE}:ipamConfig", *field_path)

    def reservation_location(self, name: str, *field_path) -> Location:
        return self.locate(f"{CONFIG_NAMESPACE}:reservations", name, *field_path)
