"""Which IP pools the Tigera operator manages, from the operator's own markers.

The operator's IP pool controller (tigera/operator
pkg/controller/ippool/pool_controller.go) reconciles the pools of the
``Installation`` named ``default`` (``utils.DefaultInstanceKey``,
pkg/controller/utils/utils.go:73), ``spec.calicoNetwork.ipPools``:

* every pool it creates or updates carries the label
  ``app.kubernetes.io/managed-by: tigera-operator`` (pool_controller.go:133-145,
  299); such a pool is "solely managed and reconciled by this controller";
* a pool without that label is taken over when it equals a pool of the
  Installation (same name and settings, CIDRs compared in canonical form,
  pool_controller.go:242-283); a pool with an Installation pool's CIDR that
  does not equal it makes the operator refuse to touch that CIDR
  ("Cannot update an IP pool not owned by the operator", :301-306). Either
  way the Installation declares the CIDR: it is the operator's, not ours;
* it sets no ownerReference on pools (:378-381); an owner reference to an
  ``operator.tigera.io`` object is still a marker that the operator's
  objects own the pool.

The pool name says nothing: calico-node creates ``default-ipv4-ippool`` on
manifest installs (calico.yaml, kubespray) where no operator runs, and the
operator names pools after their CIDR or as the Installation says.
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from ..core.cidr import parse_cidr
from ..core.live_state import OperatorInstallation

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
OPERATOR_MANAGED_BY = "tigera-operator"
OPERATOR_GROUP = "operator.tigera.io"
INSTALLATION_KIND = "Installation"
INSTALLATION_NAME = "default"  # the only Installation the operator reads
# How a user checks by hand which CIDRs the operator manages.
CHECK_COMMAND = ("kubectl get installations.operator.tigera.io default "
                 "-o jsonpath='{.spec.calicoNetwork.ipPools[*].cidr}'")


def marker(labels: Mapping[str, str], owners: Sequence[Mapping]) -> str | None:
    """Why the operator manages a pool, from the pool's own metadata, or None."""
    if labels.get(MANAGED_BY_LABEL) == OPERATOR_MANAGED_BY:
        return f"label {MANAGED_BY_LABEL}: {OPERATOR_MANAGED_BY}"
    for ref in owners:
        if isinstance(ref, dict) and str(ref.get("apiVersion", "")).startswith(OPERATOR_GROUP + "/"):
            return (f"owner reference to {ref.get('kind') or 'an object'} "
                    f"{ref.get('name') or ''}".rstrip() + f" ({ref.get('apiVersion')})")
    return None


def canonical(cidr: str) -> str:
    """normalizeCIDR (pkg/controller/ippool/defaults.go:75): the canonical text, or the
    text unchanged when it does not parse."""
    parsed = parse_cidr(cidr)
    return parsed.text if parsed is not None else cidr


def installation_claim(cidr: str, installations: Iterable[OperatorInstallation]) -> str | None:
    """Why the operator claims a pool of *cidr* without its label: the default
    Installation lists that CIDR. None when it does not."""
    for inst in installations:
        if inst.name != INSTALLATION_NAME:
            continue
        for name, listed in inst.pools:
            if canonical(listed) == cidr:
                return (f"the Installation {inst.name} lists {cidr} under "
                        f"spec.calicoNetwork.ipPools" + (f" (as {name})" if name else ""))
    return None
