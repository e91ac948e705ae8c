"""Declared against live: the plan, its safety gates, migrations and drift.

Layer contract: pure; imports ``core``, ``calico`` and ``rules``.
"""
