"""Rules that judge the declared side: every stack-level CIPnnn check and the runner.

Layer contract: pure; imports ``core`` and ``calico``.
"""
