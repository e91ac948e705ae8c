"""Reading live Calico IPAM state from the Kubernetes API (read-only).

``KubeReader`` lists IPPools (``projectcalico.org/v3`` when the cluster serves
it, else ``crd.projectcalico.org/v1``), IPAMConfigs, Namespaces, Nodes,
BlockAffinities and IPAMBlocks through lightkube's sync client, page by page.
Every failure ends the whole read with one ``ClusterError``: a plan is never
built from part of a cluster. Nothing secret from the kubeconfig (token,
password, client key or certificate) reaches a message: exception text from
lightkube and httpx2 is scrubbed before it is wrapped.
"""
from __future__ import annotations

import base64
import functools
import os
import sys
import time
from dataclasses import dataclass
from typing import IO, Any, Callable, Protocol
from urllib.parse import urlsplit

import httpx2
import msgspec
import yaml
from lightkube import Client, KubeConfig
from lightkube.core.exceptions import ApiError, ConfigError
from lightkube.generic_resource import create_global_resource

from ...core.errors import CalicoIpamError, ClusterError, InputError, UsageError
from ...core.live_state import LiveState
from ...core.model import API_CRD_V1, API_V3
from ..collector import LiveCollector
from ..snapshot_file import slim_object

RBAC_MANIFEST = "deploy/rbac-readonly.yaml"
CALICO_CRD_GROUP = "crd.projectcalico.org"
SECRET_KEYS = ("token", "password", "client-key-data", "client-certificate-data",
               "id-token", "refresh-token", "access-token", "client-secret")
REDACTED = "<redacted>"
DEFAULT_TIMEOUT = 30.0
# Back-off waits go through this unless a reader is given its own sleep
# (tests replace it so that retries never wait for real).
DEFAULT_SLEEP = time.sleep


@dataclass(frozen=True)
class Kind:
    """One list the reader makes: what RBAC and the error messages name."""

    kind: str
    group: str
    version: str
    plural: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def lightkube_class(self):
        return _lightkube_class(self)


@functools.lru_cache(maxsize=None)
def _lightkube_class(kind: Kind):
    # lightkube registers each class once per process; core kinds use its own
    # models (a second, generic class for them would clash in its registry).
    if kind.group == "":
        from lightkube.resources import core_v1
        return getattr(core_v1, kind.kind)
    return create_global_resource(kind.group, kind.version, kind.kind, kind.plural)


def _as_dict(item) -> dict:
    return item if isinstance(item, dict) else item.to_dict()


POOLS_V3 = Kind("IPPool", "projectcalico.org", "v3", "ippools")
POOLS_V1 = Kind("IPPool", CALICO_CRD_GROUP, "v1", "ippools")
# After the pools, smallest lists first: a permission problem shows up before
# the 100,000 blocks were fetched.
OTHER_KINDS = (
    Kind("IPAMConfig", CALICO_CRD_GROUP, "v1", "ipamconfigs"),
    Kind("Namespace", "", "v1", "namespaces"),
    Kind("Node", "", "v1", "nodes"),
    Kind("BlockAffinity", CALICO_CRD_GROUP, "v1", "blockaffinities"),
    Kind("IPAMBlock", CALICO_CRD_GROUP, "v1", "ipamblocks"),
)
ALL_KINDS = (POOLS_V3, POOLS_V1) + OTHER_KINDS


class ClusterReader(Protocol):
    """Anything that yields the normalised live state (the planner's only input)."""

    def read(self) -> LiveState: ...


class Sink(Protocol):
    def start(self, kind: str) -> None: ...
    def add(self, obj: dict) -> None: ...


# --------------------------------------------------------------------------- secrets

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
        token = "/var/run/secrets/kubernetes.io/serviceaccount/token"
        if os.path.exists(token):
            _secret_strings({"tokenFile": token}, secrets)
        return cls(secrets)


# --------------------------------------------------------------------------- config

def _default_kubeconfig() -> str:
    env = os.environ.get("KUBECONFIG")
    if env:
        return env.split(os.pathsep)[0]
    return os.path.expanduser("~/.kube/config")


