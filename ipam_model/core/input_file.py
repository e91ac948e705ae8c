"""The one bounded reader of every input file.

Stack files, IPPool manifests, snapshots, kubeconfigs and token files are all
opened here, so every input gets the same refusals: a missing file, a
dangling symbolic link, a directory, a device, a socket or (unless the input
may legitimately be a pipe) a FIFO is one clear ``InputError`` naming the
file. Reading is bounded by bytes actually read, never by the size the file
system reports (a device or a /proc file reports 0), and never blocks
forever: a FIFO is opened without waiting for a writer, and a pipe that
sends nothing for ``PIPE_IDLE`` seconds is refused.

This is the only module of ``core`` that touches files (tests/test_architecture.py
names it an I/O edge): every package that reads input sits above ``core``,
so this is the one place they can share.
"""
from __future__ import annotations

import errno
import io
import os
import select
import stat
import time
from typing import BinaryIO

from .errors import CIP001, InputError
from .limits import INTEGER_DIGITS, PIPE_IDLE, Limit
from .rules import Rule

_CHUNK = 1 << 20
_DIGITS_TO_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_DIGIT_RUN = b"0" * (INTEGER_DIGITS.value + 1)


def printable_path(path: str | os.PathLike) -> str:
    """A path as messages and reports show it: bytes that are not UTF-8
    (which Python keeps as lone surrogates) become ``\\xff`` escapes, so the
    name can be printed, written to SARIF or JSON, and still recognised."""
    raw = os.fsencode(path)
    return raw.decode("utf-8", "backslashreplace")


def _refusal(path: str | os.PathLike, mode: int) -> str | None:
    """Why a file of this type is not read, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a file"
    return "is not a regular file"


def _open_error(path: str | os.PathLike, exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        if os.path.islink(path):
            return f"is a symbolic link to {printable_path(os.readlink(path))}, which does not exist"
        return "no such file"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EISDIR:
        return "is a directory, not a file"
    if exc.errno == errno.ELOOP:
        return "is a loop of symbolic links"
    if exc.errno == errno.ENOTDIR:
        return "no such file (a part of the path is not a directory)"
    return f"cannot be read: {exc.strerror or exc}"


class BoundedInput(io.RawIOBase):
    """A read-only binary stream over one opened input that refuses to go past
    *limit* bytes and, on a pipe, to wait longer than ``PIPE_IDLE`` for data."""

    def __init__(self, fd: int, *, limit: Limit, file: str, pipe: bool, rule: Rule):
        super().__init__()
        self._fd = fd
        self._limit = limit
        self._file = file
        self._pipe = pipe
        self._rule = rule
        self.count = 0
        # Whether the bytes read so far hold a run of more than INTEGER_DIGITS
        # ASCII digits: the JSON decoder looks for over-long integers only then
        # (a bytes scan as they arrive costs far less than one per value).
        self.long_digits = False
        # ... and whether they hold a \ud8xx-\udfxx escape (a surrogate).
        self.escapes = False
        self._tail = b""

    def readable(self) -> bool:
        return True

    def size_hint(self) -> int | None:
        """A regular file's size as the file system reports it (None for a pipe);
        a buffer size only: the bound is ``readinto``'s."""
        return None if self._pipe else os.fstat(self._fd).st_size

    def _wait(self) -> None:
        """On a pipe, wait for data (or its end) at most ``PIPE_IDLE`` seconds."""
        deadline = time.monotonic() + PIPE_IDLE.value
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise InputError(f"the pipe sent nothing for {PIPE_IDLE.text}; giving up",
                                 file=self._file, rule=self._rule)
            ready, _, _ = select.select([self._fd], [], [], left)
            if ready:
                return

    def readinto(self, buffer) -> int:
        want = min(len(buffer), self._limit.value + 1 - self.count)
        if want <= 0:
            self._too_large()
        while True:
            if self._pipe:
                self._wait()
            try:
                data = os.read(self._fd, want)
            except BlockingIOError:
                continue  # the pipe woke us without data; wait again
            except OSError as exc:
                raise InputError(f"cannot be read: {exc.strerror or exc}", file=self._file,
                                 rule=self._rule) from None
            break
        self.count += len(data)
        if self.count > self._limit.value:
            self._too_large()
        if data and not (self.long_digits and self.escapes):
            self._scan(data)
        buffer[:len(data)] = data
        return len(data)

    def _scan(self, data: bytes) -> None:
        """Note long digit runs and surrogate-like escapes in *data* (and
        across the boundary with the read before)."""
        edge = self._tail + data[:INTEGER_DIGITS.value + 2]  # what spans two reads
        if not self.long_digits:
            self.long_digits = _DIGIT_RUN in edge.translate(_DIGITS_TO_ZERO) or \
                _DIGIT_RUN in data.translate(_DIGITS_TO_ZERO)
        # a backslash is rare in Kubernetes JSON: one memchr rules escapes out
        if not self.escapes and (b"\\" in data or b"\\" in edge):
            self.escapes = any(e in edge or e in data for e in (b"\\ud", b"\\uD"))
        self._tail = data[-(INTEGER_DIGITS.value + 2):]

    def _too_large(self):
        raise InputError(f"is larger than {self._limit.text}, the limit for a "
                         f"{self._limit.name.split(' (')[0]}", file=self._file, rule=self._rule)

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def open_input(path: str | os.PathLike, *, limit: Limit, display: str | None = None,
               pipe: bool = False, rule: Rule = CIP001) -> BoundedInput:
    """Open one input for reading, or raise InputError saying why it cannot be.

    *pipe*: the input may be a pipe or FIFO (``--snapshot /dev/stdin``);
    anything else must be a regular file (after following symbolic links).
    """
    file = display or printable_path(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer that never comes.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(_open_error(path, exc), file=file, rule=rule) from None
    try:
        mode = os.fstat(fd).st_mode
        is_pipe = stat.S_ISFIFO(mode)
        problem = None if (pipe and is_pipe) else _refusal(path, mode)
    except OSError as exc:
        problem = f"cannot be read: {exc.strerror or exc}"
    if problem is not None:
        os.close(fd)
        raise InputError(problem, file=file, rule=rule)
    if not is_pipe:
        os.set_blocking(fd, True)
    return BoundedInput(fd, limit=limit, file=file, pipe=is_pipe, rule=rule)


def read_input(path: str | os.PathLike, *, limit: Limit, display: str | None = None,
               pipe: bool = False, rule: Rule = CIP001) -> bytes:
    """All bytes of one input (see ``open_input``), at most *limit* of them."""
    with open_input(path, limit=limit, display=display, pipe=pipe, rule=rule) as raw:
        chunks = []
        # A regular file's size is known: a buffer of that (and one byte more, to
        # see the end) instead of a megabyte zeroed for every small stack file.
        # The bound is readinto's, whatever the file claims.
        hint = raw.size_hint()
        # (at least 64 KiB: a /proc file says 0 and still has bytes)
        buffer = bytearray(_CHUNK if hint is None else min(_CHUNK, max(hint + 1, 1 << 16)))
        view = memoryview(buffer)
        while True:
            n = raw.readinto(buffer)
            if not n:
                return b"".join(chunks)
            chunks.append(bytes(view[:n]))


def text_stream(raw: BinaryIO) -> io.TextIOWrapper:
    """UTF-8 text over a bounded input; a byte-order mark at the start is dropped."""
    return io.TextIOWrapper(io.BufferedReader(raw, _CHUNK), encoding="utf-8-sig",
                            errors="strict", newline="")
