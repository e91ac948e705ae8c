"""The calico-ipam CrossGuard policies, importable without starting a server.

``pulumi preview --policy-pack policies`` runs ``policies/__main__.py``,
which builds the ``PolicyPack`` from ``all_policies()``. Constructing a
PolicyPack starts a gRPC server and blocks forever, so nothing here builds
one: tests and other code import this module freely.

Every policy delegates to ipam_model, so a pull request gets the same rules
(same CIPnnn ids) as ``calico-ipam check``:

- ``calico-ippool``: each IPPool resource (``projectcalico.org/v3`` and
  ``crd.projectcalico.org/v1``) against Calico's rules
  (``ipam_model.calico.validate_pool``) and the allowed address space of the
  policy config. Mandatory; ``calico-ippool-advisory`` reports the warnings.
- ``calico-pool-annotations``: the ``cni.projectcalico.org/ipv4pools`` /
  ``ipv6pools`` annotations of each Namespace or NamespacePatch are a JSON
  list of strings. Mandatory.
- ``calico-ipam-stack``: the stack rebuilt from its IPPool, Namespace,
  IPAMConfiguration/IPAMConfig and IPReservation resources (what will really
  be applied: the IPAMConfig rules CIP510-512 and the reservation rules
  CIP701-708 run here, and capacity leaves reserved addresses out), with the
  cluster facts (node
  groups, service and node CIDRs, routing domain, expected pods) from the
  stack file: overlaps (including the other stacks of the routing domain),
  bindings (annotations naming pools the stack does not have) and capacity.
  Mandatory; ``calico-ipam-stack-advisory`` reports the warnings.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import netaddr
from pulumi_policy import (EnforcementLevel, PolicyConfigSchema, ReportViolation,
                           ResourceValidationArgs, ResourceValidationPolicy,
                           StackValidationArgs, StackValidationPolicy)

from ipam_model.calico import validate as calico
from ipam_model.calico.annotations import parse_pools_annotation
from ipam_model.core.errors import CalicoIpamError
from ipam_model.core.rules import Scope
from ipam_model.rules import runner as check
from ipam_model.rules.runner import rules_checked
from ipam_model.core.model import (IPV4_POOLS_ANNOTATION, IPV6_POOLS_ANNOTATION, Finding, Severity,
    Stack)
from ipam_model.declared.build import stack_from_config
from ipam_model.declared.files import load_siblings, read_stack_config, stacks_dir

PACK_NAME = "calico-ipam"
IPPOOL_TYPES = ("kubernetes:projectcalico.org/v3:IPPool",
                "kubernetes:crd.projectcalico.org/v1:IPPool")
NAMESPACE_TYPES = ("kubernetes:core/v1:NamespacePatch", "kubernetes:core/v1:Namespace")
IPAM_CONFIG_TYPES = ("kubernetes:projectcalico.org/v3:IPAMConfiguration",
                     "kubernetes:crd.projectcalico.org/v1:IPAMConfig")
RESERVATION_TYPES = ("kubernetes:projectcalico.org/v3:IPReservation",
                     "kubernetes:crd.projectcalico.org/v1:IPReservation")
STACK_TYPES = IPPOOL_TYPES + NAMESPACE_TYPES + IPAM_CONFIG_TYPES + RESERVATION_TYPES
POOL_ANNOTATIONS = (IPV4_POOLS_ANNOTATION, IPV6_POOLS_ANNOTATION)
# The repository layout: policies/ sits next to Pulumi.yaml.
PROJECT_DIR = Path(__file__).resolve().parent.parent
# Calico's IPPool rules (the pool-scope check's) are the resource policy's
# business; the stack policy would only repeat them.
_RESOURCE_RULES = rules_checked(Scope.POOL)


@dataclass(frozen=True)
class Violation:
    """One policy violation: mandatory ones fail the preview (exit 5)."""

    mandatory: bool
    message: str
    urn: str | None = None


# ------------------------------------------------------------------ helpers

def _plain(value: Any) -> Any:
    """Props as plain Python: the engine sends every number as a float."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def finding_text(finding: Finding, where: str | None = None) -> str:
    where = where if where is not None else finding.location.yaml_path
    return f"{finding.rule} {finding.name}: {where + ': ' if where else ''}{finding.message}"


