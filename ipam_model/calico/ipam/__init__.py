"""Calico's IPAM AutoAssign model: which block, which address, when it fails.

Layer contract: pure; imports only ``core`` and ``calico``.
"""
