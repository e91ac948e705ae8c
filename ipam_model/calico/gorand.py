"""Go's ``math/rand`` and FNV-1, bit for bit: the block a Calico node tries first.

Calico picks the first block a node claims in a pool with
``randomBlockGenerator`` (libcalico-go ``ipam_block_reader_writer.go``): the
FNV-1 32-bit hash (``hash/fnv.New32``, not FNV-1a) of the node name seeds
``rand.New(rand.NewSource(seed))``, ``big.Int.Rand`` draws a start index in
``[0, numBlocks)`` and the walk then goes sequentially with wrap-around
(reference calico-ipam-allocation.md §2.1). Go promises that a seeded
``math/rand`` stream never changes, so reproducing it here gives Calico's
exact choice.

Blocks of a single address (/32, /128) are the exception: Calico seeds them
with the current time, so their order is not deterministic in a real
cluster. ``block_walk`` still uses the FNV seed for them (so the simulator is
repeatable) and ``walk_is_deterministic`` says when Calico would differ.
"""
from __future__ import annotations

import functools
from typing import Iterator

import netaddr

from ..data import load_json

_MASK64 = (1 << 64) - 1
_INT32_MAX = (1 << 31) - 1  # Go's int32max, the seedrand modulus 2^31 - 1
_SEEDRAND_A = 48271
_FNV32_OFFSET = 2166136261
_FNV32_PRIME = 16777619


@functools.lru_cache(maxsize=1)
def _seed_table() -> tuple[int, int, tuple[int, ...]]:
    """(rngLen, rngTap, rngCooked) from the packaged copy of Go's rng.go table."""
    data = load_json("go_math_rand_rngcooked.json")
    cooked = tuple(int(v) & _MASK64 for v in data["rngCooked"])
    if len(cooked) != data["rngLen"]:
        raise ValueError("go_math_rand_rngcooked.json: rngCooked length differs from rngLen")
    return int(data["rngLen"]), int(data["rngTap"]), cooked


def fnv1_32(data: bytes | str) -> int:
    """FNV-1 32-bit (multiply, then XOR), as Go's ``hash/fnv.New32``."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    h = _FNV32_OFFSET
    for byte in data:
        h = (h * _FNV32_PRIME) & 0xFFFFFFFF
        h ^= byte
    return h


def _normalise_seed(seed: int) -> int:
    """Go's rngSource.Seed: seed mod (2^31-1), negatives wrapped, 0 -> 89482311."""
    seed = int(seed)
    # Go's % truncates toward zero; emulate it before the sign fix-up.
    rem = abs(seed) % _INT32_MAX
    seed = -rem if seed < 0 else rem
    if seed < 0:
        seed += _INT32_MAX
    if seed == 0:
        seed = 89482311
    return seed


class GoRandSource:
    """Go's ``rngSource`` (additive lagged Fibonacci, 607 words, tap 273)."""

    __slots__ = ("_vec", "_tap", "_feed", "_len")

    def __init__(self, seed: int):
        rng_len, rng_tap, cooked = _seed_table()
        self._len = rng_len
        self._tap = 0
        self._feed = rng_len - rng_tap
        x = _normalise_seed(seed)
        vec = [0] * rng_len
        for i in range(-20, rng_len):
            x = (_SEEDRAND_A * x) % _INT32_MAX
            if i >= 0:
                u = (x << 40) & _MASK64
                x = (_SEEDRAND_A * x) % _INT32_MAX
                u ^= (x << 20) & _MASK64
                x = (_SEEDRAND_A * x) % _INT32_MAX
                u ^= x
                u ^= cooked[i]
                vec[i] = u
        self._vec = vec

    def uint64(self) -> int:
        self._tap -= 1
        if self._tap < 0:
            self._tap += self._len
        self._feed -= 1
        if self._feed < 0:
            self._feed += self._len
        x = (self._vec[self._feed] + self._vec[self._tap]) & _MASK64
        self._vec[self._feed] = x
        return x

    def int63(self) -> int:
        return self.uint64() & ((1 << 63) - 1)

    def uint32(self) -> int:
        """``rand.Rand.Uint32``: the top 32 of Int63's 63 bits."""
        return self.int63() >> 31


