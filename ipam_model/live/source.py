"""Where live state comes from: the ``LiveSource`` and ``Sink`` protocols.

A live source (snapshot files, the Kubernetes API) produces one ``LiveState``;
a streaming source pushes raw objects, one at a time, into a ``Sink``: the
normaliser (``CollectorSink``), a snapshot file being written, or both at once
(``TeeSink``). The protocols live here and not in ``kube/`` so that naming
them never loads the Kubernetes client.
"""
from __future__ import annotations

from typing import Protocol

from ..core.live_state import LiveState
from .collector import LiveCollector


class LiveSource(Protocol):
    """Anything that yields the normalised live state (the planner's only input).

    A failed or partial read raises (``ClusterError``, ``InputError``): a plan
    is never built from part of a cluster.
    """

    def read(self) -> LiveState: ...


class Sink(Protocol):
    """Takes raw objects kind by kind; ``start(kind)`` again means that kind's
    list restarted and what it got of that kind so far must be forgotten;
    ``skip(kind, why)`` that an optional kind could not be read at all."""

    def start(self, kind: str) -> None: ...
    def add(self, obj: dict) -> None: ...
    def skip(self, kind: str, why: str) -> None: ...


class CollectorSink:
    """Feeds a ``LiveCollector``, which normalises (and so checks) each object."""

    def __init__(self, collector: LiveCollector):
        self.collector = collector

    def start(self, kind: str) -> None:
        self.collector.start(kind)

    def add(self, obj: dict) -> None:
        self.collector.add(obj, None, (obj["kind"], obj.get("metadata", {}).get("name", "?")))

    def skip(self, kind: str, why: str) -> None:
        self.collector.skip(kind, why)


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

    def skip(self, kind: str, why: str) -> None:
        for sink in self.sinks:
            sink.skip(kind, why)
