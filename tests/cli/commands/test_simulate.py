"""``calico-ipam simulate``: JSON and table output, exit codes, usage errors."""
import json

import pytest


def run_command(argv):
    """The simulate command alone (other commands' modules play no part)."""
    import argparse

    from ipam_model.cli.commands import simulate as command
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return command.run(parser.parse_args(argv))


def test_cli_dev_example(capsys):
    pytest.importorskip("ipam_model.calico")
    rc = run_command([ "--stack", "dev", "--stacks", "stacks", "--node", "node1",
               "--pods", "external-ns=3", "--pods", "internal-ns=3", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    pods = {(p["namespace"], p["ip"], p["block"]) for p in out["pods"]}
    assert pods == {("external-ns", "172.16.0.33", "172.16.0.32/29"),
                    ("external-ns", "172.16.0.34", "172.16.0.32/29"),
                    ("external-ns", "172.16.0.35", "172.16.0.32/29"),
                    ("internal-ns", "192.169.0.208", "192.169.0.208/29"),
                    ("internal-ns", "192.169.0.209", "192.169.0.208/29"),
                    ("internal-ns", "192.169.0.210", "192.169.0.208/29")}
    assert set(out["pods"][0]) == {"namespace", "pod", "node", "ip", "pool", "block"}
    assert out["tunnels"][0]["ip"] == "172.16.0.32"
    assert {b["cidr"]: b["allocated"] for b in out["blocks"]} == {
        "172.16.0.32/29": 4, "192.169.0.208/29": 3}


def test_cli_failures_exit_1_and_bad_pods_flag(capsys):
    pytest.importorskip("ipam_model.calico")
    from ipam_model.core.errors import UsageError
    rc = run_command(["--stack", "dev", "--node", "node1", "--pods", "external-ns=70",
                      "--strict-affinity"])
    out = capsys.readouterr().out
    assert rc == 1 and "No more free affine blocks and strict affinity enabled" in out
    assert "pod external-ns/external-ns-63 on node node1" in out
    with pytest.raises(UsageError, match="NAMESPACE=COUNT"):
        run_command(["--stack", "dev", "--pods", "web"])
    with pytest.raises(UsageError, match="no stack 'nope'"):
        run_command(["--stack", "nope"])


def test_cli_text_output_tables(capsys):
    pytest.importorskip("ipam_model.calico")
    assert run_command(["--stack", "dev", "--node", "node1", "--pods", "external-ns=1"]) == 0
    out = capsys.readouterr().out
    assert "NAME            NAMESPACE     IP            NODE    POOL            BLOCK" in out
    rows = [[c.strip() for c in line.strip("|").split("|")]
            for line in out.splitlines() if line.startswith("| ")]
    assert rows[0] == ["GROUPING", "CIDR", "IPS TOTAL", "IPS IN USE", "IPS FREE", "AFFINITY"]
    assert ["IP Pool", "172.16.0.0/26", "64", "2 (3%)", "62 (97%)", ""] in rows
    assert ["Block", "172.16.0.32/29", "8", "2 (25%)", "6 (75%)", "host:node1"] in rows


@pytest.mark.parametrize("name", ["", "  "])
def test_cli_empty_node_name_is_a_usage_error(name):
    # An empty --node once simulated a node called "" whose blocks showed
    # affinity "none", as if nobody owned them.
    from ipam_model.core.errors import UsageError
    with pytest.raises(UsageError, match="--node"):
        run_command(["--stack", "dev", "--stacks", "stacks", "--node", name])


def test_cli_pods_of_an_undeclared_namespace_are_flagged(capsys):
    # A typo (paymnts=2) silently simulated pods on the Automatic pools instead
    # of the namespace's bound pools; the run must say so.
    rc = run_command(["--stack", "prod", "--stacks", "stacks", "--nodes", "2",
                      "--pods", "paymnts=2", "--pods", "payments=1", "--format", "json"])
    captured = capsys.readouterr()
    assert rc == 0 and json.loads(captured.out)["pods"]
    assert "paymnts" in captured.err and "not declared in stack prod" in captured.err
    assert "payments " not in captured.err and "'payments'" not in captured.err


def _scenario(tmp_path, text):
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return str(path)


def test_scenario_pod_annotations_ip_addrs_and_release(tmp_path, capsys):
    """The dev example with pod-level annotations: a pod's ipv4pools overrides
    its namespace's (cni-plugin pkg/k8s/k8s.go:219-231), ipAddrs takes the
    address asked for (AssignIP), and a released pod's address goes to the
    back of its block's queue."""
    path = _scenario(tmp_path, """\
nodes: [{name: node1}]
pods:
  - {namespace: external-ns, count: 2}
  - namespace: external-ns
    name: moved
    annotations: {cni.projectcalico.org/ipv4pools: '["internal-pool"]'}
  - namespace: internal-ns
    name: fixed
    annotations: {cni.projectcalico.org/ipAddrs: '["192.169.0.77"]'}
  - {release: external-ns/external-ns-0}
  - {namespace: external-ns}
""")
    rc = run_command(["--stack", "dev", "--stacks", "stacks", "--scenario", path,
                      "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    got = {p["pod"]: (p["pool"], p["ip"]) for p in out["pods"]}
    assert got == {"external-ns-1": ("external-pool", "172.16.0.34"),
                   "moved": ("internal-pool", "192.169.0.208"),
                   "fixed": ("internal-pool", "192.169.0.77"),
                   # .33 (freed) went to the back of the queue: the next is .35
                   "external-ns-2": ("external-pool", "172.16.0.35")}


def test_scenario_cni_config_asking_for_ipv6_without_an_ipv6_pool(tmp_path, capsys):
    """A CNI config with assign_ipv6 "true" on an IPv4-only stack: every pod's
    IPv6 request fails ("cannot find a qualified ippool") and its IPv4 address
    is released with it: the pod holds nothing."""
    path = _scenario(tmp_path, 'cni: {assign_ipv6: "true"}\npods: [{namespace: external-ns}]\n')
    rc = run_command(["--stack", "dev", "--stacks", "stacks", "--node", "node1",
                      "--scenario", path, "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 1 and out["pods"] == []
    assert [f["message"] for f in out["failures"]] == ["cannot find a qualified ippool"]
    assert {b["cidr"]: b["allocated"] for b in out["blocks"]}["172.16.0.32/29"] == 1  # tunnel


def test_scenario_and_flags_for_the_same_thing_are_a_usage_error(tmp_path):
    from ipam_model.core.errors import UsageError
    path = _scenario(tmp_path, "nodes: [{name: a}]\npods: [{namespace: external-ns}]\n")
    with pytest.raises(UsageError, match="--pods and the pods of"):
        run_command(["--stack", "dev", "--stacks", "stacks", "--scenario", path,
                     "--pods", "external-ns=1"])
    with pytest.raises(UsageError, match="--node/--nodes and the nodes of"):
        run_command(["--stack", "dev", "--stacks", "stacks", "--scenario", path,
                     "--node", "b"])
@pytest.mark.parametrize("argv,words", [
    (["--pods", "external-ns=²"], "--pods 'external-ns=²': not a whole number"),
    (["--pods", "external-ns=99999999999"], "must be between 0 and 1,000,000"),
    (["--pods", "external-ns=600000", "--pods", "internal-ns=600000"],
     "1,200,000 pods in all, more than 1,000,000 pods"),
    (["--nodes", "1000000000"], "argument --nodes: must be between 1 and 100,000"),
    (["--nodes", "٣"], "argument --nodes: not a whole number"),
    (["--nodes", "0"], "argument --nodes: must be between 1 and 100,000"),
])
def test_counts_are_bounded_usage_errors(capsys, argv, words):
    """Issue 9: a count no memory holds, or digits of another script, is one
    usage line (exit 2), never a crash or an hour of simulation."""
    from ipam_model import cli
    try:
        code = cli.main(["simulate", "--stack", "dev", "--stacks", "stacks", *argv])
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and words in err and err.count("\n") == 1, err


def _snapshot(tmp_path, spec):
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "projectcalico.org/v3", "kind": "IPAMConfiguration",
         "metadata": {"name": "default"}, "spec": spec},
        {"apiVersion": "projectcalico.org/v3", "kind": "IPReservation",
         "metadata": {"name": "gw"}, "spec": {"reservedCIDRs": ["172.16.0.32/29"]}}]}))
    return str(path)


def test_simulate_uses_the_live_ipamconfig_and_says_so(tmp_path, capsys):
    """Issue 10: simulate read no cluster and forecast one that does not exist. With
    --snapshot it uses the live IPAMConfig (the stack declares none) and the live
    reservations: with maxBlocksPerHost 1 a node gets one /29 block, so of 10 pods 7 get
    an address (8 minus the tunnel address) and the 8th fails with Calico's block-limit
    message (libcalico-go lib/ipam/ipam.go:777-796); the reserved block 172.16.0.32/29 is
    never claimed."""
    snapshot = _snapshot(tmp_path, {"strictAffinity": True, "maxBlocksPerHost": 1,
                                    "autoAllocateBlocks": True})
    rc = run_command(["--stack", "dev", "--node", "node1", "--pods", "external-ns=10",
                      "--snapshot", snapshot, "--format", "json"])
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert rc == 1
    assert len(out["pods"]) == 7
    assert all(not p["block"].startswith("172.16.0.32/") for p in out["pods"])
    assert "the live IPAMConfig of snapshot cluster.json" in captured.err
    assert "strictAffinity true, autoAllocateBlocks true, maxBlocksPerHost 1" in captured.err


def test_simulate_without_a_cluster_says_it_assumed_calicos_defaults(capsys):
    assert run_command(["--stack", "dev", "--node", "node1", "--pods", "external-ns=1"]) == 0
    err = capsys.readouterr().err
    assert "Calico's default IPAMConfig (the stack declares no calico-ipam:ipamConfig)" in err


def test_scenario_release_of_a_pod_that_holds_nothing_is_noted(tmp_path, capsys):
    """CNI DEL of an unknown pod is a no-op in Calico; a scenario naming one is
    most likely a typo, so it is said (and the run goes on)."""
    path = _scenario(tmp_path, "nodes: [{name: node1}]\npods:\n  - {namespace: external-ns}\n"
                               "  - {release: external-ns/external-ns-7}\n")
    rc = run_command(["--stack", "dev", "--stacks", "stacks", "--scenario", path,
                      "--format", "json"])
    captured = capsys.readouterr()
    assert rc == 0 and len(json.loads(captured.out)["pods"]) == 1
    assert "release external-ns/external-ns-7: no such pod" in captured.err


def _used_per_pool(out) -> dict[str, int]:
    used: dict[str, int] = {}
    for b in out["blocks"]:
        used[b["pool"]] = used.get(b["pool"], 0) + b["allocated"]
    return used


@pytest.mark.parametrize("stacks,stack", [("stacks", "dev"), ("stacks", "staging"),
                                          ("stacks", "prod"),
                                          ("tests/data/forecast_stacks", "dev"),
                                          ("tests/data/forecast_stacks", "staging"),
                                          ("tests/data/forecast_stacks", "prod")])
def test_simulate_places_the_declared_load_as_the_check_forecast_does(stacks, stack, capsys):
    """simulate and check's forecast (rules/forecast/load.py Load.place, its own
    round-robin) put the declared pods on the same nodes: every pool's addresses
    in use agree, and no node runs more pods than its node group's maxPods. The
    prod stack's gpu nodes (maxPods 32) once got 57 pods each from simulate, which
    then reported 2,244 addresses in prod-default-v4 where check said 2,344."""
    from ipam_model.declared.files import find_stack_file, load_stack
    from ipam_model.rules.forecast import forecast
    run_command(["--stack", stack, "--stacks", stacks, "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    declared = load_stack(find_stack_file(stacks, stack), stack)
    expected = {p.pool: p.addresses_in_use for p in forecast(declared).pools}
    assert {pool: _used_per_pool(out).get(pool, 0) for pool in expected} == expected
    max_pods = {f"{g.name}-{i}": g.max_pods for g in declared.cluster.node_groups
                for i in range(g.count)}
    per_node: dict[str, set] = {}
    for p in out["pods"]:
        per_node.setdefault(p["node"], set()).add((p["namespace"], p["pod"]))
    assert all(len(pods) <= max_pods[node] for node, pods in per_node.items())


def test_simulate_counts_the_pods_no_node_has_room_for(capsys):
    """Two general-a nodes of prod (maxPods 110 each) take 220 of the 300 pods (the
    web pods come first); the kubelet refuses the other 80, so they are said on
    stderr, not simulated."""
    rc = run_command(["--stack", "prod", "--stacks", "stacks", "--nodes", "2",
                      "--pods", "web=250", "--pods", "batch=50", "--format", "json"])
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert rc == 0 and len({p["pod"] for p in out["pods"]}) == 220
    assert "warning: 80 pods not placed (50 of batch, 30 of web)" in captured.err
    assert "every node already runs its node group's maxPods (2 nodes, 220 pods in all)" \
        in captured.err


def test_simulate_a_released_pod_frees_its_node(tmp_path, capsys):
    """A node at maxPods takes a pod again once one of its pods is deleted."""
    path = _scenario(tmp_path, """\
nodes: [{name: gpu-0}]
pods:
  - {namespace: web, count: 33}
  - {release: web/web-0}
  - {namespace: web, count: 2}
""")
    rc = run_command(["--stack", "prod", "--stacks", "stacks", "--scenario", path,
                      "--format", "json"])
    captured = capsys.readouterr()
    pods = {p["pod"] for p in json.loads(captured.out)["pods"]}
    assert rc == 0 and len(pods) == 32 and "web-0" not in pods and "web-33" in pods
    assert "web-34" not in pods
    assert "2 pods not placed (2 of web)" in captured.err
