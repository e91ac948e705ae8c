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
from typing import Any, Iterable
from urllib.parse import urlsplit

from ...core.errors import CIP001, CIP002, ClusterError, InputError, UsageError
from ...core.input_file import printable_path, read_input
from ...core.limits import CREDENTIAL_BYTES, STACK_FILE_BYTES
from ...core.yaml_doc import YamlLimits, load_yaml_text

SECRET_KEYS = ("token", "password", "client-key-data", "client-certificate-data",
               "id-token", "refresh-token", "access-token", "client-secret")
REDACTED = "<redacted>"
SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
# kubeconfig fields that name files, resolved against the file that holds them
# (kubectl's ResolvePaths), so a merged KUBECONFIG keeps each file's meaning.
PATH_KEYS = ("certificate-authority", "client-certificate", "client-key", "tokenFile")
# Kubeconfigs are read like stack files: bounded size, depth, alias expansion.
KUBECONFIG_YAML = YamlLimits(what="kubeconfigs", positions=False)
_MIN_SECRET = 4  # shorter strings would redact ordinary words


def _token_file_secret(item: Any, out: set[str]) -> None:
    if not isinstance(item, str):
        return
    try:
        out.add(read_input(item, limit=CREDENTIAL_BYTES).decode("utf-8", "replace").strip())
    except InputError:
        pass


def _exec_secrets(value: Any, out: set[str]) -> None:
    """An exec plugin's arguments and environment values: a plugin is often
    given its secret that way (``--token=...``, ``AWS_SECRET_ACCESS_KEY``)."""
    if not isinstance(value, dict):
        return
    for arg in value.get("args") or ():
        if isinstance(arg, str):
            option, sep, rest = arg.partition("=")
            if sep:
                out.add(rest)
            elif not option.startswith("-"):
                out.add(arg)
    for env in value.get("env") or ():
        if isinstance(env, dict) and isinstance(env.get("value"), str):
            out.add(env["value"])


def _pem_lines(item: str, out: set[str]) -> None:
    try:  # the decoded PEM lines are secret too
        text = base64.b64decode(item, validate=False).decode("utf-8", "replace")
    except ValueError:
        text = ""
    out.update(line for line in text.splitlines() if len(line) >= 16)


def _secret_strings(value: Any, out: set[str]) -> None:
    """Every credential-looking value below a kubeconfig ``users`` entry
    (without recursion: the document is input)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        username = node.get("username")
        if isinstance(username, str) and isinstance(node.get("password"), str):
            # what an Authorization: Basic header carries
            out.add(base64.b64encode(f"{username}:{node['password']}".encode()).decode())
        for key, item in node.items():
            if key in SECRET_KEYS and isinstance(item, str):
                out.add(item)
                if key.endswith("-data"):
                    _pem_lines(item, out)
            elif key == "exec":
                _exec_secrets(item, out)
                stack.append(item)
            elif key == "env" and isinstance(item, list):
                _exec_secrets({"env": item}, out)
            elif key == "config" and isinstance(item, dict):  # auth-provider config
                out.update(v for v in item.values() if isinstance(v, str))
            elif key in ("tokenFile", "token-file"):
                _token_file_secret(item, out)
            else:
                stack.append(item)


class Scrubber:
    """Replaces known secrets (and their base64 forms) in text shown to the user.

    It starts with every credential of the kubeconfig and learns the ones
    that appear later: the token an exec credential plugin returns is
    ``add``-ed before any request carries it."""

    def __init__(self, secrets: Iterable[str] = frozenset()):
        self._secrets: list[str] = []
        self._known: set[str] = set()
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Learn secrets (each with its base64 form, which headers and
        kubeconfig ``-data`` fields carry)."""
        for secret in secrets:
            if not isinstance(secret, str) or len(secret) < _MIN_SECRET:
                continue
            for form in (secret, base64.b64encode(secret.encode("utf-8", "replace")).decode()):
                if form not in self._known:
                    self._known.add(form)
                    self._secrets.append(form)
        # Longest first, so a secret containing another is replaced whole.
        self._secrets.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    @classmethod
    def from_documents(cls, documents: Iterable[Any], *, in_cluster: bool = False) -> "Scrubber":
        secrets: set[str] = set()
        for doc in documents:
            if isinstance(doc, dict):
                _secret_strings(doc.get("users"), secrets)
        if in_cluster or os.path.exists(SERVICE_ACCOUNT_TOKEN):
            _token_file_secret(SERVICE_ACCOUNT_TOKEN, secrets)
        return cls(secrets)

    @classmethod
    def from_kubeconfig(cls, path: str | None) -> "Scrubber":
        documents = []
        if path:
            try:
                documents.append(load_kubeconfig_file(path))
            except InputError:
                pass
        return cls.from_documents(documents)


def load_kubeconfig_file(path: str) -> Any:
    """One kubeconfig file through the bounded reader and the one YAML loader
    (no recursion, no self-aliases, bounded depth and size)."""
    file = printable_path(path)
    raw = read_input(path, limit=STACK_FILE_BYTES, display=file, rule=CIP001)
    try:
        return load_yaml_text(raw, file=file, limits=KUBECONFIG_YAML).data
    except InputError as exc:
        where = exc.location
        problem = InputError(f"not a usable kubeconfig: {exc.message}", file=where.file,
                             path=where.path, line=where.line, column=where.column,
                             rule=exc.rule)
    raise problem  # outside the except: the loader's error is not its __context__


