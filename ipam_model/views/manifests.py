"""Manifests: a stack's IPAMConfig, IPReservations, IPPools and Namespace patches.

``render_pool`` and ``render_namespace_patch`` are pure and deterministic:
the CLI's ``render`` prints exactly what they return and the Pulumi program
registers exactly the same objects, so ``pulumi up`` applies what ``render``
shows. Rendering never validates; ``render`` refuses a stack with error
findings before it gets here.

Pools carry every defaulted spec field written out (``PoolSpec.to_calico``),
so a diff against what Calico reads back is empty for an unchanged pool and a
later change of Calico's defaults never silently changes a rendered pool.

Pools also carry ``calico-ipam.io/applied-spec``: the same spec as compact
JSON. Whatever applies the manifest (``pulumi up``, ``kubectl apply`` of
``render`` output) thereby records what it applied on the object itself, and
``plan``/``drift`` tell an edit made outside calico-ipam (the live spec no
longer matches the record) from a pending edit of the stack file (the stack
no longer matches the record). Without Pulumi state in reach, the object is
the only place that record can live. The IPAMConfig and the IPReservations
carry the same labels and record.

The IPAMConfig is ``kind: IPAMConfiguration`` in projectcalico.org/v3 and
``kind: IPAMConfig`` in crd.projectcalico.org/v1, named ``default`` either way
(libcalico-go lib/apis/internalapi/ipam_config.go:22-27; lib/clientv3/ipamconfig.go:29-52).
``render_stack`` orders the documents as they must be applied: the IPAMConfig
and the reservations before the pools (a pod must never get an address
between a pool's creation and its reservation's), the namespace patches last.
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

import yaml

from ..calico.ipam_config import applied_value as ipam_config_applied_value
from ..core.ipam_config import IPAM_CONFIG_NAME, KIND_V1, KIND_V3, IPAMConfig
from ..core.model import (
    API_CRD_V1,
    API_V3,
    APPLIED_SPEC_ANNOTATION,
    OWNERSHIP_LABEL,
    OWNERSHIP_VALUE,
    STACK_LABEL,
    Binding,
    Pool,
    PoolSpec,
    Reservation,
    Stack,
)

API_VERSIONS = (API_V3, API_CRD_V1)
POOL_KIND = "IPPool"
RESERVATION_KIND = "IPReservation"
IPAM_CONFIG_KINDS = {API_V3: KIND_V3, API_CRD_V1: KIND_V1}
CALICO_KINDS = (POOL_KIND, RESERVATION_KIND, KIND_V3, KIND_V1)

try:  # libyaml's emitter when available; output is identical either way
    _Dumper = yaml.CSafeDumper
except AttributeError:  # pragma: no cover
    _Dumper = yaml.SafeDumper


def pool_labels(pool: Pool, stack_name: str) -> dict[str, str]:
    """Declared labels plus the ownership and stack labels, which always win.

    The ownership label is how ``plan`` and ``drift`` tell our pools from
    pools made by hand or by the Tigera operator; a declared label must not
    be able to forge or drop it.
    """
    labels = {key: str(value) for key, value in sorted(pool.labels.items())}
    labels.pop(OWNERSHIP_LABEL, None)
    labels.pop(STACK_LABEL, None)
    return {OWNERSHIP_LABEL: OWNERSHIP_VALUE, STACK_LABEL: stack_name, **labels}


def applied_spec_value(spec: PoolSpec) -> str:
    """The ``calico-ipam.io/applied-spec`` value: the full defaulted spec as
    compact JSON with sorted keys, so equal specs give equal text."""
    return json.dumps(spec.to_calico(), sort_keys=True, separators=(",", ":"))


def pool_annotations(pool: Pool) -> dict[str, str]:
    """Declared annotations plus the applied-spec record, which always wins
    (a declared value could only make the record lie)."""
    annotations = {key: str(value) for key, value in pool.annotations.items()}
    annotations[APPLIED_SPEC_ANNOTATION] = applied_spec_value(pool.spec)
    return dict(sorted(annotations.items()))


def render_pool(pool: Pool, stack_name: str, api_version: str = API_V3) -> dict:
    """The IPPool object for *pool*, for ``projectcalico.org/v3`` or
    ``crd.projectcalico.org/v1``.

    Both API versions get the same metadata: labels and annotations directly
    on the object. For ``crd.projectcalico.org/v1`` this was a decision:
    Calico's own client (calicoctl, the API server) stores a v3 object's
    metadata as JSON in the ``projectcalico.org/metadata`` annotation of the
    v1 custom resource and, on read, unmarshals that annotation and then
    takes the labels and annotations found directly on the custom resource
    (libcalico-go ``backend/k8s/resources/resources.go``,
    ``ConvertK8sResourceToCalicoResource``; newer releases merge both, for
    upgrades; reference calico-ippool-rules.md §1 "crd.projectcalico.org/v1
    storage"). Someone applying v1 with kubectl therefore gets labels that
    every Calico release reads back when they sit on the object itself, and
    that ``kubectl get ippools.crd.projectcalico.org -l
    app.kubernetes.io/managed-by=calico-ipam`` can select. Writing the
    ``projectcalico.org/metadata`` annotation ourselves would duplicate
    Calico's private storage format, which older releases ignore for labels
    and which would go stale the first time Calico rewrites the object.
    """
    if api_version not in API_VERSIONS:
        raise ValueError(f"unknown IPPool API version {api_version!r}; "
                         f"use {' or '.join(API_VERSIONS)}")
    metadata: dict[str, Any] = {"name": pool.name, "labels": pool_labels(pool, stack_name),
                                "annotations": pool_annotations(pool)}
    return {"apiVersion": api_version, "kind": POOL_KIND, "metadata": metadata,
            "spec": pool.spec.to_calico()}


def _ownership(stack_name: str) -> dict[str, str]:
    return {OWNERSHIP_LABEL: OWNERSHIP_VALUE, STACK_LABEL: stack_name}


def _check_api(api_version: str) -> None:
    if api_version not in API_VERSIONS:
        raise ValueError(f"unknown Calico API version {api_version!r}; "
                         f"use {' or '.join(API_VERSIONS)}")


def render_ipam_config(config: IPAMConfig, stack_name: str, api_version: str = API_V3) -> dict:
    """The IPAMConfig ``default``: IPAMConfiguration (v3) or IPAMConfig (crd v1), the
    required fields always written (the crd v1 CRD requires strictAffinity and
    autoAllocateBlocks, libcalico-go/config/crd/crd.projectcalico.org_ipamconfigs.yaml)."""
    _check_api(api_version)
    metadata = {"name": IPAM_CONFIG_NAME, "labels": _ownership(stack_name),
                "annotations": {APPLIED_SPEC_ANNOTATION: ipam_config_applied_value(config)}}
    return {"apiVersion": api_version, "kind": IPAM_CONFIG_KINDS[api_version],
            "metadata": metadata, "spec": config.to_calico()}


def reservation_applied_value(reservation: Reservation) -> str:
    """The applied-spec record of a reservation: its CIDRs, sorted, as compact JSON."""
    return json.dumps({"reservedCIDRs": sorted(c.text for c in reservation.cidrs)},
                      separators=(",", ":"))


def render_reservation(reservation: Reservation, stack_name: str,
                       api_version: str = API_V3) -> dict:
    """An IPReservation, its CIDRs in the order the stack lists them."""
    _check_api(api_version)
    metadata = {"name": reservation.name, "labels": _ownership(stack_name),
                "annotations": {APPLIED_SPEC_ANNOTATION: reservation_applied_value(reservation)}}
    return {"apiVersion": api_version, "kind": RESERVATION_KIND, "metadata": metadata,
            "spec": reservation.spec.to_calico()}


def pools_annotation_value(pools: Iterable[str]) -> str:
    """Calico's ``cni.projectcalico.org/ipv4pools`` value: a compact JSON list
    in the binding's order (Calico tries the pools in that order)."""
    return json.dumps(list(pools), separators=(",", ":"))


def render_namespace_patch(binding: Binding, stack_name: str) -> dict:
    """A Namespace object holding only the pool annotations of *binding*.

    Only families the binding names are present, so an IPv4-only binding
    never touches a hand-set ``ipv6pools`` annotation. ``stack_name`` is
    accepted for symmetry with ``render_pool``; it is deliberately not
    written as a label, since the namespace belongs to its owners, not to
    this tool.
    """
    del stack_name  # the namespace is not ours to label
    annotations = {key: pools_annotation_value(value)
                   for key, value in binding.annotations().items()}
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": binding.namespace, "annotations": annotations}}


def render_stack(stack: Stack, api_version: str | None = None) -> list[dict]:
    """Every object of *stack*, in apply order: the IPAMConfig (when declared), the
    reservations by name, the pools by name, then the namespace patches by name.

    ``api_version`` defaults to the stack's ``calico-ipam:cluster.calicoApi``.
    Namespaces whose binding names no pool are left out: an empty patch
    would say nothing.
    """
    api = api_version or stack.cluster.calico_api
    docs = []
    if stack.ipam_config is not None:
        docs.append(render_ipam_config(stack.ipam_config, stack.name, api))
    docs += [render_reservation(stack.reservations[name], stack.name, api)
             for name in sorted(stack.reservations)]
    docs += [render_pool(stack.pools[name], stack.name, api) for name in sorted(stack.pools)]
    for namespace in sorted(stack.bindings):
        binding = stack.bindings[namespace]
        if binding.annotations():
            docs.append(render_namespace_patch(binding, stack.name))
    return docs


def select_kind(docs: Iterable[Mapping], only: str | None) -> list[Mapping]:
    """``pools`` keeps the IPPools, ``calico`` every Calico object (IPAMConfiguration,
    IPReservations, IPPools: what calicoctl apply takes), ``namespaces`` the
    Namespace patches (for kubectl), None keeps everything."""
    if only is None:
        return list(docs)
    kinds = {"pools": (POOL_KIND,), "calico": CALICO_KINDS, "namespaces": ("Namespace",)}[only]
    return [doc for doc in docs if doc.get("kind") in kinds]


def to_yaml(docs: Iterable[Mapping]) -> str:
    """Multi-document YAML for ``kubectl apply -f -`` / ``calicoctl apply -f -``.

    Each document starts with ``---``; keys keep the order they were built
    in (apiVersion, kind, metadata, spec), block style throughout, and
    strings that YAML would misread (``'["external-pool"]'``, ``'true'``,
    ``'!has(x)'``) are quoted by the emitter.
    """
    docs = [_plain(doc) for doc in docs]
    if not docs:
        return ""
    return yaml.dump_all(docs, Dumper=_Dumper, explicit_start=True, sort_keys=False,
                         default_flow_style=False, allow_unicode=True, width=1 << 16)


def _plain(value: Any) -> Any:
    """Mapping proxies and tuples as dicts and lists, which the safe dumper emits."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
