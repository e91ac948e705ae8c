"""A stack file from what exists: a cluster, a snapshot or IPPool manifests.

Layer contract: imports ``core``, ``calico``, ``declared`` and ``live``; file
I/O only in ``files.py``.
"""
