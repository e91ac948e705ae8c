"""cli/options.py: where the live state comes from."""
from __future__ import annotations

import argparse
from dataclasses import replace

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
    # The same pools; only the cluster read listed Installations (none: 404), so
    # the file cannot tell whether the operator manages the unlabelled one.
    assert {n: replace(p, owner_certain=True) for n, p in from_file.pools.items()} == \
        dict(from_cluster.pools)
    assert from_cluster.installations == () and from_file.installations is None
    assert not from_file.pools["legacy-pool"].owner_certain
    with pytest.raises(UsageError, match="cannot be combined"):
        read_live(parser.parse_args(["--snapshot", "x.json", "--kubeconfig", str(kc)]))

