"""CIP507-CIP509 from the forecast: what fires, what a static rule already explains."""
from forecast_helpers import make_stack, rules_of

from ipam_model.rules.forecast import forecast, forecast_findings


def test_borrowing_predicted_when_nodes_need_more_blocks_than_exist():
    # 5 nodes <= 8 blocks (no static CIP502), but 10 pods a node need 2 /29s each:
    # 5 first blocks + 3 second ones, the last 2 nodes borrow 2 addresses each.
    stack = make_stack(nodes=5, expected=50)
    f = forecast(stack)
    assert f.pools[0].blocks_claimed == 8 and f.pools[0].borrowed_addresses == 4
    assert f.groups[0].borrowing_nodes == 2
    (finding,) = rules_of(forecast_findings(stack), "CIP509")
    assert finding.subject == "pool/pool-a" and "4 addresses are borrowed" in finding.message


def test_strict_affinity_predicts_failures():
    stack = make_stack(nodes=5, expected=50, strict=True)
    ns = forecast(stack).namespaces[0]
    assert (ns.allocated, ns.failed) == (46, 4)
    (finding,) = rules_of(forecast_findings(stack), "CIP508")
    assert "4 of 50 expected pods of namespace app" in finding.message
    assert "strict affinity enabled" in finding.message


def test_no_duplicate_of_static_blocks_fewer_than_nodes():
    # 10 nodes, 8 blocks: capacity.py's CIP502 explains it; the forecast stays quiet.
    stack = make_stack(nodes=10, expected=10)
    assert forecast(stack).pools[0].borrowed_addresses == 2
    findings = forecast_findings(stack)
    assert not rules_of(findings, "CIP509") and not rules_of(findings, "CIP508")


def test_forecast_findings_leave_the_garbage_collector_as_they_found_it():
    import gc

    stack = make_stack(nodes=20, expected=400)
    assert gc.isenabled()
    first = forecast_findings(stack, fast=False)
    assert gc.isenabled()
    gc.disable()
    try:
        assert forecast_findings(stack, fast=False) == first
        assert not gc.isenabled()
    finally:
        gc.enable()
