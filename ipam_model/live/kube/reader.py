"""Reading live Calico IPAM state from the Kubernetes API (read-only).

``KubeReader`` lists IPPools (``projectcalico.org/v3`` when the cluster serves
it, else ``crd.projectcalico.org/v1``), the Tigera operator's Installations,
IPAMConfigs, Namespaces, Nodes, BlockAffinities and IPAMBlocks through
lightkube's sync client, page by page. Every failure ends the whole read with
one ``ClusterError``: a plan is never built from part of a cluster. The one
exception is an optional kind (Installations): not served means no operator,
no permission means ownership by the operator cannot be told (a note). Nothing secret from the kubeconfig (token,
password, client key or certificate) reaches a message: exception text from
lightkube and httpx2 is scrubbed before it is wrapped.

This module is only the loop, and its only I/O is the client's requests: the
kubeconfig is loaded by ``config.py``, what a failure means is decided by
``failures.classify``, and progress goes to an ``on_progress`` callback
(the CLI prints it). lightkube and httpx2 are imported when a read starts, so
importing this module (as the CLI does for every command) stays cheap.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit

from ...core.errors import ClusterError
from ...core.limits import DEFAULT_REQUEST_TIMEOUT, MAX_LIST_OBJECTS, READ_DEADLINE
from ...core.live_state import LiveState
from ...core.model import API_CRD_V1, API_V3
from ..collector import LiveCollector
from ..snapshot_file import slim_object
from ..source import CollectorSink, Sink
from .config import ClusterConfig, load_cluster_config
from .failures import (
    Decision,
    backoff_delay,
    classify,
    expired,
    gave_up,
    not_served,
    setup_failed,
)
from .kinds import OTHER_KINDS, POOLS_V1, POOLS_V3, Kind
from .transport import ExecCredential, GuardedTransport, TokenFileCredential

if TYPE_CHECKING:
    import httpx2

DEFAULT_TIMEOUT = DEFAULT_REQUEST_TIMEOUT.value
# Back-off waits go through this unless a reader is given its own sleep
# (tests replace it so that retries never wait for real).
DEFAULT_SLEEP = time.sleep

# on_progress(resource, objects listed so far, done): called every page and
# once when a list completed.
Progress = Callable[[str, int, bool], None]


@functools.lru_cache(maxsize=None)
def resource_class(kind: Kind):
    """lightkube's resource class for *kind*.

    lightkube registers each class once per process; core kinds use its own
    models (a second, generic class for them would clash in its registry).
    """
    if kind.group == "":
        from lightkube.resources import core_v1
        return getattr(core_v1, kind.kind)
    from lightkube.generic_resource import create_global_resource
    return create_global_resource(kind.group, kind.version, kind.kind, kind.plural)


def without_unused_tls(config):
    """lightkube's config, told not to build a verifying SSL context that no
    request would use.

    lightkube builds the client's SSL context from the system's CA bundle
    whatever the server's scheme (lightkube config/client_adapter.py
    verify_cluster; OpenSSL's load_verify_locations, ~50 ms of CPU). An
    ``http://`` server has no TLS, so for one without a CA of its own the
    client is built as with ``insecure-skip-tls-verify``, which makes an
    empty context instead; no connection uses it (lightkube follows no
    redirects, and a proxy's TLS has its own context). Every ``https://``
    server, and any cluster entry naming a CA, is verified as before.
    """
    import msgspec

    cluster = config.cluster
    try:  # a server lightkube cannot use fails in lightkube, with its message
        plain = isinstance(cluster.server, str) and urlsplit(cluster.server).scheme == "http"
    except ValueError:
        plain = False
    if not plain or cluster.insecure or cluster.certificate_auth or cluster.certificate_auth_data:
        return config
    return config._replace(cluster=msgspec.structs.replace(cluster, insecure=True))


def _as_dict(item) -> dict:
    return item if isinstance(item, dict) else item.to_dict()


@dataclass(frozen=True)
class KubeReader:
    """Reads a cluster's Calico IPAM state; see the module docstring.

    Takes a loaded ``ClusterConfig``; ``KubeReader.from_kubeconfig`` loads one
    first. ``transport`` (httpx2) and ``sleep`` are injectable so tests run
    against a fake API without real back-off waits.
    """

    cluster: ClusterConfig
    transport: httpx2.BaseTransport | None = None
    sleep: Callable[[float], None] | None = None
    page_size: int = 500
    max_attempts: int = 5
    max_restarts: int = 3
    timeout: float = DEFAULT_TIMEOUT
    backoff: float = 0.5
    on_progress: Progress | None = None
    read_deadline: float = READ_DEADLINE.value

    @classmethod
    def from_kubeconfig(cls, kubeconfig: str | None = None, context: str | None = None,
                        **options: Any) -> "KubeReader":
        """A reader of the cluster that *kubeconfig* and *context* name (in-cluster
        when neither is given and the process runs in a pod); *options* are the
        reader's other fields. Raises InputError/UsageError/ClusterError when the
        configuration does not load."""
        return cls(load_cluster_config(kubeconfig, context), **options)

    @property
    def source(self) -> str:
        return self.cluster.source

    def read(self) -> LiveState:
        collector = LiveCollector()
        calico_api = self.read_into(CollectorSink(collector))
        return collector.result(self.source, calico_api)

    def read_into(self, sink: Sink) -> str:
        """Stream every object (slimmed, with kind/apiVersion) into *sink*;
        returns the IPPool API version the cluster serves."""
        client = self._connect()
        try:
            if self._list(client, POOLS_V3, sink):
                calico_api = API_V3
            elif self._list(client, POOLS_V1, sink):
                calico_api = API_CRD_V1
            else:
                raise ClusterError(not_served(POOLS_V1, self.source))
            for kind in OTHER_KINDS:
                if not self._list(client, kind, sink) and not kind.optional:
                    raise ClusterError(not_served(kind, self.source))
        finally:
            client.close()
        return calico_api

    def _connect(self):
        """lightkube's sync client for the cluster; no request is made yet."""
        import httpx2
        from lightkube import Client

        problem = None
        try:
            client = Client(config=without_unused_tls(self.cluster.config),
                            transport=self.transport, timeout=httpx2.Timeout(self.timeout))
            self._guard(client)
        except Exception as exc:  # bad certificate data, unsupported auth provider, ...
            where = self.cluster.where
            if self.cluster.file and self.cluster.file not in where:
                where = f"{where} of kubeconfig {self.cluster.file}"
            problem = setup_failed(exc, where, self.cluster.scrub)
        if problem is not None:  # raised here so the original is not its __context__
            raise ClusterError(problem)
        return client

    def _guard(self, client) -> None:
        """Every request through a ``GuardedTransport`` (deadlines, paging
        bounds, the exec plugin with a timeout): lightkube keeps its httpx2
        client, and the client its transports, in these attributes (lightkube
        core/generic_client.py GenericClient.__init__, httpx2 Client)."""
        http = client._client._client
        user = self.cluster.config.user
        credential = None
        where, scrub = self.cluster.where, self.cluster.scrub
        if user is not None and user.token_file is not None:  # lightkube's order
            credential = TokenFileCredential(self.cluster.config.abs_file(user.token_file),
                                             scrub=scrub, where=where)
        elif user is not None and user.token is None and user.exec is not None:
            credential = ExecCredential(user.exec, timeout=self.timeout, scrub=scrub,
                                        where=where)
        if credential is not None:
            http.auth = None  # lightkube's would read any file whole, or wait for ever
        guard = functools.partial(GuardedTransport.for_read, timeout=self.timeout,
                                  credential=credential, read_deadline=self.read_deadline)
        http._transport = guard(http._transport)
        http._mounts = {pattern: None if mounted is None else guard(mounted)
                        for pattern, mounted in http._mounts.items()}

    def _list(self, client, kind: Kind, sink: Sink) -> bool:
        """List *kind* into *sink*, retrying and restarting as ``classify`` decides;
        False when the API server does not serve *kind*."""
        failures = restarts = 0
        while True:
            decision = self._list_once(client, kind, sink)
            # Raised outside the except block: the original exception (whose
            # text may hold credentials) must not ride along as __context__.
            if decision is None:
                return True
            if decision.action == "not_served":
                return False  # an optional kind stays listed: none exist
            if decision.action == "fail" and decision.forbidden and kind.optional:
                sink.skip(kind.kind, decision.reason)
                return True
            if decision.action == "fail":
                raise decision.exception()
            if decision.action == "retry":
                failures += 1
                if failures >= self.max_attempts:
                    raise ClusterError(gave_up(kind, failures, decision.reason, self.source))
                sleep = self.sleep if self.sleep is not None else DEFAULT_SLEEP
                sleep(backoff_delay(self.backoff, failures))
            else:  # restart: 410 Gone, the continue token expired; list again from the start
                restarts += 1
                if restarts > self.max_restarts:
                    raise ClusterError(expired(kind, restarts))

    def _list_once(self, client, kind: Kind, sink: Sink) -> Decision | None:
        """One pass over *kind*'s pages into *sink*: None when it completed, else
        the decision on its failure. ``sink.start`` first, so a pass that starts
        over never keeps objects of the pass before."""
        sink.start(kind.kind)
        progress = self.on_progress
        count = 0
        try:
            for item in client.list(resource_class(kind), chunk_size=self.page_size):
                sink.add(slim_object(kind.kind, _as_dict(item), kind.api_version))
                count += 1
                if count > MAX_LIST_OBJECTS.value:
                    raise ClusterError(f"{kind.resource} from {self.source}: more than "
                                       f"{MAX_LIST_OBJECTS.text}; giving up")
                if progress is not None and count % self.page_size == 0:
                    progress(kind.resource, count, False)
        except Exception as exc:
            return classify(kind, exc, where=self.cluster.where, source=self.source,
                            scrub=self.cluster.scrub, timeout=self.timeout)
        if progress is not None:
            progress(kind.resource, count, True)
        return None
