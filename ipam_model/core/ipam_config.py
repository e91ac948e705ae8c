"""The IPAMConfig spec as data: one table of Calico's IPAMConfigurationSpec fields.

``IPAM_CONFIG_FIELDS`` is the only list of the fields (libcalico-go
api/pkg/apis/projectcalico/v3/ipamconfig.go:61-101, the v1 storage type
libcalico-go/lib/apis/internalapi/ipam_config.go:55-84). Their defaults are
what Calico reads when a field is absent, and when no IPAMConfig exists at
all (libcalico-go/lib/ipam/ipam.go:2166-2186 ``GetIPAMConfig``: strictAffinity
false, autoAllocateBlocks true, maxBlocksPerHost 0, kubeVirtVMAddressPersistence
Enabled, ipCooldownSeconds 0). The limits are the projectcalico.org/v3 CRD's
(api/config/crd/projectcalico.org_ipamconfigurations.yaml:60-103); the
crd.projectcalico.org/v1 CRD allows maxBlocksPerHost up to 2^31-1, but a stack
may switch API versions, so the stricter v3 bound applies.

Calico stores one IPAMConfig, named ``default``
(libcalico-go/lib/clientv3/ipamconfig.go:29-52; the v1 backend client writes
only that name, lib/backend/k8s/resources/ipam_config_v1.go ``toCRD``). Its kind
is ``IPAMConfiguration`` in projectcalico.org/v3 and ``IPAMConfig`` in
crd.projectcalico.org/v1 (internalapi/ipam_config.go:22-27).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

IPAM_CONFIG_NAME = "default"
KIND_V3 = "IPAMConfiguration"
KIND_V1 = "IPAMConfig"
DEFAULT_MAX_BLOCKS_PER_HOST = 20  # maxBlocksPerHost 0 means 20 (ipam.go autoAssign)
VM_ADDRESS_PERSISTENCE = ("Enabled", "Disabled")

BOOL, COUNT, ENUM = "bool", "count", "enum"


@dataclass(frozen=True)
class ConfigField:
    """One IPAMConfigurationSpec field.

    ``default`` is what Calico uses when the field is absent. ``always_written``:
    rendered even at its default (the CRD requires strictAffinity and
    autoAllocateBlocks); the newer fields are written only when they differ
    from their default, so that a cluster whose CRD predates them never sees
    an unknown field. ``maximum``/``choices``: what the CRD accepts.
    """

    name: str
    attr: str
    kind: str
    default: Any
    always_written: bool = True
    maximum: int | None = None
    choices: tuple[str, ...] = ()


IPAM_CONFIG_FIELDS = (
    ConfigField("strictAffinity", "strict_affinity", BOOL, False),
    ConfigField("autoAllocateBlocks", "auto_allocate_blocks", BOOL, True),
    ConfigField("maxBlocksPerHost", "max_blocks_per_host", COUNT, 0, maximum=1_000_000),
    # Calico v3.31+; nil means Enabled (ipamconfig.go:80-90).
    ConfigField("kubeVirtVMAddressPersistence", "kubevirt_vm_address_persistence", ENUM,
                "Enabled", always_written=False, choices=VM_ADDRESS_PERSISTENCE),
    # Unreleased (libcalico-go HEAD, #12638); older CRDs prune it.
    ConfigField("ipCooldownSeconds", "ip_cooldown_seconds", COUNT, 0, always_written=False,
                maximum=1200),
)
CONFIG_FIELD = {f.name: f for f in IPAM_CONFIG_FIELDS}


@dataclass(frozen=True)
class IPAMConfig:
    """An IPAMConfigurationSpec with Calico's defaults applied. One attribute per
    ``IPAM_CONFIG_FIELDS`` row, in the same order; the default instance is what
    Calico uses when the cluster has no IPAMConfig."""

    strict_affinity: bool = False
    auto_allocate_blocks: bool = True
    max_blocks_per_host: int = 0
    kubevirt_vm_address_persistence: str = "Enabled"
    ip_cooldown_seconds: int = 0

    @property
    def effective_max_blocks_per_host(self) -> int:
        """The per-node block limit the allocator enforces (0 means 20)."""
        return self.max_blocks_per_host or DEFAULT_MAX_BLOCKS_PER_HOST

    def to_calico(self) -> dict:
        """The spec in Calico's field names: the required fields always, the newer
        ones only when they differ from their default."""
        out = {}
        for field in IPAM_CONFIG_FIELDS:
            value = getattr(self, field.attr)
            if field.always_written or value != field.default:
                out[field.name] = value
        return out

    def comparable(self) -> dict:
        """Every field with its default written out: how a plan compares two configs."""
        return {f.name: getattr(self, f.attr) for f in IPAM_CONFIG_FIELDS}

    def summary(self) -> str:
        """``strictAffinity false, autoAllocateBlocks true, maxBlocksPerHost 0 (20)``."""
        limit = (f"{self.max_blocks_per_host}" if self.max_blocks_per_host
                 else f"0 (Calico's default of {DEFAULT_MAX_BLOCKS_PER_HOST})")
        text = (f"strictAffinity {str(self.strict_affinity).lower()}, autoAllocateBlocks "
                f"{str(self.auto_allocate_blocks).lower()}, maxBlocksPerHost {limit}")
        if self.ip_cooldown_seconds:
            text += f", ipCooldownSeconds {self.ip_cooldown_seconds}"
        return text