def _from_findings(findings: Iterable[Finding], urn: str | None = None) -> list[Violation]:
    return [Violation(f.is_error, finding_text(f), urn) for f in findings
            if f.severity is not Severity.INFO]


def stack_name_from_urn(urn: str) -> str | None:
    """``urn:pulumi:<stack>::<project>::<type>::<name>`` -> ``<stack>``."""
    if not urn.startswith("urn:pulumi:"):
        return None
    return urn[len("urn:pulumi:"):].split("::", 1)[0] or None


def _allowed_networks(config: Mapping) -> tuple[list[netaddr.IPNetwork], list[Violation]]:
    networks, problems = [], []
    for entry in config.get("allowedCidrs") or ():
        try:
            networks.append(netaddr.IPNetwork(entry))
        except (netaddr.AddrFormatError, ValueError, TypeError):
            problems.append(Violation(True, f"policy config allowedCidrs: {entry!r} is not a "
                                            "CIDR such as 10.0.0.0/8 or fd00::/8"))
    return networks, problems


# ------------------------------------------------------------------ IPPool resources

def ippool_violations(props: Mapping, config: Mapping | None = None,
                      urn: str | None = None) -> list[Violation]:
    """Calico's rules for one IPPool resource, plus the allowed address space."""
    props = _plain(props)
    config = config or {}
    metadata = props.get("metadata") or {}
    name = metadata.get("name")
    if not name:
        return [Violation(True, "CIP119 pool-name-invalid: metadata.name: an IPPool managed "
                                "by calico-ipam needs a fixed metadata.name (namespace "
                                "annotations refer to pools by name; an auto-named pool "
                                "gets a random suffix)", urn)]
    pool_metadata = {k: metadata[k] for k in ("labels", "annotations") if k in metadata}
    spec = props.get("spec")
    findings = calico.validate_pool(name, spec if spec is not None else {}, pool_metadata)
    violations = _from_findings(findings, urn)
    networks, problems = _allowed_networks(config)
    violations += problems
    cidr = spec.get("cidr") if isinstance(spec, Mapping) else None
    if networks and isinstance(cidr, str) and not any(f.rule in ("CIP101", "CIP102")
                                                      for f in findings):
        pool = netaddr.IPNetwork(cidr)
        if not any(pool.version == n.version and pool in n for n in networks):
            allowed = ", ".join(str(n) for n in networks)
            violations.append(Violation(True, f"allowed-address-space: spec.cidr: pool {name} "
                                              f"CIDR {cidr} lies outside the allowed address "
                                              f"space ({allowed}; policy config allowedCidrs)",
                                        urn))
    return violations


# ------------------------------------------------------------------ Namespace annotations

def namespace_annotation_violations(props: Mapping, urn: str | None = None) -> list[Violation]:
    """The pool annotations of one Namespace/NamespacePatch are JSON lists of strings."""
    metadata = _plain(props).get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    namespace = metadata.get("name", "?")
    violations = []
    for key in POOL_ANNOTATIONS:
        if key not in annotations or annotations[key] is None:
            continue  # None removes the key under server-side apply
        _, problem = parse_pools_annotation(annotations[key])
        if problem:
            violations.append(Violation(
                True, f"CIP609 annotation-invalid: metadata.annotations.{key}: namespace "
                      f"{namespace}: {key} {problem}; Calico rejects every new pod of the "
                      f"namespace", urn))
    return violations


# ------------------------------------------------------------------ the stack

@dataclass(frozen=True)
class StackResource:
    """What the stack policy needs of a resource (PolicyResource or hand-built)."""

    resource_type: str
    props: Mapping
    urn: str


