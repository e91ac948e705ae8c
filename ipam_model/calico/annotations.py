"""The ``cni.projectcalico.org/ipv4pools`` / ``ipv6pools`` annotations, read as Calico reads them.

Calico's CNI plugin decodes the annotation with ``json.Unmarshal`` into a
``[]string`` and resolves each entry with ``ResolvePools``
(cni-plugin/pkg/ipamplugin/ipam_plugin.go, utils.go): an entry with a ``/``
is a CIDR, anything else a pool name. One entry that does not resolve fails
the whole CNI ADD, so the pod never starts. An empty list requests nothing:
the pod gets the default pools.
"""
from __future__ import annotations

import functools
from typing import Iterable

from ..core import json_doc
from ..core.cidr import parse_cidr
from ..core.limits import ANNOTATION_JSON_BYTES
from ..core.model import IPV4_POOLS_ANNOTATION, IPV6_POOLS_ANNOTATION

POOL_ANNOTATIONS = {4: IPV4_POOLS_ANNOTATION, 6: IPV6_POOLS_ANNOTATION}


def parse_pools_annotation(value) -> tuple[list[str] | None, str | None]:
    """(entries, None), or (None, why Calico's CNI ADD fails on it). The entries
    are a fresh list: callers own what they get."""
    if not isinstance(value, str):
        return None, f"must be a string holding a JSON list, not {type(value).__name__}"
    entries, problem = _parse(value)
    return (list(entries) if entries is not None else None), problem


@functools.lru_cache(maxsize=4096)
def _parse(value: str) -> tuple[tuple[str, ...] | None, str | None]:
    # Thousands of namespaces share a few annotation values: parse each once.
    # The one bounded decoder: deep nesting, huge integers, NaN and lone
    # surrogates are a problem with the annotation, never a crash.
    try:
        parsed = json_doc.loads(value, limit=ANNOTATION_JSON_BYTES)
    except json_doc.JsonError as exc:
        message = exc.message.removeprefix("not valid JSON: ")
        return None, f"is not valid JSON ({message} at character {exc.pos})"
    if not isinstance(parsed, list) or not all(isinstance(x, str) for x in parsed):
        return None, "is not a JSON list of strings such as [\"pool-a\"]"
    if any(not x for x in parsed):
        return None, "holds an empty pool name, which Calico cannot resolve"
    return tuple(parsed), None


class PoolResolver:
    """Annotation entries to pool names, the way ``ResolvePools`` does it:
    a name as is, a CIDR only when it equals a pool's CIDR exactly."""

    def __init__(self, pools: Iterable[tuple[str, str]]):
        """*pools*: (name, CIDR) pairs; the first pool of a CIDR wins."""
        self.names: dict[str, str] = {}
        self.by_cidr: dict[tuple[int, int, int], str] = {}
        for name, cidr in pools:
            self.names[name] = cidr
            parsed = parse_cidr(cidr)
            if parsed is not None:
                self.by_cidr.setdefault((parsed.version, parsed.first, parsed.last), name)

    def resolve(self, entry: str) -> str | None:
        """The pool an entry names, or None (unknown name, no pool of that CIDR)."""
        if "/" not in entry:
            return entry if entry in self.names else None
        parsed = parse_cidr(entry)
        if parsed is None:
            return None
        return self.by_cidr.get((parsed.version, parsed.first, parsed.last))

    def containing(self, entry: str) -> str | None:
        """A pool whose CIDR contains the CIDR *entry* (Calico refuses such subsets)."""
        parsed = parse_cidr(entry)
        if parsed is None:
            return None
        for (version, first, last), name in self.by_cidr.items():
            if version == parsed.version and first <= parsed.first and parsed.last <= last:
                return name
        return None
