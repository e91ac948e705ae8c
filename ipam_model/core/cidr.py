"""The one CIDR parser: CIDR text as Go's ``net.ParseCIDR`` reads it.

Calico parses every CIDR (pools, blocks, affinities, service and node
CIDRs, annotation entries) with Go's ``net.ParseCIDR``: exactly one ``/``,
an address in strict notation (no ``10.1/16`` shorthand, no leading zeros in
IPv4 octets, no blanks, no zone), a prefix of ASCII digits no longer than the
family's width. An IPv4-mapped IPv6 address (``::ffff:10.0.0.0/104``) is
IPv4 to Go, so Calico would apply the IPv4 rules to it: it is refused here
with the IPv4 CIDR to write instead.

``parse_cidr`` answers every caller; ``cidr_problem`` says, in the user's
terms, why a text is not a CIDR. Canonical IPv4 text, nearly all of a large
cluster's block CIDRs, takes a fast path that never reaches netaddr.
"""
from __future__ import annotations

import functools
import json
from socket import AF_INET6, inet_ntop  # pure formatting, no socket is opened
from typing import Generic, Iterable, NamedTuple, TypeVar

import netaddr

FAMILY_BITS = {4: 32, 6: 128}

# Well-known ranges as (CIDR, name), in the order messages list them.
PRIVATE_V4 = (("10.0.0.0/8", "RFC 1918 private"), ("172.16.0.0/12", "RFC 1918 private"),
              ("192.168.0.0/16", "RFC 1918 private"))
SHARED_V4 = (("100.64.0.0/10", "RFC 6598 shared"),)
# RFC 4193 reserves fc00::/7 but only defines the locally assigned half, fd00::/8.
ULA_V6 = (("fd00::/8", "RFC 4193 unique local"),)
LINK_LOCAL = {4: "169.254.0.0/16", 6: "fe80::/10"}  # Calico refuses pools there (R16)


class Cidr(NamedTuple):
    """A parsed CIDR. ``network`` has the host bits cleared; ``masked`` says
    whether the text had them clear already; ``text`` is the canonical
    network (IPv6 compressed and lower case, as Go's ``IPNet.String()``)."""

    version: int
    network: int
    prefixlen: int
    masked: bool
    text: str

    @property
    def bits(self) -> int:
        return FAMILY_BITS[self.version]

    @property
    def size(self) -> int:
        return 1 << (self.bits - self.prefixlen)

    @property
    def first(self) -> int:
        return self.network

    @property
    def last(self) -> int:
        return self.network + self.size - 1

    def contains(self, other: "Cidr") -> bool:
        return (self.version == other.version and self.first <= other.first
                and other.last <= self.last)

    def overlaps(self, other: "Cidr") -> bool:
        """Aligned CIDRs overlap exactly when one contains the other."""
        return self.contains(other) or other.contains(self)


K = TypeVar("K")


class ContainingIndex(Generic[K]):
    """The key of the longest CIDR containing a given one (which pool a block
    lies in). One dict per (family, prefix length) keyed by the network's
    integer, so a lookup costs one probe per distinct prefix length, never a scan."""

    def __init__(self, entries: Iterable[tuple[str, K]]):
        self._by_prefix: dict[tuple[int, int], dict[int, K]] = {}
        for text, key in entries:
            parsed = parse_cidr(text)
            if parsed is not None:
                self._by_prefix.setdefault((parsed.version, parsed.prefixlen), {}).setdefault(
                    parsed.network, key)
        self._prefixes = {v: sorted((p for (fam, p) in self._by_prefix if fam == v),
                                    reverse=True) for v in (4, 6)}

    def find(self, text: str) -> K | None:
        parsed = parse_cidr(text)
        return None if parsed is None else self.find_cidr(parsed)

    def find_cidr(self, parsed: Cidr) -> K | None:
        bits = parsed.bits
        for prefix in self._prefixes[parsed.version]:
            if prefix > parsed.prefixlen:
                continue  # a CIDR smaller than the one looked up cannot contain it
            key = parsed.network >> (bits - prefix) << (bits - prefix)
            found = self._by_prefix[(parsed.version, prefix)].get(key)
            if found is not None:
                return found
        return None


def parse_cidr(text) -> Cidr | None:
    """The CIDR *text* denotes, or None when Go's net.ParseCIDR would refuse it."""
    if type(text) is not str:
        return None
    return _cidr_of(text)


@functools.lru_cache(maxsize=65536)
def _cidr_of(text: str) -> Cidr | None:
    """parse_cidr's answer, kept: every rule reads a stack's pool CIDRs (about
    twenty readings of each in ``check``). A Cidr is immutable, so sharing it
    is safe; the bound keeps a snapshot's many block CIDRs from piling up."""
    fast = _canonical_ipv4(text)
    if fast is not None:
        return fast
    parsed = _parse(text)
    return parsed if isinstance(parsed, Cidr) else None


