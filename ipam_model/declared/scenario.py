"""A scenario for ``calico-ipam simulate --scenario FILE``.

A YAML (or JSON) file, loaded with the stack files' safe loader and checked
against ``data/scenario.schema.json`` (errors name the file, line and YAML
path). It says what the stack file cannot: the CNI network config's ``ipam``
section (Calico's names: ``assign_ipv4``, ``assign_ipv6``, ``ipv4_pools``,
``ipv6_pools``), the nodes, and pod events in order, each pod with the
annotations Calico's CNI plugin reads (``cni.projectcalico.org/ipv4pools``,
``ipv6pools``, ``ipAddrs``, ``ipFamilies``)::

    cni: {assign_ipv4: "true", assign_ipv6: "true"}
    nodes:
      - {name: node1, labels: {zone: a}}
    pods:
      - {namespace: web, count: 3}
      - namespace: web
        name: fixed
        annotations: {cni.projectcalico.org/ipAddrs: '["172.16.0.40"]'}
      - {release: web/web-1}
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..calico.ipam.cni import CniConfig
from ..core.errors import InputError
from ..core.limits import MAX_PODS
from ..core.model import frozen_map
from .schema import validate_document
from .yaml import load_yaml_file

SCHEMA = "scenario.schema.json"
# All pods of a scenario together, as ``simulate --pods`` bounds its sum: the
# simulation holds every pod in memory.


@dataclass(frozen=True)
class PodStep:
    """``count`` pods created in a namespace, on ``node`` or round-robin."""

    namespace: str
    name: str | None = None
    count: int = 1
    node: str | None = None
    annotations: Mapping[str, str] = field(default_factory=frozen_map)


@dataclass(frozen=True)
class ReleaseStep:
    """A pod deleted: CNI DEL releases its addresses."""

    namespace: str
    name: str


@dataclass(frozen=True)
class Scenario:
    file: str
    cni: CniConfig | None = None
    # (name, labels); labels None: those of the stack's node group, if any
    nodes: tuple[tuple[str, Mapping[str, str] | None], ...] | None = None
    steps: tuple[PodStep | ReleaseStep, ...] | None = None


def load_scenario(path: str | os.PathLike) -> Scenario:
    """The scenario in *path*, or an InputError naming the file, line and path."""
    doc = load_yaml_file(path)
    data = {} if doc.data is None else doc.data
    validate_document(SCHEMA, data, file=doc.file, position=doc.position)
    return scenario_from(data, doc.file)


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    return value in (True, "true")


def scenario_from(data: Mapping[str, Any], file: str) -> Scenario:
    """A Scenario from a mapping that passed the schema."""
    cni = None
    if "cni" in data:
        raw = data["cni"] or {}
        cni = CniConfig(assign_ipv4=_flag(raw.get("assign_ipv4"), True),
                        assign_ipv6=_flag(raw.get("assign_ipv6"), False),
                        ipv4_pools=tuple(raw.get("ipv4_pools") or ()),
                        ipv6_pools=tuple(raw.get("ipv6_pools") or ()))
    nodes = None
    if "nodes" in data:
        nodes = tuple((n["name"], frozen_map(n["labels"]) if "labels" in n else None)
                      for n in data["nodes"])
    steps = None
    if "pods" in data:
        steps = tuple(_step(item) for item in data["pods"])
        total = sum(s.count for s in steps if isinstance(s, PodStep))
        if total > MAX_PODS.value:
            raise InputError(f"the scenario creates {total:,} pods in all, more than "
                             f"{MAX_PODS.value:,}: simulate fewer", file=file, path=("pods",))
    return Scenario(file, cni, nodes, steps)


def _step(item: Mapping[str, Any]) -> PodStep | ReleaseStep:
    if "release" in item:
        namespace, _, name = item["release"].partition("/")
        return ReleaseStep(namespace, name)
    return PodStep(item["namespace"], item.get("name"), item.get("count", 1), item.get("node"),
                   frozen_map(item.get("annotations") or {}))
