"""``calico-ipam snapshot`` against a fake Kubernetes API (tests/fake_kube_api.py)."""
from __future__ import annotations

import json

import pytest
from fake_kube_api import (
    PATHS,
    reader,
    write_kubeconfig,
)

from ipam_model import cli
from ipam_model.core.model import API_CRD_V1
from ipam_model.live.snapshot_file import load_snapshot


def run_cli(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_snapshot_command_round_trips(api, tmp_path, capsys):
    kc = write_kubeconfig(tmp_path, api.url)
    out_file = tmp_path / "snap.json"
    code, out, err = run_cli(["snapshot", "--kubeconfig", str(kc), "--output", str(out_file)],
                             capsys)
    assert code == 0, err
    assert "4 IP pools (3 in use), 4 IPAM blocks" in err  # legacy-pool's block is empty
    doc = json.loads(out_file.read_text())
    assert doc["kind"] == "CalicoIpamSnapshot" and doc["version"] == 1
    assert doc["calicoApi"] == API_CRD_V1
    assert all("managedFields" not in o["metadata"] for o in doc["items"])
    assert all("status" not in o for o in doc["items"] if o["kind"] == "Node")
    live = reader(kc).read()
    snap = load_snapshot(str(out_file))
    for attr in ("calico_api", "pools", "namespaces", "nodes", "blocks", "affinities",
                 "ipam_config", "usage"):
        assert getattr(snap, attr) == getattr(live, attr), attr
    # default output: standard output
    code, out, err = run_cli(["snapshot", "--kubeconfig", str(kc)], capsys)
    assert code == 0 and json.loads(out)["items"] == doc["items"]


@pytest.mark.parametrize("fault", [403, 404, 410, 500, "timeout", "truncate"])
def test_snapshot_command_failures_exit_1_and_write_nothing(api, tmp_path, capsys, fault):
    path = PATHS["IPAMBlock"]
    if fault == 404:
        del api.objects[path]
    else:
        api.always[path] = fault
    api.delay = 0.3
    kc = write_kubeconfig(tmp_path, api.url)
    out_file = tmp_path / "snap.json"
    code, out, err = run_cli(["snapshot", "--kubeconfig", str(kc), "-o", str(out_file),
                              "--request-timeout", "0.1"], capsys)
    assert code == 1
    assert out == ""
    assert err.startswith("calico-ipam snapshot: error: ") and err.count("\n") == 1
    assert "Traceback" not in err
    assert not out_file.exists() and not list(tmp_path.glob(".snapshot-*"))

