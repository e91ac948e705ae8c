"""The capacity forecast: the declared load run through the Calico IPAM model."""
