"""The IPPool spec as data: one table of its fields, and ``PoolSpec`` built on it.

``FIELDS`` is the only list of Calico's IPPoolSpec fields (libcalico-go
api/pkg/apis/projectcalico/v3/ippool.go; reference calico-ippool-rules.md §1).
Everything that knows a field derives from it: ``PoolSpec.to_calico``, the
unknown-field check and type checks, Calico's defaults on write and on read
(``calico.ippool``), import's leaving-out of defaults, the immutable fields
and the temporary pool of a migration. A test fails when ``PoolSpec``, the
stack JSON Schema and this table disagree, so a new field cannot be
forgotten in one place.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_BLOCK_SIZE = {4: 26, 6: 122}
BLOCK_SIZE_RANGE = {4: (20, 32), 6: (116, 128)}
DEFAULT_ALLOWED_USES = ("Workload", "Tunnel")
DEFAULT_NODE_SELECTOR = "all()"

# How a field's value is read and shown (calico.ippool implements each kind).
CIDR, BLOCK_SIZE, MODE, BOOL, SELECTOR, USES, ENUM = (
    "cidr", "block-size", "mode", "bool", "selector", "uses", "enum")


@dataclass(frozen=True)
class Field:
    """One IPPoolSpec field.

    ``default`` is what Calico stores when the field is absent (or empty, or
    0 for blockSize); a per-family default is a ``{4: …, 6: …}`` mapping.
    ``always_written``: ``to_calico`` writes it even at its default (only
    namespaceSelector is left out when empty, as Calico's JSON omits it).
    ``migration``: the temporary pool of a migration copies it from the pool
    it stands in for (cidr and blockSize are chosen for the migration).
    """

    name: str
    attr: str
    kind: str
    default: Any
    immutable: bool = False
    set_valued: bool = False
    always_written: bool = True
    migration: bool = False

    def default_for(self, version: int) -> Any:
        return self.default[version] if isinstance(self.default, dict) else self.default


FIELDS = (
    Field("cidr", "cidr", CIDR, None, immutable=True),
    Field("blockSize", "block_size", BLOCK_SIZE, DEFAULT_BLOCK_SIZE, immutable=True),
    Field("ipipMode", "ipip_mode", MODE, "Never", migration=True),
    Field("vxlanMode", "vxlan_mode", MODE, "Never", migration=True),
    Field("natOutgoing", "nat_outgoing", BOOL, False, migration=True),
    Field("disabled", "disabled", BOOL, False),
    Field("disableBGPExport", "disable_bgp_export", BOOL, False),
    Field("nodeSelector", "node_selector", SELECTOR, DEFAULT_NODE_SELECTOR, migration=True),
    Field("namespaceSelector", "namespace_selector", SELECTOR, "", always_written=False),
    Field("allowedUses", "allowed_uses", USES, DEFAULT_ALLOWED_USES, set_valued=True),
    Field("assignmentMode", "assignment_mode", ENUM, "Automatic"),
)
BY_NAME = {f.name: f for f in FIELDS}
# to_calico's order: the fields always written, then those written only when set.
_WRITE_ORDER = tuple(f for f in FIELDS if f.always_written) + tuple(
    f for f in FIELDS if not f.always_written)


@dataclass(frozen=True)
class PoolSpec:
    """An IPPoolSpec with Calico's defaults applied (the form Calico reads back).

    One attribute per ``FIELDS`` row, in the same order."""

    cidr: str
    block_size: int
    ipip_mode: str = "Never"
    vxlan_mode: str = "Never"
    nat_outgoing: bool = False
    disabled: bool = False
    disable_bgp_export: bool = False
    node_selector: str = DEFAULT_NODE_SELECTOR
    namespace_selector: str = ""
    allowed_uses: tuple[str, ...] = DEFAULT_ALLOWED_USES
    assignment_mode: str = "Automatic"

    def to_calico(self) -> dict:
        """The spec in Calico's JSON field names, every default written out."""
        spec = {}
        for field in _WRITE_ORDER:
            value = getattr(self, field.attr)
            if field.always_written or value:
                spec[field.name] = list(value) if isinstance(value, tuple) else value
        return spec
