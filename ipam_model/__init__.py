"""calico-ipam planning core."""
