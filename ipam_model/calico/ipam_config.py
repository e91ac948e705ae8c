"""What Calico does with an IPAMConfigurationSpec, derived from the one field table.

* ``read_ipam_config``: a spec (declared, or stored in the cluster) as Calico
  reads it: absent fields take their defaults (``core.ipam_config``), types
  are checked (a ``FieldError`` names the field), since crd.projectcalico.org/v1
  writes skip Calico's validation and may store booleans as strings.
* ``range_problems``: what the CRD refuses (maxBlocksPerHost above 1,000,000,
  ipCooldownSeconds above 1200, a kubeVirtVMAddressPersistence other than
  Enabled/Disabled).
* ``minimal``: the fields that differ from Calico's defaults (what ``import``
  writes).
* the ``calico-ipam.io/applied-spec`` record: encoded by render, decoded by drift.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from ..core.ipam_config import (
    BOOL,
    COUNT,
    ENUM,
    IPAM_CONFIG_FIELDS,
    ConfigField,
    IPAMConfig,
)
from ..core.words import show
from .ippool import FieldError, decode_applied_record, read_bool


def read_ipam_config(spec: Mapping) -> IPAMConfig:
    """The spec with Calico's defaults applied; FieldError for a value of the wrong type."""
    values = {field.attr: _read(field, spec.get(field.name)) for field in IPAM_CONFIG_FIELDS}
    return IPAMConfig(**values)


def _read(field: ConfigField, raw: Any) -> Any:
    if field.kind == BOOL:
        return read_bool(raw, field.default, field.name)
    if field.kind == COUNT:
        if raw is None:
            return field.default
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
            raise FieldError(f"{field.name} must be a non-negative integer, got {show(raw)}",
                             (field.name,))
        return raw
    if raw is None or raw == "":
        return field.default
    if not isinstance(raw, str):
        raise FieldError(f"{field.name} must be a string, got {show(raw)}", (field.name,))
    return raw


def range_problems(config: IPAMConfig) -> list[tuple[str, str]]:
    """(field, what is wrong) for every value the IPAMConfiguration CRD refuses
    (api/config/crd/projectcalico.org_ipamconfigurations.yaml:60-103)."""
    out = []
    for field in IPAM_CONFIG_FIELDS:
        value = getattr(config, field.attr)
        if field.maximum is not None and value > field.maximum:
            out.append((field.name, f"{field.name} {value:,} is above the maximum of "
                                    f"{field.maximum:,} that Calico's IPAMConfiguration CRD "
                                    "accepts"))
        if field.kind == ENUM and value not in field.choices:
            out.append((field.name, f"{field.name} {show(value)} is not one of "
                                    f"{', '.join(field.choices)} (Calico's CRD enum)"))
    return out


def minimal(config: IPAMConfig) -> dict[str, Any]:
    """Every field that differs from Calico's default."""
    default = IPAMConfig()
    return {f.name: getattr(config, f.attr) for f in IPAM_CONFIG_FIELDS
            if getattr(config, f.attr) != getattr(default, f.attr)}


def changed_fields(before: IPAMConfig, after: IPAMConfig) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for every field that differs, in table order."""
    return [(f.name, getattr(before, f.attr), getattr(after, f.attr))
            for f in IPAM_CONFIG_FIELDS if getattr(before, f.attr) != getattr(after, f.attr)]


def applied_value(config: IPAMConfig) -> str:
    """The ``calico-ipam.io/applied-spec`` value: every field, compact sorted JSON."""
    return json.dumps(config.comparable(), sort_keys=True, separators=(",", ":"))


def decode_applied(raw: str) -> tuple[IPAMConfig | None, str | None]:
    """(config, None) from an applied-spec record, or (None, why it is unreadable)."""
    recorded, why = decode_applied_record(raw)
    if recorded is None:
        return None, why
    try:
        return read_ipam_config(recorded), None
    except FieldError as exc:
        return None, f"is not a valid IPAMConfig spec ({exc})"
