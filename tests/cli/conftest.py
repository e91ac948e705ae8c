"""The fake Kubernetes API's fixtures (tests/fake_kube_api.py) for the tests here:
``api`` serves the test cluster, and no back-off of a reader the CLI builds
waits for real."""
from fake_kube_api import api, no_real_backoff  # noqa: F401  (pytest fixtures)