def load_cluster_config(kubeconfig: str | None, context: str | None):
    """(lightkube SingleConfig, description for messages, Scrubber).

    Errors are raised outside the ``except`` blocks on purpose: lightkube's
    exception (a YAML error can quote a kubeconfig line) must not stay attached
    as ``__context__``.
    """
    in_cluster = (kubeconfig is None and context is None and "KUBECONFIG" not in os.environ
                  and os.environ.get("KUBERNETES_SERVICE_HOST"))
    if in_cluster:
        scrub = Scrubber.from_kubeconfig(None)
        problem = None
        try:
            config = KubeConfig.from_service_account().get()
        except Exception as exc:
            problem = scrub(str(exc))
        if problem is not None:
            raise ClusterError(f"in-cluster configuration failed: {problem}")
        return config, "in-cluster service account", scrub
    path = kubeconfig or _default_kubeconfig()
    scrub = Scrubber.from_kubeconfig(path)
    if not os.path.isfile(path):
        raise InputError("kubeconfig not found (pass --kubeconfig PATH or set KUBECONFIG)", file=path)
    problem = None
    try:  # lightkube raises YAML, key and type errors for broken files
        kc = KubeConfig.from_file(path)
    except Exception as exc:
        problem = (scrub(str(exc)).strip().splitlines() or [type(exc).__name__])[0]
    if problem is not None:
        raise InputError(f"not a usable kubeconfig: {problem}", file=path)
    if context is not None and context not in (kc.contexts or {}):
        known = ", ".join(sorted(kc.contexts or {})) or "none"
        raise UsageError(f"context {context!r} not found in {path} (contexts: {known})")
    try:
        config = kc.get(context_name=context)
    except Exception as exc:
        problem = (scrub(str(exc)).strip().splitlines() or [type(exc).__name__])[0]
    if problem is not None:
        raise InputError(f"not a usable kubeconfig: {problem}", file=path)
    return config, f"context {config.context_name}" if config.context_name else path, scrub


def _server_label(config) -> str:
    try:
        parts = urlsplit(config.cluster.server)
        host = parts.hostname or "?"
        return f"{host}:{parts.port}" if parts.port else host
    except (AttributeError, ValueError):
        return "?"


# --------------------------------------------------------------------------- reader

class _Restart(Exception):
    """A list must start over (410 Gone, or a retryable failure)."""

    def __init__(self, reason: str, retryable: bool):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class _NotServed(Exception):
    pass


def _status_code(exc: BaseException) -> int | None:
    if isinstance(exc, ApiError):
        code = getattr(exc.status, "code", None)
        if code:
            return int(code)
    if isinstance(exc, httpx2.HTTPStatusError):
        return exc.response.status_code
    # lightkube's error conversion reads the Content-Type header and raises
    # KeyError when a proxy answered without one; the HTTP error is its context.
    ctx = exc.__context__
    if isinstance(ctx, httpx2.HTTPStatusError):
        return ctx.response.status_code
    return None


