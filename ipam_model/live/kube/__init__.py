"""Reading a cluster through the Kubernetes API (lightkube), read-only.

``config.py`` loads the kubeconfig (the file I/O) and its credential scrubber;
``kinds.py`` names the lists; ``failures.py`` decides, purely, what a failed
list means; ``reader.py`` is the paging and retry loop, the only network code.
lightkube and httpx2 are imported only once a cluster is read.
"""
