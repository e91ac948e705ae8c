"""Whether output is coloured: on a terminal only, never when asked not to.

Colour as Terraform uses it (green create, yellow update, red destroy and
errors; the palette is ``views.style``) and only when standard output is a
terminal. Never with ``--no-color`` (every command takes it, before or after
the command name, as ``terraform plan -no-color``), when ``NO_COLOR`` is set
to anything but the empty string (no-color.org), or when ``TERM=dumb``.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import IO

from ..views.style import ANSI, PLAIN, Style


def add_color_argument(parser: argparse.ArgumentParser, *, on_command: bool = False) -> None:
    # On a command, SUPPRESS keeps an omitted flag from resetting one given before it.
    parser.add_argument("--no-color", action="store_true",
                        default=argparse.SUPPRESS if on_command else False,
                        help="never colour the output (also: NO_COLOR set, TERM=dumb, or "
                             "output that is not a terminal)")


def color_enabled(args: argparse.Namespace | None = None, stream: IO[str] | None = None) -> bool:
    """True when output to *stream* (default: stdout) may carry ANSI colour."""
    stream = sys.stdout if stream is None else stream
    if args is not None and getattr(args, "no_color", False):
        return False
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def style_for(args: argparse.Namespace | None = None, stream: IO[str] | None = None) -> Style:
    """The palette for output to *stream*: ANSI colour or plain text."""
    return ANSI if color_enabled(args, stream) else PLAIN