def _stack_file_config(stack_name: str | None) -> tuple[dict, str | None]:
    """(calico-ipam config of the stack file, its path) or ({}, None) when absent."""
    if not stack_name:
        return {}, None
    try:
        path = stacks_dir(PROJECT_DIR) / f"Pulumi.{stack_name}.yaml"
        if not path.is_file():
            return {}, None
        config, _ = read_stack_config(path, display=str(path))
    except (CalicoIpamError, OSError):
        return {}, None
    return config, str(path)


def stack_from_resources(resources: Sequence[StackResource], stack_name: str,
                         file_config: Mapping | None = None,
                         headroom_percent: int | None = None) -> Stack:
    """The Stack the resources describe: pools from IPPools, bindings from annotations,
    the IPAMConfig and the reservations from their resources.

    Cluster facts and each namespace's ``expectedPods``/labels come from
    *file_config* (the stack file's ``calico-ipam:*`` values) when given.
    Raises InputError when the resources do not fit the stack schema.
    """
    file_config = file_config or {}
    cluster = dict(file_config.get("cluster") or {})
    declared_namespaces = file_config.get("namespaces") or {}
    if headroom_percent is not None:
        cluster["headroomPercent"] = headroom_percent
    pools: dict[str, dict] = {}
    namespaces: dict[str, dict] = {}
    ipam_config: dict | None = None
    reservations: dict[str, dict] = {}
    for resource in resources:
        props = _plain(resource.props)
        metadata = props.get("metadata") or {}
        name = metadata.get("name")
        if resource.resource_type in IPPOOL_TYPES and name:
            entry = dict(props.get("spec") or {})
            extra = {k: metadata[k] for k in ("labels", "annotations") if metadata.get(k)}
            if extra:
                entry["metadata"] = extra
            pools[name] = entry
            cluster.setdefault("calicoApi", props.get("apiVersion"))
        elif resource.resource_type in IPAM_CONFIG_TYPES:
            ipam_config = dict(props.get("spec") or {})
        elif resource.resource_type in RESERVATION_TYPES and name:
            reservations[name] = dict(props.get("spec") or {})
        elif resource.resource_type in NAMESPACE_TYPES and name:
            annotations = metadata.get("annotations") or {}
            entry = {k: v for k, v in (declared_namespaces.get(name) or {}).items()
                     if k in ("expectedPods", "labels")}
            for key, field in ((IPV4_POOLS_ANNOTATION, "ipv4Pools"),
                               (IPV6_POOLS_ANNOTATION, "ipv6Pools")):
                names, _ = parse_pools_annotation(annotations.get(key))
                if names is not None:
                    entry[field] = names
            namespaces[name] = entry
    for name, entry in declared_namespaces.items():
        # Namespaces without a patch (no pools named) still count for capacity.
        if name not in namespaces and isinstance(entry, Mapping):
            namespaces[name] = {k: v for k, v in entry.items()
                                if k in ("expectedPods", "labels")}
    config = {"cluster": cluster, "pools": pools, "namespaces": namespaces}
    if ipam_config is not None:
        config["ipamConfig"] = ipam_config
    if reservations:
        config["reservations"] = reservations
    return stack_from_config(stack_name, config)


def _siblings(stack: Stack, file: str | None) -> list[Stack]:
    if not stack.cluster.routing_domain or file is None:
        return []
    return load_siblings(stacks_dir(PROJECT_DIR), {stack.name},
                         domain=stack.cluster.routing_domain)


