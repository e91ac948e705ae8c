"""The one CIDR parser against netaddr (the oracle) and Go's net.ParseCIDR rules.

Go's rules (Calico parses every CIDR with net.ParseCIDR, libcalico-go lib/net/ipnet.go):
one '/', a strictly written address (no shorthand, no leading zeros in IPv4
octets), an ASCII-digit prefix no longer than the family's width.
"""
from __future__ import annotations

import gc

import netaddr
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipam_model.core.cidr import (
    _canonical_ipv4,
    _cidr_of,
    _parse,
    cidr_problem,
    ip_text,
    parse_cidr,
)


def test_upper_case_ipv6_and_host_bits():
    assert parse_cidr("FD00::/8") == parse_cidr("fd00::/8")
    ten = parse_cidr("10.0.0.5/24")
    assert ten.network == int(netaddr.IPAddress("10.0.0.0")) and not ten.masked
    assert ten.text == "10.0.0.0/24" and ten.size == 256 and ten.last == ten.first + 255


@pytest.mark.parametrize("text, words", [
    ("10.0.0.0", "bare IP address"),
    ("10.0.0.0/8/8", "more than one '/'"),
    ("10.0.0.0/33", "longer than an IPv4 address"),
    ("fd00::/129", "longer than an IPv6 address"),
    ("10.0.0.0/+8", "is not a number"),
    ("10.0.0.0/ 8", "is not a number"),
    ("10.0.0.0/\u0668", "is not a number"),        # an Arabic-Indic digit: int() takes it, Go does not
    ("010.0.0.0/8", "not a valid IPv4 or IPv6 address"),
    ("10.1/16", "not a valid IPv4 or IPv6 address"),
    ("fe80::1%eth0/64", "not a valid IPv4 or IPv6 address"),
    ("::ffff:10.0.0.0/104", "IPv4-mapped"),
    ("10.0.0.0/" + "1" * 5000, "longer than an IPv4 address"),  # no int-string limit error
    ("", "is not a CIDR"),
])
def test_refusals_say_why(text, words):
    assert parse_cidr(text) is None
    assert words in cidr_problem(text)


@pytest.mark.parametrize("value", [None, 10, ["10.0.0.0/8"], b"10.0.0.0/8"])
def test_non_strings_are_not_cidrs(value):
    assert parse_cidr(value) is None and cidr_problem(value)


def _text_forms(net: netaddr.IPNetwork, host: int, upper: bool, expanded: bool) -> str:
    address = netaddr.IPAddress(int(net.network) | (host & (net.size - 1)), net.version)
    text = address.format(netaddr.ipv6_verbose) if expanded and net.version == 6 else str(address)
    text = text.upper() if upper else text
    return f"{text}/{net.prefixlen}"


@settings(max_examples=400, deadline=None)
@given(version=st.sampled_from([4, 6]), value=st.integers(min_value=0), prefix=st.integers(0, 128),
       host=st.integers(min_value=0), upper=st.booleans(), expanded=st.booleans())
def test_agrees_with_netaddr(version, value, prefix, host, upper, expanded):
    bits = 32 if version == 4 else 128
    prefix %= bits + 1
    net = netaddr.IPNetwork((value % (1 << bits), prefix), version=version).cidr
    if version == 6 and (int(net.network) >> 32) == 0xffff:
        return  # IPv4-mapped: refused on purpose (Go reads it as IPv4)
    text = _text_forms(net, host, upper, expanded)
    oracle = netaddr.IPNetwork(text)
    parsed = parse_cidr(text)
    assert parsed is not None, text
    assert (parsed.version, parsed.first, parsed.prefixlen) == (
        oracle.version, int(oracle.network), oracle.prefixlen)
    assert parsed.masked == (oracle.ip == oracle.network)
    assert parsed.text == str(oracle.cidr)


@settings(max_examples=300, deadline=None)
@given(a=st.integers(0, 255), b=st.integers(0, 255), c=st.integers(0, 255), d=st.integers(0, 255),
       prefix=st.integers(0, 32))
def test_ipv4_fast_path_is_the_same_answer(a, b, c, d, prefix):
    text = f"{a}.{b}.{c}.{d}/{prefix}"
    assert _canonical_ipv4(text) == _parse(text)


@settings(max_examples=500, deadline=None)
@given(hextets=st.lists(st.sampled_from([0, 0, 0, 1, 0xffff, 0x1234]) | st.integers(0, 0xffff),
                        min_size=8, max_size=8))
def test_ip_text_is_netaddrs_text(hextets):
    value = 0
    for h in hextets:
        value = (value << 16) | h
    assert ip_text(value, 6) == str(netaddr.IPAddress(value, 6))
    assert ip_text(value & 0xffffffff, 4) == str(netaddr.IPAddress(value & 0xffffffff, 4))


@pytest.mark.parametrize("text", [
    "10.0.0.0/8", "010.0.0.0/8", "10.0.0.0/08", "+10.0.0.0/8", "1_0.0.0.0/8", " 10.0.0.0/8",
    "10.0.0.0/+8", "10.0.0.1/8", "256.0.0.0/8", "10.0.0.0/33", "10.0.0.0/-1", "-1.0.0.0/8",
    "10.0.0/8", "10.0.0.0.0/8", "10.0.0.0/", "fd00::/64"])
def test_fast_path_never_reads_odd_text_differently(text):
    # int() also takes " 1", "+1", "01", "1_0": the fast path must leave those
    # to the strict reading, never answer differently.
    assert _canonical_ipv4(text) in (None, _parse(text))


@pytest.mark.parametrize("text", ["fd00:10:244::/56", "v4-pool", "10.0.0.1", "fd00::1",
                                  "10.0.0.0/8/8", "10.01.0.0/16", "zz::/64"])
def test_parsing_leaves_no_reference_cycle(text):
    """netaddr keeps the exception it raises in a local of the raising frame; a
    refusal left behind would hold every caller's frame (and the loaded stacks)
    until a full collection, which on a fleet costs more than the checks."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        _parse.cache_clear()
        _cidr_of.cache_clear()
        parse_cidr(text)
        cidr_problem(text)
        assert gc.collect() == 0
    finally:
        if was_enabled:
            gc.enable()
