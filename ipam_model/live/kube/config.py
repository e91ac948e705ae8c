"""The cluster to read: kubeconfig (or in-cluster) loading and the credential scrubber.

This is the file I/O of the Kubernetes reader: it reads the kubeconfig, and
the token files it names, once, before any request. Every string in it that
could be a credential (token, password, client key or certificate, exec
plugin environment, auth-provider config) goes into a ``Scrubber``, which the
reader applies to any exception text before it reaches a message.
"""
from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml

from ...core.errors import ClusterError, InputError, UsageError

SECRET_KEYS = ("token", "password", "client-key-data", "client-certificate-data",
               "id-token", "refresh-token", "access-token", "client-secret")
REDACTED = "<redacted>"
SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"


def _secret_strings(value: Any, out: set[str]) -> None:
    """Every credential-looking value below a kubeconfig ``users`` entry."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in SECRET_KEYS and isinstance(item, str):
                out.add(item)
                if key.endswith("-data"):
                    try:  # the decoded PEM lines are secret too
                        text = base64.b64decode(item, validate=False).decode("utf-8", "replace")
                    except ValueError:
                        text = ""
                    out.update(line for line in text.splitlines() if len(line) >= 16)
            elif key in ("env",) and isinstance(item, list):
                for env in item:
                    if isinstance(env, dict) and isinstance(env.get("value"), str):
                        out.add(env["value"])
            elif key == "config" and isinstance(item, dict):  # auth-provider config
                out.update(v for v in item.values() if isinstance(v, str))
            elif key == "tokenFile" or key == "token-file":
                try:
                    with open(item, encoding="utf-8") as fh:
                        out.add(fh.read().strip())
                except (OSError, TypeError):
                    pass
            else:
                _secret_strings(item, out)
    elif isinstance(value, list):
        for item in value:
            _secret_strings(item, out)


class Scrubber:
    """Replaces known secrets (and URL user-info) in text shown to the user."""

    def __init__(self, secrets: set[str] = frozenset()):
        # Longest first, so a secret containing another is replaced whole.
        self._secrets = sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    @classmethod
    def from_kubeconfig(cls, path: str | None) -> "Scrubber":
        secrets: set[str] = set()
        if path:
            try:
                with open(path, encoding="utf-8") as fh:
                    doc = yaml.safe_load(fh)
            except (OSError, yaml.YAMLError, UnicodeDecodeError):
                doc = None
            if isinstance(doc, dict):
                _secret_strings(doc.get("users"), secrets)
        if os.path.exists(SERVICE_ACCOUNT_TOKEN):
            _secret_strings({"tokenFile": SERVICE_ACCOUNT_TOKEN}, secrets)
        return cls(secrets)


@dataclass(frozen=True)
class ClusterConfig:
    """A loaded cluster configuration: everything the reader needs before a request.

    ``config`` is lightkube's ``SingleConfig``; ``where`` names it in messages
    ("context lab", "in-cluster service account" or the kubeconfig path);
    ``scrub`` removes its credentials from any text shown to the user.
    """

    config: Any
    where: str
    scrub: Scrubber

    @property
    def server(self) -> str:
        """host[:port] of the API server, for messages ("?" when unknown)."""
        try:
            parts = urlsplit(self.config.cluster.server)
            host = parts.hostname or "?"
            return f"{host}:{parts.port}" if parts.port else host
        except (AttributeError, ValueError):
            return "?"

    @property
    def source(self) -> str:
        """The ``LiveState.source`` of a read: which cluster, through which context."""
        return f"cluster {self.server} ({self.where})"


def default_kubeconfig() -> str:
    """The first file of $KUBECONFIG, else ~/.kube/config (kubectl's order)."""
    env = os.environ.get("KUBECONFIG")
    if env:
        return env.split(os.pathsep)[0]
    return os.path.expanduser("~/.kube/config")


def load_cluster_config(kubeconfig: str | None, context: str | None) -> ClusterConfig:
    """The cluster that *kubeconfig* and *context* name.

    In-cluster (the pod's service account) when neither is given, $KUBECONFIG
    is unset and the process runs in a pod; otherwise the kubeconfig file.
    Errors are raised outside the ``except`` blocks on purpose: lightkube's
    exception (a YAML error can quote a kubeconfig line) must not stay attached
    as ``__context__``.
    """
    in_cluster = (kubeconfig is None and context is None and "KUBECONFIG" not in os.environ
                  and os.environ.get("KUBERNETES_SERVICE_HOST"))
    if in_cluster:
        return _in_cluster_config()
    return _kubeconfig_file_config(kubeconfig or default_kubeconfig(), context)


def _in_cluster_config() -> ClusterConfig:
    from lightkube import (
        KubeConfig,  # optional heavy dependency, loaded when a cluster is read
    )

    scrub = Scrubber.from_kubeconfig(None)
    problem = None
    try:
        config = KubeConfig.from_service_account().get()
    except Exception as exc:
        problem = scrub(str(exc))
    if problem is not None:
        raise ClusterError(f"in-cluster configuration failed: {problem}")
    return ClusterConfig(config, "in-cluster service account", scrub)


def _kubeconfig_file_config(path: str, context: str | None) -> ClusterConfig:
    from lightkube import (
        KubeConfig,  # optional heavy dependency, loaded when a cluster is read
    )

    scrub = Scrubber.from_kubeconfig(path)
    if not os.path.isfile(path):
        raise InputError("kubeconfig not found (pass --kubeconfig PATH or set KUBECONFIG)", file=path)
    problem = None
    try:  # lightkube raises YAML, key and type errors for broken files
        kc = KubeConfig.from_file(path)
    except Exception as exc:
        problem = _first_line(exc, scrub)
    if problem is not None:
        raise InputError(f"not a usable kubeconfig: {problem}", file=path)
    if context is not None and context not in (kc.contexts or {}):
        known = ", ".join(sorted(kc.contexts or {})) or "none"
        raise UsageError(f"context {context!r} not found in {path} (contexts: {known})")
    try:
        config = kc.get(context_name=context)
    except Exception as exc:
        problem = _first_line(exc, scrub)
    if problem is not None:
        raise InputError(f"not a usable kubeconfig: {problem}", file=path)
    where = f"context {config.context_name}" if config.context_name else path
    return ClusterConfig(config, where, scrub)


def _first_line(exc: BaseException, scrub: Scrubber) -> str:
    return (scrub(str(exc)).strip().splitlines() or [type(exc).__name__])[0]