class _JumpAheadSource:
    """The same stream as ``GoRandSource`` without seeding all 607 words.

    Word ``i`` of the seeded vector only depends on three terms of the
    Lehmer sequence x_n = 48271^n * seed mod (2^31-1), which ``pow`` reaches
    directly. The first 273 draws read untouched seed words
    (vec[333-k] + vec[606-k]), so those draws need 6 words each instead of
    the full 1,841-step seeding; beyond that we fall back to the full source.
    Calico needs one or two draws per (node, pool), which is why this matters
    for a 5,000-node simulation.
    """

    __slots__ = ("_seed", "_draws", "_full")

    def __init__(self, seed: int):
        self._seed = _normalise_seed(seed)
        self._draws = 0
        self._full: GoRandSource | None = None

    def _word(self, i: int) -> int:
        _, _, cooked = _seed_table()
        n = 21 + 3 * i
        s = self._seed
        x1 = (pow(_SEEDRAND_A, n, _INT32_MAX) * s) % _INT32_MAX
        x2 = (_SEEDRAND_A * x1) % _INT32_MAX
        x3 = (_SEEDRAND_A * x2) % _INT32_MAX
        return (((x1 << 40) & _MASK64) ^ ((x2 << 20) & _MASK64) ^ x3 ^ cooked[i])

    def uint32(self) -> int:
        rng_len, rng_tap, _ = _seed_table()
        k = self._draws
        self._draws += 1
        if self._full is None and k < rng_tap:
            feed = rng_len - rng_tap - 1 - k
            tap = rng_len - 1 - k
            value = (self._word(feed) + self._word(tap)) & _MASK64
            return (value & ((1 << 63) - 1)) >> 31
        if self._full is None:
            self._full = GoRandSource(self._seed)
            for _ in range(k):
                self._full.uint64()
        return self._full.uint32()


def big_int_rand(source, n: int) -> int:
    """Go's ``new(big.Int).Rand(rnd, n)`` on a 64-bit platform.

    Each attempt fills the words of ``n`` low word first with
    ``Uint32() | Uint32() << 32``, masks the top word to ``bitlen(n)`` bits
    and rejects values >= n.
    """
    if n <= 0:
        return 0
    words = (n.bit_length() + 63) // 64
    top_bits = n.bit_length() % 64 or 64
    top_mask = (1 << top_bits) - 1
    while True:
        value = 0
        for w in range(words):
            lo = source.uint32()
            hi = source.uint32()
            word = lo | (hi << 32)
            if w == words - 1:
                word &= top_mask
            value |= word << (64 * w)
        if value < n:
            return value


def walk_is_deterministic(block_size: int, version: int = 4) -> bool:
    """False for /32 and /128 blocks: Calico seeds their walk with the time."""
    return block_size != (32 if version == 4 else 128)


@functools.lru_cache(maxsize=65536)
def walk_start(node: str, num_blocks: int) -> int:
    """The index of the first block ``node`` tries in a pool of ``num_blocks`` blocks."""
    return big_int_rand(_JumpAheadSource(fnv1_32(node)), num_blocks)


def _pool_geometry(pool_cidr: str, block_size: int) -> tuple[netaddr.IPNetwork, int, int]:
    network = netaddr.IPNetwork(pool_cidr)
    width = 32 if network.version == 4 else 128
    if not network.prefixlen <= block_size <= width:
        raise ValueError(f"block size /{block_size} does not fit pool {pool_cidr}")
    return network, 1 << (block_size - network.prefixlen), 1 << (width - block_size)


def block_walk_indices(pool_cidr: str, block_size: int, node: str) -> Iterator[int]:
    """Block indices in the order ``node`` probes them (each index once)."""
    _, num_blocks, _ = _pool_geometry(pool_cidr, block_size)
    start = walk_start(node, num_blocks)
    yield from range(start, num_blocks)
    yield from range(0, start)


def block_walk(pool_cidr: str, block_size: int, node: str) -> Iterator[str]:
    """Block CIDRs (``"172.16.0.32/29"``) in Calico's probe order for ``node``."""
    network, _, block_addresses = _pool_geometry(pool_cidr, block_size)
    base = int(network.network)
    version = network.version
    for index in block_walk_indices(pool_cidr, block_size, node):
        ip = netaddr.IPAddress(base + index * block_addresses, version)
        yield f"{ip}/{block_size}"
