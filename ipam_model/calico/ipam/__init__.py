"""Calico's IPAM AutoAssign model: which block, which address, when it fails.

``results`` (what a request gets), ``messages`` (Calico's words), ``chooser``
(which pools a request may use), ``cni`` (the CNI plugin's ADD: families,
pod annotations, releasing a failed pod's addresses), ``simulator`` (the
fast model), ``naive`` (the oracle it is tested against), ``from_stack`` (a
simulator as a stack declares it).

Layer contract: pure; imports only ``core`` and ``calico``.
"""
from __future__ import annotations

from .chooser import NamespaceInfo, PoolChooser, Refused
from .cni import CniConfig, PodRequest
from .from_stack import (
    default_cni,
    families_in_use,
    namespaces_from_bindings,
    node_names,
    simulator_for_stack,
)
from .naive import NaiveSimulator
from .results import AllocationFailure, BlockUsage, PodAllocation, TunnelAllocation
from .simulator import Simulator

__all__ = [
    "AllocationFailure", "BlockUsage", "CniConfig", "NaiveSimulator", "NamespaceInfo",
    "PodAllocation", "PodRequest", "PoolChooser", "Refused", "Simulator", "TunnelAllocation",
    "default_cni", "families_in_use", "namespaces_from_bindings", "node_names",
    "simulator_for_stack",
]
