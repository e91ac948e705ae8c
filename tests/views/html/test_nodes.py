"""Node groups of nodes: simulate's ``<group>-<i>`` names first, then labels."""
from __future__ import annotations

from ipam_model.core.model import NodeGroup, frozen_map
from ipam_model.views.html.nodes import NodeGroups

GROUPS = NodeGroups([NodeGroup("web", 3, frozen_map({"pool": "web"})),
                     NodeGroup("web-1", 2),
                     NodeGroup("gpu", 1, frozen_map({"pool": "gpu", "gpu": "yes"})),
                     NodeGroup("gpu-lite", 1, frozen_map({"pool": "gpu"}))])


def test_simulated_names_find_their_group_the_longest_name_first():
    assert GROUPS.group_of("web-0") == "web"
    assert GROUPS.group_of("web-17") == "web"     # --nodes extends the last group
    assert GROUPS.group_of("web-1-0") == "web-1"
    assert GROUPS.group_of("web-x") is None


def test_live_nodes_are_matched_by_every_label_of_a_group_most_specific_first():
    assert GROUPS.group_of("ip-10-0-0-1", {"pool": "web", "zone": "a"}) == "web"
    assert GROUPS.group_of("ip-10-0-0-2", {"pool": "gpu", "gpu": "yes"}) == "gpu"
    assert GROUPS.group_of("ip-10-0-0-3", {"pool": "gpu"}) == "gpu-lite"
    assert GROUPS.group_of("ip-10-0-0-4", {"pool": "db"}) is None
    assert GROUPS.group_of("ip-10-0-0-5") is None