class KubeReader:
    """Reads a cluster's Calico IPAM state; see the module docstring.

    ``transport`` (httpx2) and ``sleep`` are injectable so tests run against a
    fake API without real back-off waits.
    """

    def __init__(self, kubeconfig: str | None = None, context: str | None = None, *,
                 transport: httpx2.BaseTransport | None = None,
                 sleep: Callable[[float], None] | None = None,
                 page_size: int = 500, max_attempts: int = 5, max_restarts: int = 3,
                 timeout: float = DEFAULT_TIMEOUT, backoff: float = 0.5, progress: bool | None = None,
                 progress_after: float = 1.0, stderr: IO[str] | None = None):
        self._config, self._where, self._scrub = load_cluster_config(kubeconfig, context)
        self._transport = transport
        self._sleep = sleep if sleep is not None else DEFAULT_SLEEP
        self._page_size = page_size
        self._max_attempts = max_attempts
        self._max_restarts = max_restarts
        self._timeout = timeout
        self._backoff = backoff
        self._stderr = stderr or sys.stderr
        if progress is None:
            progress = bool(getattr(self._stderr, "isatty", lambda: False)())
        self._progress = progress
        self._progress_after = progress_after
        self.source = f"cluster {_server_label(self._config)} ({self._where})"
        self.calico_api: str | None = None

    # -- public API

    def read(self) -> LiveState:
        collector = LiveCollector()
        self.read_into(CollectorSink(collector))
        return collector.result(self.source, self.calico_api)

    def read_into(self, sink: Sink) -> str:
        """Stream every object (slimmed, with kind/apiVersion) into *sink*;
        returns the IPPool API version the cluster serves."""
        problem = None
        try:
            client = Client(config=self._config, transport=self._transport,
                            timeout=httpx2.Timeout(self._timeout))
        except Exception as exc:  # bad certificate data, unsupported auth provider, ...
            problem = self._describe(exc)
        if problem is not None:  # raised here so the original is not its __context__
            raise ClusterError(f"cannot set up the connection for {self._where}: {problem}")
        started = time.monotonic()
        try:
            try:
                self._list(client, POOLS_V3, sink, started)
                self.calico_api = API_V3
            except _NotServed:
                try:
                    self._list(client, POOLS_V1, sink, started)
                except _NotServed:
                    raise self._not_installed(POOLS_V1) from None
                self.calico_api = API_CRD_V1
            for kind in OTHER_KINDS:
                try:
                    self._list(client, kind, sink, started)
                except _NotServed:
                    if kind.group == CALICO_CRD_GROUP:
                        raise self._not_installed(kind) from None
                    raise ClusterError(f"the API server does not serve {kind.resource}") from None
        finally:
            client.close()
        return self.calico_api

    # -- internals

    def _not_installed(self, kind: Kind) -> ClusterError:
        return ClusterError(f"Calico is not installed with the Kubernetes datastore "
                            f"(no {kind.resource}) in {self.source}")

    def _describe(self, exc: BaseException) -> str:
        text = str(exc).strip() or type(exc).__name__
        return self._scrub(text.splitlines()[0])

    def _list(self, client: Client, kind: Kind, sink: Sink, started: float) -> None:
        res = kind.lightkube_class()
        restarts = 0
        failures = 0
        while True:
            sink.start(kind.kind)
            count = 0
            failure = None
            try:
                for item in client.list(res, chunk_size=self._page_size):
                    sink.add(slim_object(kind.kind, _as_dict(item), kind.api_version))
                    count += 1
                    if self._progress and count % self._page_size == 0:
                        self._show(kind, count, started)
            except Exception as exc:
                failure = self._classify(kind, exc)
            # Raised outside the except block: the original exception (whose
            # text may hold credentials) must not ride along as __context__.
            if failure is None:
                if self._progress:
                    self._show(kind, count, started, done=True)
                return
            if not isinstance(failure, _Restart):
                raise failure
            if failure.retryable:
                failures += 1
                if failures >= self._max_attempts:
                    raise ClusterError(
                        f"listing {kind.resource} failed {failures} times in a row, giving up: "
                        f"{failure.reason}; {self.source}")
                self._sleep(min(self._backoff * (2 ** (failures - 1)), 30.0))
            else:  # 410 Gone: the continue token expired, start the list again
                restarts += 1
                if restarts > self._max_restarts:
                    raise ClusterError(
                        f"listing {kind.resource} expired {restarts} times (410 Gone): the "
                        f"list changes faster than it can be read; try again at a quieter "
                        f"moment")

    def _classify(self, kind: Kind, exc: BaseException) -> Exception:
        """The exception a failure during a list becomes: a restart, a retry or a ClusterError."""
        if isinstance(exc, CalicoIpamError):
            if isinstance(exc, InputError):  # an object the normaliser cannot read
                return ClusterError(f"{kind.resource} from {self.source}: {exc}")
            return exc
        code = _status_code(exc)
        if code == 404:
            return _NotServed()
        if code == 410:
            return _Restart("410 Gone", retryable=False)
        if code == 403:
            return ClusterError(
                f"permission denied: the credentials of {self._where} may not list "
                f"{kind.resource} (API group \"{kind.group}\", resource \"{kind.plural}\", "
                f"verb \"list\"); grant read access with {RBAC_MANIFEST}")
        if code == 401:
            return ClusterError(f"the API server rejected the credentials of {self._where} "
                                f"(401 Unauthorized) while listing {kind.resource}")
        if code is not None and (code >= 500 or code == 429):
            return _Restart(f"HTTP {code} while listing {kind.resource}", retryable=True)
        if code is not None:
            message = exc.status.message if isinstance(exc, ApiError) else ""
            return ClusterError(f"listing {kind.resource} failed with HTTP {code}"
                                f"{': ' + self._scrub(message) if message else ''}")
        if isinstance(exc, httpx2.TimeoutException):
            return _Restart(f"timed out after {self._timeout:g}s listing {kind.resource}",
                            retryable=True)
        if isinstance(exc, httpx2.TransportError):
            return _Restart(f"{type(exc).__name__} listing {kind.resource}: {self._describe(exc)}",
                            retryable=True)
        if isinstance(exc, (msgspec.DecodeError, msgspec.ValidationError, ValueError)):
            return ClusterError(f"the API server sent an invalid or truncated response for "
                                f"{kind.resource}: {self._describe(exc)}")
        if isinstance(exc, ConfigError):
            return ClusterError(f"authentication for {self._where} failed: "
                                f"{self._describe(exc)}")
        return ClusterError(f"listing {kind.resource} failed: {type(exc).__name__}: "
                            f"{self._describe(exc)}")

    def _show(self, kind: Kind, count: int, started: float, done: bool = False) -> None:
        if time.monotonic() - started < self._progress_after:  # short reads stay silent
            return
        end = "\n" if done else ""
        self._stderr.write(f"\rreading {kind.resource}: {count:,}{end}")
        self._stderr.flush()


class CollectorSink:
    def __init__(self, collector: LiveCollector):
        self.collector = collector

    def start(self, kind: str) -> None:
        self.collector.start(kind)

    def add(self, obj: dict) -> None:
        self.collector.add(obj, None, (obj["kind"], obj.get("metadata", {}).get("name", "?")))


class TeeSink:
    """Feeds several sinks (a snapshot writer and a collector that validates)."""

    def __init__(self, *sinks: Sink):
        self.sinks = sinks

    def start(self, kind: str) -> None:
        for sink in self.sinks:
            sink.start(kind)

    def add(self, obj: dict) -> None:
        for sink in self.sinks:
            sink.add(obj)
