"""What Calico does: IPPool fields, defaults and validation, names, the pools
annotation, selectors, Go's math/rand and the IPAM allocation model.

Layer contract: pure; imports only ``core``.
"""
