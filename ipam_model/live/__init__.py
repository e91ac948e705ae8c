"""The live side: snapshot files and the Kubernetes API to ``LiveState``.

Every source implements ``source.LiveSource`` (``read() -> LiveState``):
``snapshot_file.SnapshotFiles`` and ``kube.reader.KubeReader``; streaming
sources feed a ``source.Sink``. Importing the protocols never loads the
Kubernetes client.

Layer contract: imports ``core`` and ``calico``; normalising is pure, I/O only in
``snapshot_file.py`` and ``kube/``.
"""
