"""The progress line of a long cluster read: ``\\rreading <resource>: N`` on stderr.

Fed by a live source's ``on_progress(resource, count, done)`` callback. Shown
only on a terminal (piped output and CI logs get no carriage-return lines) and
only once the read has taken ``after`` seconds, so short reads stay silent.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import IO


@dataclass(frozen=True)
class ProgressLine:
    """Rewrites one stderr line per resource; ``done`` ends it with a newline."""

    stream: IO[str]
    after: float = 1.0
    started: float = field(default_factory=time.monotonic)

    def __call__(self, resource: str, count: int, done: bool) -> None:
        if time.monotonic() - self.started < self.after:  # short reads stay silent
            return
        end = "\n" if done else ""
        self.stream.write(f"\rreading {resource}: {count:,}{end}")
        self.stream.flush()


def progress_line(stream: IO[str] | None = None, after: float = 1.0) -> ProgressLine | None:
    """A progress line on *stream* (default: stderr), or None unless it is a terminal."""
    stream = stream or sys.stderr
    if not getattr(stream, "isatty", lambda: False)():
        return None
    return ProgressLine(stream, after)