def stack_violations(resources: Sequence[StackResource], config: Mapping | None = None,
                     stack_name: str | None = None) -> list[Violation]:
    """Overlaps, bindings and capacity of the stack the resources make up."""
    config = config or {}
    urns = {}
    for resource in resources:
        name = (_plain(resource.props).get("metadata") or {}).get("name")
        if resource.resource_type in IPPOOL_TYPES:
            urns[f"pool/{name}"] = resource.urn
        elif resource.resource_type in NAMESPACE_TYPES:
            urns[f"namespace/{name}"] = resource.urn
        elif resource.resource_type in IPAM_CONFIG_TYPES:
            urns["ipamconfig/default"] = resource.urn
        elif resource.resource_type in RESERVATION_TYPES:
            urns[f"reservation/{name}"] = resource.urn
    if stack_name is None:
        stack_name = next((stack_name_from_urn(r.urn) for r in resources if r.urn), None)
    file_config, file = _stack_file_config(stack_name)
    try:
        stack = stack_from_resources(resources, stack_name or "stack", file_config,
                                     config.get("headroomPercent"))
        findings = check.check_stack(stack, _siblings(stack, file))
    except CalicoIpamError as exc:
        return [Violation(True, f"{getattr(exc, 'rule', 'CIP002')} {exc}")]
    return [Violation(f.is_error, finding_text(f, f.subject), urns.get(f.subject))
            for f in findings
            if f.severity is not Severity.INFO and f.rule not in _RESOURCE_RULES]


# ------------------------------------------------------------------ policies

def _report(violations: Iterable[Violation], report: ReportViolation, mandatory: bool) -> None:
    for violation in violations:
        if violation.mandatory is mandatory:
            report(violation.message, violation.urn)


def _ippool_validator(mandatory: bool):
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type in IPPOOL_TYPES:
            _report(ippool_violations(args.props, args.get_config() or {}), report, mandatory)
    return validate


def _namespace_validator(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in NAMESPACE_TYPES:
        _report(namespace_annotation_violations(args.props), report, True)


def _stack_validator(mandatory: bool):
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        resources = [StackResource(r.resource_type, r.props, r.urn) for r in args.resources
                     if r.resource_type in STACK_TYPES]
        if resources:
            _report(stack_violations(resources, args.get_config() or {}), report, mandatory)
    return validate


ALLOWED_CIDRS_SCHEMA = PolicyConfigSchema(properties={"allowedCidrs": {
    "type": "array", "items": {"type": "string"}, "default": [],
    "description": "CIDRs every pool must lie within, e.g. [\"10.0.0.0/8\", \"fd00::/8\"]; "
                   "empty allows any address space."}})
HEADROOM_SCHEMA = PolicyConfigSchema(properties={"headroomPercent": {
    "type": "integer", "minimum": 0, "maximum": 1000,
    "description": "Spare capacity required above expectedPods, in percent; overrides "
                   "calico-ipam:cluster.headroomPercent of the stack."}})


def all_policies() -> list:
    """The policies of the pack, built fresh on each call (no PolicyPack)."""
    return [
        ResourceValidationPolicy(
            name="calico-ippool", enforcement_level=EnforcementLevel.MANDATORY,
            description="IPPools obey Calico's validation rules (CIP1xx) and lie within the "
                        "allowed address space.",
            validate=_ippool_validator(True), config_schema=ALLOWED_CIDRS_SCHEMA),
        ResourceValidationPolicy(
            name="calico-ippool-advisory", enforcement_level=EnforcementLevel.ADVISORY,
            description="IPPool warnings from Calico's rules.",
            validate=_ippool_validator(False)),
        ResourceValidationPolicy(
            name="calico-pool-annotations", enforcement_level=EnforcementLevel.MANDATORY,
            description="cni.projectcalico.org/ipv4pools and ipv6pools annotations are JSON "
                        "lists of pool names (CIP609).",
            validate=_namespace_validator),
        StackValidationPolicy(
            name="calico-ipam-stack", enforcement_level=EnforcementLevel.MANDATORY,
            description="No overlapping pools (also across the routing domain), bindings "
                        "name existing usable pools, capacity fits (CIP2xx, CIP4xx, CIP5xx).",
            validate=_stack_validator(True), config_schema=HEADROOM_SCHEMA),
        StackValidationPolicy(
            name="calico-ipam-stack-advisory", enforcement_level=EnforcementLevel.ADVISORY,
            description="Warnings about address space, bindings and capacity.",
            validate=_stack_validator(False), config_schema=HEADROOM_SCHEMA),
    ]
