"""The declared side: stack files (YAML, schema) to ``Stack``.

Layer contract: imports ``core`` and ``calico``; file I/O only in ``files.py``
and ``yaml.py``.
"""