def cidr_problem(text) -> str | None:
    """Why *text* is not a CIDR (a phrase that follows the quoted text), or None."""
    if not isinstance(text, str):
        return "is not a CIDR string such as 10.244.0.0/16"
    parsed = _parse(text)
    return parsed if isinstance(parsed, str) else None


def ip_text(value: int, version: int) -> str:
    """An address as Go's net.IP.String() prints it: dotted quad, or RFC 5952 text."""
    if version == 4:
        return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"
    high = value >> 32
    if high == 0xffff or (high == 0 and value >> 16):
        return str(netaddr.IPAddress(value, 6))  # the dotted-tail forms, as netaddr and Go print them
    # C's RFC 5952 formatter: the same text as ipaddress at a tenth of the cost,
    # which matters for the simulator's 100,000s of IPv6 pod addresses.
    return inet_ntop(AF_INET6, value.to_bytes(16, "big"))


def cidr_text(network: int, prefixlen: int, version: int) -> str:
    return f"{ip_text(network, version)}/{prefixlen}"


def _canonical_ipv4(text: str) -> Cidr | None:
    """Canonical dotted-quad CIDR text without netaddr (None: not that shape)."""
    addr, sep, plen = text.partition("/")
    if not sep:
        return None
    try:
        a, b, c, d = map(int, addr.split("."))
        prefix = int(plen)
    except ValueError:
        return None
    # int() also takes " 1", "+1", "01", "1_0": only text that renders back
    # identically is canonical.
    if not (0 <= a < 256 and 0 <= b < 256 and 0 <= c < 256 and 0 <= d < 256
            and 0 <= prefix <= 32 and f"{a}.{b}.{c}.{d}/{prefix}" == text):
        return None
    value = (a << 24) | (b << 16) | (c << 8) | d
    network = value & ~((1 << (32 - prefix)) - 1)
    if network == value:
        return Cidr(4, value, prefix, True, text)
    return Cidr(4, network, prefix, False, cidr_text(network, prefix, 4))


def _show(text: str) -> str:
    shown = json.dumps(text, ensure_ascii=False)
    return shown if len(shown) <= 80 else shown[:79] + "…"


@functools.lru_cache(maxsize=65536)
def _parse(text: str) -> Cidr | str:
    """The Cidr, or the problem: the strict reading that messages explain."""
    if text.count("/") != 1:
        if "/" in text:
            return "has more than one '/'"
        return _bare_address(text)
    address, prefix = text.split("/")
    ip = _address(address)
    if ip is None:
        return f"address part {_show(address)} is not a valid IPv4 or IPv6 address"
    if not prefix or not all("0" <= ch <= "9" for ch in prefix):
        return f"prefix length {_show(prefix)} is not a number"
    # Like Go's dtoi, cap absurd lengths instead of converting thousands of digits.
    length = int(prefix) if len(prefix.lstrip("0")) <= 4 else 99999
    if ip.version == 6 and ip.is_ipv4_mapped():
        return (f"uses an IPv4-mapped IPv6 address, which Calico handles as IPv4; "
                f"write the IPv4 CIDR instead, e.g. {ip.ipv4()}/{min(max(length - 96, 0), 32)}")
    bits = FAMILY_BITS[ip.version]
    if length > bits:
        family = f"IPv{ip.version}"
        shown = prefix if len(prefix) <= 6 else prefix[:6] + "…"
        return f"prefix length /{shown} is longer than an {family} address ({bits} bits)"
    value = int(ip)
    network = value & ~((1 << (bits - length)) - 1)
    return Cidr(ip.version, network, length, network == value,
                cidr_text(network, length, ip.version))


def _address(text: str) -> netaddr.IPAddress | None:
    """The address in strict notation (inet_pton's), or None.

    netaddr keeps the exception it raises in a local of the raising frame, so
    every refusal leaves exception, traceback and frames (with all their
    callers' locals, up to the loaded stacks) in a reference cycle that only
    the cyclic collector frees, rescanning everything alive to find it.
    Naming the family (only IPv6 text has a colon) spares the failed IPv4
    attempt of netaddr's guess for every IPv6 address; a refusal's chain of
    tracebacks is cut here."""
    try:
        return netaddr.IPAddress(text, 6 if ":" in text else 4, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
        error: BaseException | None = exc
        while error is not None:
            error.__traceback__ = None
            error = error.__context__
        return None


def _bare_address(text: str) -> str:
    ip = _address(text)
    if ip is None:
        return "is not a CIDR such as 10.244.0.0/16 or fd00:10:244::/56"
    return (f"is a bare IP address without a prefix length; write it in CIDR notation, "
            f"e.g. {ip}/{FAMILY_BITS[ip.version]}")
