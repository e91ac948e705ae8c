"""Where command output goes: standard output, or a file written atomically.

The one atomic writer of the project: a report, a snapshot and an imported
stack file appear whole or not at all. The text goes to a temporary file
beside the target, which replaces the target only once everything was
written; on any failure the temporary file is removed and the target is
left as it was.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

from ..core.errors import UsageError


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, *, make_parents: bool = False) -> Iterator[IO[str]]:
    """A text file at *path* that appears whole or not at all."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if make_parents:
        directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_output(path: str | os.PathLike, text: str, *, make_parents: bool = False) -> None:
    """Write all of *text* or nothing: a half-written SARIF file fails the upload."""
    try:
        with atomic_file(path, make_parents=make_parents) as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write {os.fspath(path)}: {exc.strerror or exc}") from None
