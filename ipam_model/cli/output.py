"""Where command output goes: standard output, or a file written atomically.

The one atomic writer of the project: a report, a snapshot and an imported
stack file appear whole or not at all. The text goes to a temporary file
beside the target, which replaces the target only once everything was
written; on any failure (a full disk, an unwritable directory, a parent that
is a file, text that cannot be encoded) the temporary file is removed, the
target is left as it was, and the failure is one ``OutputError`` line.

A symbolic link is written through: the file it points to gets the new text
and the link stays a link. A target that is not a regular file (``/dev/null``,
``/dev/stdout``, a FIFO) is written in place, never replaced. An existing file keeps its permission bits; a new
one gets the ones the umask allows (``mkstemp``'s 0600 would hide a report
from the CI user that uploads it). ``-`` means standard output.
"""
from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import IO, Iterator

from ..core.errors import CalicoIpamError
from ..core.input_file import printable_path

STDOUT = "-"
STDOUT_NAME = "to standard output"


class OutputError(CalicoIpamError):
    """An output could not be written (exit 2, 1 for plan and drift); the
    target is unchanged."""

    exit_code = 2

    def __init__(self, message: str, *, to_stdout: bool = False):
        super().__init__(message)
        self.to_stdout = to_stdout  # standard output itself failed


def _why(exc: BaseException) -> str:
    """An OSError or encoding error in words, without a traceback's detail."""
    if isinstance(exc, UnicodeError):
        return "the text holds characters that cannot be written as UTF-8"
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            return "no space left on the device"
        if exc.errno == errno.ENOTDIR:
            return "a part of the path is a file, not a directory"
        if exc.errno in (errno.EACCES, errno.EPERM):
            return "permission denied"
        if exc.errno == errno.EROFS:
            return "the file system is read-only"
        if exc.errno == errno.EISDIR:
            return "it is a directory"
        if exc.errno == errno.EPIPE:
            return "the reading end of the pipe was closed"
        return exc.strerror or type(exc).__name__
    return type(exc).__name__


def output_error(what: str, exc: BaseException) -> OutputError:
    """The one line for an output that failed (*what*: the file, as shown)."""
    return OutputError(f"cannot write {what}: {_why(exc)}", to_stdout=what == STDOUT_NAME)


def real_target(path: str | os.PathLike) -> Path:
    """The file *path* stands for: a symbolic link's final target (which may
    not exist yet), so the link itself is never replaced."""
    target = Path(path)
    if target.is_symlink():
        return Path(os.path.realpath(target))
    return target


def _new_file_mode() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, *, make_parents: bool = False) -> Iterator[IO[str]]:
    """A text file at *path* that appears whole or not at all; any failure is
    an ``OutputError`` naming *path*, with no temporary file left behind."""
    shown = printable_path(path)
    tmp = None
    try:
        target = real_target(path)
        directory = target.parent if str(target.parent) else Path(".")
        if make_parents:
            directory.mkdir(parents=True, exist_ok=True)
        try:
            status = os.stat(target)
        except FileNotFoundError:
            status = None
        if status is not None and stat.S_ISDIR(status.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory")
        if status is not None and not stat.S_ISREG(status.st_mode):
            # /dev/null, /dev/stdout, a FIFO: written in place; replacing one
            # with a regular file would destroy the device node
            with open(target, "w", encoding="utf-8") as fh:
                yield fh
            return
        mode = stat.S_IMODE(status.st_mode) if status is not None else _new_file_mode()
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), mode)
            yield fh
        os.replace(tmp, target)
        tmp = None
    except (OSError, UnicodeError) as exc:
        raise output_error(shown, exc) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def write_stdout(text: str) -> None:
    """*text* on standard output, flushed: a full device or a closed pipe is
    an ``OutputError``, never a traceback."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except (OSError, UnicodeError, ValueError) as exc:
        raise output_error(STDOUT_NAME, exc) from None


def write_output(path: str | os.PathLike, text: str, *, make_parents: bool = False) -> None:
    """Write all of *text* or nothing: a half-written SARIF file fails the upload.
    ``-`` is standard output."""
    if os.fspath(path) == STDOUT:
        write_stdout(text)
        return
    with atomic_file(path, make_parents=make_parents) as fh:
        fh.write(text)
