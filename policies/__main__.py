"""The calico-ipam policy pack: ``pulumi preview --policy-pack policies``.

Only this file builds the PolicyPack, because constructing one starts the
analyzer's gRPC server and blocks until Pulumi stops it. The policies live
in ``rules.py`` (importable, testable without a server).
"""
from pulumi_policy import EnforcementLevel, PolicyPack

from rules import PACK_NAME, all_policies

PolicyPack(
    name=PACK_NAME,
    # Each policy sets its own level: errors mandatory, warnings advisory.
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=all_policies(),
)
