"""The IPPool fields and objects of Calico's APIv1, read the way Calico reads them.

Two leftovers of Calico v2 (the calicoctl ``v1`` API) still turn up in
manifests and clusters:

* ``ipip: {enabled, mode}`` and ``nat-outgoing`` inside an IPPool spec. Calico's
  Kubernetes-datastore reader converts them when it reads a
  ``crd.projectcalico.org/v1`` IPPool (``IPPoolv1v3Converter.ConvertFromK8s``,
  libcalico-go v3.31.7 lib/backend/k8s/resources/ippool.go:58-86): ``ipip``
  disabled means ``ipipMode: Never``, mode ``cross-subnet`` means
  ``CrossSubnet``, anything else ``Always``, replacing ``ipipMode``; and
  ``natOutgoing`` becomes ``nat-outgoing || natOutgoing``. The API server
  (``projectcalico.org/v3``) refuses both fields (validator ``mustBeNil`` /
  ``mustBeFalse``, CIP118); v3.32 removed them from the types and the CRD.
* a whole v2 object: ``apiVersion: v1``, ``kind: ipPool``, the CIDR in
  ``metadata.cidr``. Calico v3 reads none of it; ``calico-upgrade`` converted
  such pools (libcalico-go v3.31.7 lib/upgrade/converters/ippool.go:34-107:
  name from ``names.CIDRToName``, ipipMode from the tunnel interface and mode,
  natOutgoing, disabled).
"""
from __future__ import annotations

from typing import Any, Mapping

from ..core.cidr import parse_cidr
from .ippool import FieldError, read_bool

V2_API_VERSION = "v1"
V2_KIND = "ipPool"
CROSS_SUBNET = "cross-subnet"  # libcalico-go backend/encap.CrossSubnet


def _v1_ipip_mode(ipip: Any) -> str:
    """ipipMode of a v1 ``ipip`` value (ConvertFromK8s)."""
    if not isinstance(ipip, dict):
        raise FieldError(f"ipip must be a mapping such as {{enabled: true}}, got {ipip!r}",
                         ("ipip",))
    enabled = read_bool(ipip.get("enabled"), False, "ipip.enabled")
    mode = ipip.get("mode")
    if mode is not None and not isinstance(mode, str):
        raise FieldError(f"ipip.mode must be a string, got {mode!r}", ("ipip", "mode"))
    if not enabled:
        return "Never"
    return "CrossSubnet" if mode == CROSS_SUBNET else "Always"


def convert_v1_fields(spec: Mapping) -> tuple[dict, list[str]]:
    """(the spec as Calico's CRD reader sees it, what was converted, in words).

    Raises FieldError (naming the field) for a value Calico could not decode.
    A spec without the fields comes back unchanged (a copy)."""
    out = dict(spec)
    notes = []
    ipip = out.pop("ipip", None)
    if ipip is not None:
        mode = _v1_ipip_mode(ipip)
        notes.append(f"ipip {_show(ipip)} read as ipipMode: {mode}")
        out["ipipMode"] = mode
    if "nat-outgoing" in out:
        legacy = read_bool(out.pop("nat-outgoing"), False, "nat-outgoing")
        if legacy:
            current = read_bool(out.get("natOutgoing"), False, "natOutgoing")
            notes.append("nat-outgoing: true read as natOutgoing: true"
                         + ("" if not current else " (natOutgoing was already true)"))
            out["natOutgoing"] = True
    return out, notes


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_v2_pool(obj: Mapping) -> bool:
    """A Calico v2 (calicoctl APIv1) ``ipPool`` object."""
    return obj.get("kind") == V2_KIND and obj.get("apiVersion") == V2_API_VERSION


def v2_pool_as_v3(obj: Mapping) -> str | None:
    """The projectcalico.org/v3 IPPool calico-upgrade made of a v2 ``ipPool``,
    as one line of YAML flow text; None when its CIDR does not parse."""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    cidr = parse_cidr(meta.get("cidr"))
    if cidr is None:
        return None
    name = cidr.text.replace(".", "-").replace(":", "-").replace("/", "-")  # names.CIDRToName
    fields = [f"cidr: {cidr.text}"]
    ipip = spec.get("ipip")
    if isinstance(ipip, dict) and ipip.get("enabled") is True:  # tunl0, then the mode
        fields.append("ipipMode: " + ("CrossSubnet" if str(ipip.get("mode", "")).lower()
                                      == CROSS_SUBNET else "Always"))
    if spec.get("nat-outgoing") is True:
        fields.append("natOutgoing: true")
    if spec.get("disabled") is True:
        fields.append("disabled: true")
    return (f"apiVersion: projectcalico.org/v3, kind: IPPool, metadata: {{name: {name}}}, "
            f"spec: {{{', '.join(fields)}}}")
