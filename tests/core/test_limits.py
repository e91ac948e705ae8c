"""Every limit in one place (issue 9): the README's Limits table is generated
from ``ipam_model.core.limits.LIMITS``, so the documented value is the
enforced one; the loaders, the schema and the options read the same values."""
from __future__ import annotations

import re

from paths import ROOT
from readme_tables import limits_table

from ipam_model.core import limits
from ipam_model.data import load_json
from ipam_model.declared.schema import stack_schema


def _between(marker: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.search(rf"<!-- {marker}:start -->\n(.*?)\n<!-- {marker}:end -->", text, re.S).group(1)


def test_readme_limits_table_is_generated_from_the_limits():
    assert _between("limits-table") == limits_table(), (
        "README's Limits table is stale: run `python tests/readme_tables.py --write`")


def test_every_limit_is_listed_once_and_explained():
    declared = [v for v in vars(limits).values() if isinstance(v, limits.Limit)]
    assert sorted(map(id, declared)) == sorted(map(id, limits.LIMITS))
    assert all(limit.why and limit.value > 0 for limit in limits.LIMITS)


def test_the_schema_maxima_are_the_limits():
    cluster = stack_schema()["properties"]["cluster"]["properties"]
    group = cluster["nodeGroups"]["items"]["properties"]
    namespace = stack_schema()["$defs"]["namespace"]["properties"]
    assert group["count"]["maximum"] == limits.MAX_NODES.value
    assert group["maxPods"]["maximum"] == limits.MAX_PODS_PER_NODE.value
    assert namespace["expectedPods"]["maximum"] == limits.MAX_PODS.value
    ipam = stack_schema()["properties"]["ipamConfig"]["properties"]
    assert ipam["maxBlocksPerHost"]["maximum"] == limits.MAX_BLOCKS_PER_HOST.value
    assert cluster["headroomPercent"]["maximum"] == limits.MAX_HEADROOM_PERCENT.value


def test_the_scenario_schema_maxima_are_the_pod_limit():
    """simulate --scenario bounds its pods by the same limit as simulate --pods."""
    pods = load_json("scenario.schema.json")["properties"]["pods"]
    assert pods["maxItems"] == limits.MAX_PODS.value
    assert pods["items"]["else"]["properties"]["count"]["maximum"] == limits.MAX_PODS.value
