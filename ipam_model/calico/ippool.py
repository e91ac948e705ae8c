"""What Calico does with an IPPoolSpec's fields, derived from the one field table.

* ``apply_defaults``: a declared spec (one that passed ``validate_pool``) as
  Calico stores it: clientv3 ``validateAndSetDefaults``.
* ``read_spec``: a stored spec as Calico reads it back
  (``convertIpPoolFromStorage``): the same defaults, plus the type checks a
  snapshot or a cluster needs, since ``crd.projectcalico.org/v1`` writes skip
  Calico's validation (and store some booleans as strings).
* ``minimal``: the fields that differ from Calico's defaults (what ``import``
  writes into a stack file).
* ``comparable`` / ``forces_replacement``: how a plan compares two specs.
* the ``calico-ipam.io/applied-spec`` record: encoded by render, decoded by drift.
* ``migration_fields``: what the temporary pool of a migration copies.

Defaults (reference calico-ippool-rules.md §1): blockSize 0 or absent -> 26
(IPv4) / 122 (IPv6); ipipMode, vxlanMode "" or absent -> Never; nodeSelector
"" or absent -> all(); allowedUses empty or absent -> [Workload, Tunnel];
assignmentMode absent -> Automatic; booleans absent -> false. The CIDR is
stored in canonical form (IPv6 compressed, lower case).
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from ..core import json_doc
from ..core.cidr import Cidr, cidr_problem, parse_cidr
from ..core.ippool import (
    BLOCK_SIZE,
    BOOL,
    BY_NAME,
    CIDR,
    FIELDS,
    SELECTOR,
    USES,
    Field,
    PoolSpec,
)
from ..core.limits import ANNOTATION_JSON_BYTES
from ..core.words import show

# IPPoolSpec's JSON field names; ``ipip`` and ``nat-outgoing`` are the deprecated
# APIv1 leftovers that Calico <= v3.31 still parses (and requires unset).
DEPRECATED_FIELDS = ("ipip", "nat-outgoing")
SPEC_FIELDS = tuple(f.name for f in FIELDS) + DEPRECATED_FIELDS
BOOL_FIELDS = tuple(f.name for f in FIELDS if f.kind == BOOL)
IMMUTABLE_FIELDS = tuple(f.name for f in FIELDS if f.immutable)


class FieldError(ValueError):
    """A stored field Calico could not have written: ``path`` names the field."""

    def __init__(self, message: str, path: tuple):
        super().__init__(message)
        self.path = path


def apply_defaults(spec: Mapping) -> PoolSpec:
    """The declared spec as Calico stores and reads it back, every default applied.

    Precondition: ``spec`` passed ``validate_pool`` without errors. A spec whose
    CIDR cannot be parsed raises ValueError, as does a field of the wrong type.
    """
    raw_cidr = spec.get("cidr")
    cidr = parse_cidr(raw_cidr)
    if cidr is None:
        raise ValueError(f"apply_defaults needs a spec that passed validate_pool: cidr "
                         f"{show(raw_cidr)} {cidr_problem(raw_cidr)}")
    return _spec(spec, cidr)


def read_spec(spec: Mapping) -> PoolSpec:
    """A stored spec as Calico reads it: defaults applied, types checked
    (FieldError naming the field for anything Calico could not have stored)."""
    cidr = parse_cidr(spec.get("cidr"))
    if cidr is None:
        raw = spec.get("cidr")
        if not isinstance(raw, str) or "/" not in raw:
            raise FieldError(f"cidr must be a CIDR such as 10.0.0.0/16, got {raw!r}", ("cidr",))
        raise FieldError(f"cidr {raw!r} is not a valid CIDR", ("cidr",))
    return _spec(spec, cidr)


def _spec(spec: Mapping, cidr: Cidr) -> PoolSpec:
    values = {"cidr": cidr.text}
    for field in FIELDS[1:]:
        values[field.attr] = _read(field, spec.get(field.name), cidr.version)
    return PoolSpec(**values)


def _read(field: Field, raw: Any, version: int) -> Any:
    """One field's stored value, its default when absent or empty."""
    if field.kind == BLOCK_SIZE:
        raw = raw or 0
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise FieldError(f"blockSize must be an integer, got {raw!r}", (field.name,))
        return raw or field.default_for(version)
    if field.kind == BOOL:
        return read_bool(raw, field.default, field.name)
    if field.kind == USES:
        raw = raw or []
        if not isinstance(raw, list) or not all(isinstance(u, str) for u in raw):
            raise FieldError("allowedUses must be a list of strings", (field.name,))
        return tuple(raw) or field.default
    if raw is None or raw == "":
        return field.default
    if not isinstance(raw, str):
        raise FieldError(f"{field.name} must be a string, got {raw!r}", (field.name,))
    return raw


