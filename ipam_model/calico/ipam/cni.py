"""The Calico CNI plugin's ADD for one pod, over either allocation model.

What ``calico-ipam`` (cni-plugin pkg/ipamplugin/ipam_plugin.go) and the
Kubernetes glue before it (cni-plugin pkg/k8s/k8s.go) do with a pod:

* families: the network config's ``assign_ipv4`` (default ``"true"``) and
  ``assign_ipv6`` (default ``"false"``, ipam_plugin.go:299-310); a pod's
  ``cni.projectcalico.org/ipFamilies`` annotation (``["IPv4", "IPv6"]``)
  replaces both (k8s.go:233-296);
* pools: the pod's ``cni.projectcalico.org/ipv4pools``/``ipv6pools``
  annotation over the namespace's (k8s.go:219-231) over the config's
  ``ipv4_pools``/``ipv6_pools``; both families are resolved first
  (ResolvePools, ipam_plugin.go:313-330): a bad entry fails the pod before
  any address is assigned;
* ``cni.projectcalico.org/ipAddrs``: one IPv4 and/or one IPv6 address,
  each assigned as asked (AssignIP, k8s.go:706-815 and ipam_plugin.go:238-296)
  instead of AutoAssign;
* AutoAssign takes IPv4 first; an error ends the request before IPv6
  (libcalico-go lib/ipam/ipam.go:111-152), a short assignment does not, and
  the plugin then releases the family that succeeded (ipam_plugin.go:412-450).
  A failed ADD releases whatever the pod got (kubelet's CNI DEL, by handle),
  so a failed pod holds no address.

``cni_add`` drives a model's primitives (``auto_assign``, ``assign_ip``,
``release``): the fast ``Simulator`` and the naive oracle run the same
plugin logic over their own block algorithms.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Mapping, Protocol, Sequence

import netaddr

from ...core import json_doc
from ...core.cidr import parse_cidr
from ...core.limits import ANNOTATION_JSON_BYTES
from ...core.model import IPV4_POOLS_ANNOTATION, IPV6_POOLS_ANNOTATION, frozen_map
from ..annotations import parse_pools_annotation
from .chooser import PoolChooser, Refused
from .results import AllocationFailure, PodAllocation

IP_ADDRS_ANNOTATION = "cni.projectcalico.org/ipAddrs"
IP_FAMILIES_ANNOTATION = "cni.projectcalico.org/ipFamilies"
POD_ANNOTATIONS = (IPV4_POOLS_ANNOTATION, IPV6_POOLS_ANNOTATION, IP_ADDRS_ANNOTATION,
                   IP_FAMILIES_ANNOTATION)


@dataclass(frozen=True)
class CniConfig:
    """The ``ipam`` section of Calico's CNI network config, with the plugin's
    defaults: IPv4 on, IPv6 off, no default pools."""

    assign_ipv4: bool = True
    assign_ipv6: bool = False
    ipv4_pools: tuple[str, ...] = ()
    ipv6_pools: tuple[str, ...] = ()

    @classmethod
    def for_families(cls, families: Sequence[int]) -> "CniConfig":
        """A config assigning exactly these families (what the Tigera operator
        renders from the pools it knows: pkg/render/node.go:802-820)."""
        return cls(assign_ipv4=4 in families, assign_ipv6=6 in families)

    @functools.cached_property  # read once per pod
    def families(self) -> tuple[int, ...]:
        return tuple(v for v, on in ((4, self.assign_ipv4), (6, self.assign_ipv6)) if on)


@dataclass(frozen=True)
class PodRequest:
    """One pod as the plugin sees it: where it runs and its annotations."""

    namespace: str
    name: str
    node: str
    annotations: Mapping[str, str] = field(default_factory=frozen_map)


class AllocationModel(Protocol):
    """What ``cni_add`` needs of an allocation model."""

    chooser: PoolChooser
    failures: list

    def namespace_info(self, namespace: str): ...
    def auto_assign(self, namespace: str, pod: str, node: str,
                    pools: Sequence[str] | None, version: int) -> PodAllocation: ...
    def assign_ip(self, namespace: str, pod: str, node: str, version: int,
                  address: int) -> PodAllocation: ...
    def release(self, namespace: str, pod: str): ...


def _annotation_json(raw: str):
    """A pod annotation's JSON through the one bounded decoder (depth, size,
    integer length): annotations are input like any other."""
    return json_doc.loads(raw, limit=ANNOTATION_JSON_BYTES)


def families(cni: CniConfig, annotations: Mapping[str, str]) -> tuple[int, ...]:
    """The families a pod asks for: ipFamilies over the network config."""
    raw = annotations.get(IP_FAMILIES_ANNOTATION)
    if not raw:
        return cni.families
    try:
        values = _annotation_json(raw)
    except json_doc.JsonError:
        raise Refused(f"error parsing ipFamilies: {raw}") from None
    if not isinstance(values, list) or not all(v in ("IPv4", "IPv6") for v in values):
        raise Refused(f"error parsing ipFamilies: {raw}")
    return tuple(v for v, name in ((4, "IPv4"), (6, "IPv6")) if name in values)


def pod_pools(annotations: Mapping[str, str], version: int) -> list[str] | None:
    """The pod's own pools annotation of *version*, or None (then the namespace's)."""
    key = IPV4_POOLS_ANNOTATION if version == 4 else IPV6_POOLS_ANNOTATION
    raw = annotations.get(key)
    if not raw:  # an empty annotation is no annotation (k8s.go: len(v4poolpod) != 0)
        return None
    entries, problem = parse_pools_annotation(raw)
    if problem is not None:
        raise Refused(f"error parsing the annotation {key}: {problem}")
    return entries


def ip_addrs(raw: str) -> list[tuple[int, int]]:
    """(version, address) of each entry of an ipAddrs annotation, with the
    plugin's refusals (validateAndExtractIPs, k8s.go:861-921)."""
    key = IP_ADDRS_ANNOTATION
    try:
        values = _annotation_json(raw)
    except json_doc.JsonError as exc:
        problem = exc.message.removeprefix("not valid JSON: ")
        raise Refused(f"failed to parse IPs {raw} for annotation \"{key}\": failed to parse "
                      f"'{raw}' as JSON: {problem}") from None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise Refused(f"failed to parse IPs {raw} for annotation \"{key}\": failed to parse "
                      f"'{raw}' as JSON: not a list of strings")
    if not values:
        raise Refused(f"annotation \"{key}\" specified but empty")
    out: list[tuple[int, int]] = []
    for value in values:
        parsed = _ip(value)
        if parsed is None:
            raise Refused(f"invalid IP format: {value}")
        if any(v == parsed[0] for v, _ in out):
            raise Refused(f"cannot have more than one IPv{parsed[0]} address for \"{key}\" "
                          "annotation")
        out.append(parsed)
    return out


