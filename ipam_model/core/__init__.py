"""Plain data and tiny pure helpers: the nouns every layer shares.

Layer contract: imports nothing else from ipam_model; no I/O.
"""