def read_bool(raw: Any, default: bool, name: str) -> bool:
    """A stored boolean: crd.projectcalico.org/v1 keeps some flags as strings ("false")."""
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise FieldError(f"{name} must be true or false, got {raw!r}", (name,))


def _same(field: Field, a: Any, b: Any) -> bool:
    return sorted(a) == sorted(b) if field.set_valued else a == b


def minimal(spec: PoolSpec) -> dict[str, Any]:
    """The CIDR and every field that differs from Calico's default for the pool's family."""
    default = apply_defaults({"cidr": spec.cidr})
    out: dict[str, Any] = {}
    for field in FIELDS:
        value = getattr(spec, field.attr)
        if field.kind == CIDR or not _same(field, value, getattr(default, field.attr)):
            out[field.name] = list(value) if isinstance(value, tuple) else value
    return out


def same_value(name: str, a: Any, b: Any) -> bool:
    """Whether two values of field *name* mean the same to Calico."""
    return _same(BY_NAME[name], a, b)


def comparable(spec: PoolSpec) -> dict[str, Any]:
    """The spec as Calico reads it back; set-valued fields (allowedUses is a
    set in Calico's CRD, ``x-kubernetes-list-type: set``) sorted, so their
    order is never a change."""
    out = spec.to_calico()
    for field in FIELDS:
        if field.set_valued and field.name in out:
            out[field.name] = sorted(out[field.name])
    return out


def forces_replacement(name: str, old: Any, new: Any) -> bool:
    """Whether changing field *name* from *old* to *new* needs a new pool.

    cidr and blockSize are immutable; clientv3 also refuses moving a pool away
    from LoadBalancer (reference calico-ippool-rules.md §4)."""
    if name == "allowedUses":
        return "LoadBalancer" in (old or ()) and set(new or ()) != {"LoadBalancer"}
    field = BY_NAME.get(name)
    return field is not None and field.immutable


def applied_spec_value(spec: PoolSpec) -> str:
    """The ``calico-ipam.io/applied-spec`` value: the full defaulted spec as
    compact JSON with sorted keys, so equal specs give equal text."""
    return json.dumps(spec.to_calico(), sort_keys=True, separators=(",", ":"))


def decode_applied_record(raw: str) -> tuple[dict | None, str | None]:
    """(object, None) from an applied-spec annotation (of a pool or the
    IPAMConfig), or (None, why it is unreadable)."""
    try:  # the one bounded decoder: annotation JSON is input like any other
        recorded = json_doc.loads(raw, limit=ANNOTATION_JSON_BYTES)
    except json_doc.JsonError as exc:
        message = exc.message.removeprefix("not valid JSON: ")
        return None, f"is not valid JSON ({message} at character {exc.pos})"
    if not isinstance(recorded, dict):
        return None, f"is not a JSON object (got {type(recorded).__name__})"
    return recorded, None


def decode_applied_spec(raw: str) -> tuple[PoolSpec | None, str | None]:
    """(spec, None) from an applied-spec record, or (None, why it is unreadable)."""
    recorded, why = decode_applied_record(raw)
    if recorded is None:
        return None, why
    try:
        return read_spec(recorded), None
    except FieldError as exc:
        return None, f"is not a valid IPPool spec (spec.{'.'.join(exc.path)}: {exc})"


def migration_fields(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, YAML text) of what a migration's temporary pool copies from *spec*
    (Calico names, as ``comparable`` gives them)."""
    out = []
    for field in FIELDS:
        if field.migration:
            value = spec[field.name]
            text = (str(value).lower() if field.kind == BOOL else
                    json.dumps(value, ensure_ascii=False) if field.kind == SELECTOR else value)
            out.append((field.name, text))
    return out
