"""cli/options.py: where the live state comes from."""
from __future__ import annotations

import argparse

import pytest
from fake_kube_api import DATA, write_kubeconfig

from ipam_model.cli.options import add_live_arguments, read_live
from ipam_model.core.errors import UsageError


def test_read_live_takes_a_snapshot_or_the_cluster(api, tmp_path):
    parser = argparse.ArgumentParser()
    add_live_arguments(parser)
    kc = write_kubeconfig(tmp_path, api.url)
    from_cluster = read_live(parser.parse_args(["--kubeconfig", str(kc), "--context", "lab"]))
    assert from_cluster.source.startswith("cluster 127.0.0.1:")
    from_file = read_live(parser.parse_args(["--snapshot", str(DATA / "cluster-v1.yaml")]))
    assert dict(from_file.pools) == dict(from_cluster.pools)
    with pytest.raises(UsageError, match="cannot be combined"):
        read_live(parser.parse_args(["--snapshot", "x.json", "--kubeconfig", str(kc)]))