def _ip(text: str) -> tuple[int, int] | None:
    """Go's net.ParseIP, with To4(): an IPv4-mapped IPv6 address is IPv4."""
    if ":" not in text:
        parsed = parse_cidr(f"{text}/32")  # Go's IPv4 rules (no leading zeros)
        return (4, parsed.network) if parsed is not None else None
    try:
        ip = netaddr.IPAddress(text, 6, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError):
        return None
    if ip.is_ipv4_mapped():
        return 4, int(ip) & 0xFFFFFFFF
    return 6, int(ip)


_NOT_ASKED: Mapping[int, None] = frozen_map({4: None, 6: None})  # no pod annotation


def cni_add(model: AllocationModel, pod: PodRequest, cni: CniConfig
            ) -> list[PodAllocation] | AllocationFailure:
    """CNI ADD for one pod: its addresses, or the refusal (recorded in
    ``model.failures``) after everything it got was released."""
    try:
        return _add(model, pod, cni)
    except Refused as exc:
        model.release(pod.namespace, pod.name)
        failure = AllocationFailure(pod.namespace, pod.name, pod.node, str(exc))
        model.failures.append(failure)
        return failure


def _add(model: AllocationModel, pod: PodRequest, cni: CniConfig) -> list[PodAllocation]:
    ns, name, node = pod.namespace, pod.name, pod.node
    annotations = pod.annotations
    if not annotations:  # most pods: nothing of their own to read
        wanted, asked, raw = _NOT_ASKED, cni.families, None
    else:
        # k8s.go reads the pool and family annotations first: their JSON errors
        # fail the pod whatever else it asks for.
        wanted = {v: pod_pools(annotations, v) for v in (4, 6)}
        asked = families(cni, annotations)
        raw = annotations.get(IP_ADDRS_ANNOTATION)
    if raw:
        got = []
        for version, address in ip_addrs(raw):
            try:
                got.append(model.assign_ip(ns, name, node, version, address))
            except Refused as exc:
                raise Refused(f"error getting IP from IPAM: {exc}") from None
        return got
    info = model.namespace_info(ns)
    for version in (4, 6):  # both families are resolved, whichever are assigned
        model.chooser.requested(version, info, wanted[version])
    got, short = [], None
    for version in asked:
        try:
            got.append(model.auto_assign(ns, name, node, wanted[version], version))
        except Refused as exc:
            if not exc.partial:
                raise
            short = short or exc  # the other family is still asked for, then released
    if short is not None:
        try:
            raise short
        finally:  # the frame would hold the exception that holds the frame: a cycle
            del short
    return got
