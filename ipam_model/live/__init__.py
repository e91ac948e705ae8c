"""The live side: snapshot files and the Kubernetes API to ``LiveState``.

Layer contract: imports ``core`` and ``calico``; normalising is pure, I/O only in
``snapshot_file.py`` and ``kube/``.
"""
