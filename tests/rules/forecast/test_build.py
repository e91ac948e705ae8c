"""The forecast as a whole: its numbers, as text and as JSON."""
import dataclasses

from forecast_helpers import make_stack

from ipam_model.rules.forecast import forecast
from ipam_model.views.forecast import format_forecast


def test_text_and_json_outputs():
    f = forecast(make_stack(nodes=5, expected=50))
    text = format_forecast(f)
    assert "pool pool-a (172.16.0.0/26, /29): 8/8 blocks claimed" in text
    assert "namespace app: 50/50 pods get addresses, 4 borrowed" in text
    data = f.to_dict()
    assert data["pools"][0]["borrowed_addresses"] == 4
    assert data["namespaces"][0]["more_pods_until_failure"] == 14  # 64 - 50


def test_without_node_groups_only_the_group_searches_are_left_out():
    stack = make_stack(nodes=5, expected=50, ipip="Always")
    full, quick = forecast(stack), forecast(stack, node_groups=False)
    assert full.groups and quick.groups == ()
    assert dataclasses.replace(full, groups=()) == quick