def _resolve_paths(doc: dict, directory: str) -> None:
    """Relative file names of *doc*'s clusters and users, made absolute
    against *directory* (kubectl resolves them against their own file)."""
    for section, inner in (("clusters", "cluster"), ("users", "user")):
        for entry in doc.get(section) or ():
            body = entry.get(inner) if isinstance(entry, dict) else None
            if not isinstance(body, dict):
                continue
            for key in PATH_KEYS:
                value = body.get(key)
                if isinstance(value, str) and value and not os.path.isabs(value):
                    body[key] = os.path.join(directory, value)


def merge_kubeconfigs(documents: list[tuple[str, Any]]) -> dict:
    """kubectl's merge of several kubeconfig files (client-go
    clientcmd/loader.go, ClientConfigLoadingRules.Load): for clusters,
    contexts and users the first file that defines a name wins; the first
    ``current-context`` set wins."""
    merged: dict = {"clusters": [], "contexts": [], "users": []}
    seen: dict[str, set] = {key: set() for key in merged}
    for path, doc in documents:
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise InputError("a kubeconfig is a mapping (apiVersion, clusters, contexts, "
                             "users)", file=printable_path(path), rule=CIP002)
        doc = dict(doc)
        _resolve_paths(doc, os.path.dirname(os.path.abspath(path)))
        for key in merged:
            for entry in doc.get(key) or ():
                name = entry.get("name") if isinstance(entry, dict) else None
                if isinstance(name, str) and name not in seen[key]:
                    seen[key].add(name)
                    merged[key].append(entry)
        if "current-context" not in merged and doc.get("current-context"):
            merged["current-context"] = doc["current-context"]
    return merged


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
    file: str | None = None  # the kubeconfig file(s), as messages name them

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


def kubeconfig_paths() -> list[str]:
    """The files of $KUBECONFIG (empty entries dropped), else ~/.kube/config."""
    env = os.environ.get("KUBECONFIG")
    if env:
        paths = [p for p in env.split(os.pathsep) if p]
        if paths:
            return paths
    return [os.path.expanduser("~/.kube/config")]


def default_kubeconfig() -> str:
    """The first file of $KUBECONFIG, else ~/.kube/config (the one messages name)."""
    return kubeconfig_paths()[0]


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
    return _kubeconfig_file_config([kubeconfig] if kubeconfig else kubeconfig_paths(), context)


def _in_cluster_config() -> ClusterConfig:
    from lightkube import (
        KubeConfig,  # optional heavy dependency, loaded when a cluster is read
    )

    scrub = Scrubber.from_documents((), in_cluster=True)
    problem = None
    try:
        config = KubeConfig.from_service_account().get()
    except Exception as exc:
        problem = scrub(str(exc))
    if problem is not None:
        raise ClusterError(f"in-cluster configuration failed: {problem}")
    return ClusterConfig(config, "in-cluster service account", scrub)


def _read_kubeconfigs(paths: list[str]) -> list[tuple[str, Any]]:
    """Every file of *paths* that exists (kubectl skips the missing ones of
    $KUBECONFIG), each loaded by the bounded loader."""
    present = [p for p in paths if os.path.lexists(p)]
    if not present:
        raise InputError("kubeconfig not found (pass --kubeconfig PATH or set KUBECONFIG)",
                         file=printable_path(paths[0]))
    return [(p, load_kubeconfig_file(p)) for p in present]


def _kubeconfig_file_config(paths: list[str], context: str | None) -> ClusterConfig:
    from lightkube import (
        KubeConfig,  # optional heavy dependency, loaded when a cluster is read
    )

    documents = _read_kubeconfigs(paths)
    scrub = Scrubber.from_documents(doc for _, doc in documents)
    path = printable_path(documents[0][0])
    shown = path if len(documents) == 1 else ", ".join(printable_path(p) for p, _ in documents)
    problem = None
    try:  # lightkube raises key and type errors for broken files
        kc = KubeConfig.from_dict(merge_kubeconfigs(documents), fname=documents[0][0])
    except Exception as exc:
        problem = _first_line(exc, scrub)
    if problem is not None:
        raise InputError(f"not a usable kubeconfig: {problem}", file=shown)
    if context is not None and context not in (kc.contexts or {}):
        known = ", ".join(sorted(kc.contexts or {})) or "none"
        raise UsageError(f"context {context!r} not found in {shown} (contexts: {known})")
    try:
        config = kc.get(context_name=context)
    except Exception as exc:
        problem = _first_line(exc, scrub)
    if problem is not None:
        raise InputError(f"not a usable kubeconfig: {problem}", file=shown)
    where = f"context {config.context_name}" if config.context_name else path
    return ClusterConfig(config, where, scrub, shown)


def _first_line(exc: BaseException, scrub: Scrubber) -> str:
    return (scrub(str(exc)).strip().splitlines() or [type(exc).__name__])[0]
