"""The lists the Kubernetes reader makes, in the order it makes them.

Plain data: the API group, version and plural of each kind, which is what the
request path, the RBAC manifest (deploy/rbac-readonly.yaml) and every error
message name.
"""
from __future__ import annotations

from dataclasses import dataclass

CALICO_CRD_GROUP = "crd.projectcalico.org"


@dataclass(frozen=True)
class Kind:
    """One list the reader makes: what RBAC and the error messages name."""

    kind: str
    group: str
    version: str
    plural: str
    # An optional kind's absence (not served, not permitted) is an answer,
    # not a failure: the Tigera operator's Installation exists only where the
    # operator runs.
    optional: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


POOLS_V3 = Kind("IPPool", "projectcalico.org", "v3", "ippools")
POOLS_V1 = Kind("IPPool", CALICO_CRD_GROUP, "v1", "ippools")
# Which pools the operator manages (calico.operator): tigera/operator
# api/v1/installation_types.go, the cluster-scoped singleton "default".
INSTALLATIONS = Kind("Installation", "operator.tigera.io", "v1", "installations",
                     optional=True)
# After the pools, smallest lists first: a permission problem shows up before
# the 100,000 blocks were fetched.
OTHER_KINDS = (
    INSTALLATIONS,
    Kind("IPAMConfig", CALICO_CRD_GROUP, "v1", "ipamconfigs"),
    Kind("Namespace", "", "v1", "namespaces"),
    Kind("Node", "", "v1", "nodes"),
    Kind("IPReservation", CALICO_CRD_GROUP, "v1", "ipreservations"),
    Kind("BlockAffinity", CALICO_CRD_GROUP, "v1", "blockaffinities"),
    Kind("IPAMBlock", CALICO_CRD_GROUP, "v1", "ipamblocks"),
)
ALL_KINDS = (POOLS_V3, POOLS_V1) + OTHER_KINDS
