"""Which declared objects ``pulumi up`` must adopt because they exist already.

Since pulumi-kubernetes 4.29.0 creating an object that already exists fails
with AlreadyExists instead of silently updating it (pulumi-kubernetes
CHANGELOG.md, 4.29.0, #2926, #4278; provider/pkg/await/await.go:190-250 creates
client-side unless ``upsertExistingObjects``, and 273-290 words the error).
The Pulumi program therefore gives every declared object that exists in the
cluster Pulumi's ``import`` resource option, with the object's name as the
ID of a cluster-scoped custom resource. Pulumi imports such a resource once
and then, finding it in its state under the same ID, treats it like any
other (pulumi/pulumi developer-docs/architecture/import.md, "import resource
option", case 2); since Pulumi 3.174.0 an import whose inputs differ from the
live object is followed by an update in the same run (pulumi/pulumi#19339),
which is how an adopted pool gets its ownership labels.

The addresses come from the same live read as the safety gates, so an
object is only ever adopted by a run whose gates passed.
"""
from __future__ import annotations

from ..core.live_state import LiveState
from ..core.model import Stack
from .ipam_config import ADDRESS as IPAM_CONFIG_ADDRESS
from .model import KIND_RESERVATION


def existing_objects(stack: Stack, live: LiveState) -> frozenset[str]:
    """Addresses (``ippool/<name>``, ``ipamconfig/default``, ``ipreservation/<name>``)
    of the objects the stack declares that exist in *live*."""
    found = {f"ippool/{name}" for name in stack.pools if name in live.pools}
    if stack.ipam_config is not None and live.ipam_config_object is not None:
        found.add(IPAM_CONFIG_ADDRESS)
    found |= {f"{KIND_RESERVATION}/{name}" for name in stack.reservations
              if name in live.reservations}
    return frozenset(found)
