"""``calico-ipam``: the command-line entry point.

Each subcommand lives in its own module under ``ipam_model.commands`` and is
discovered here, so adding a command never edits this file. Every failure the
user can cause ends in one line on stderr and a non-zero exit, never a
traceback.
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from ..core.errors import CalicoIpamError
from . import commands
from .output import STDOUT_NAME, OutputError, output_error


def _command_modules():
    mods = []
    for info in pkgutil.iter_modules(commands.__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{commands.__name__}.{info.name}")
        if hasattr(mod, "run") and hasattr(mod, "NAME"):
            mods.append(mod)
    return sorted(mods, key=lambda m: (getattr(m, "ORDER", 100), m.NAME))


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's usage errors: one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="calico-ipam",
        description="Declarative Calico IP pools: check, render, plan, drift, import, "
                    "snapshot and simulate per environment (Pulumi stack).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for mod in _command_modules():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP))
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def _error_exit(command: str | None, default: int) -> int:
    """Commands whose exit 2 is a result (drift found, changes present) set
    ERROR_EXIT = 1, so that no usage or input error can pass for that result."""
    for mod in _command_modules():
        if mod.NAME == command:
            return getattr(mod, "ERROR_EXIT", default)
    return default


class _GuardedStdout:
    """Standard output whose failures (a full device, a closed pipe, text it
    cannot encode) are an ``OutputError``: every command writes through it,
    so none of them can end in a traceback over its output."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except (OSError, UnicodeError, ValueError) as exc:
            raise output_error(STDOUT_NAME, exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except (OSError, ValueError) as exc:
            raise output_error(STDOUT_NAME, exc) from None

    def __getattr__(self, name):  # isatty, fileno, encoding, ...
        return getattr(self._stream, name)


def _silence_stdout(stream) -> None:
    """After the process's stdout failed, the interpreter's own flush at exit
    must not print a second error: point the descriptor at /dev/null (Python's
    documented recipe for SIGPIPE). A stream a caller put in place of stdout
    (a test's capture) is left alone."""
    if stream is not sys.__stdout__:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
    except (OSError, AttributeError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse's usage errors exit 2
        words = [a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")]
        if exc.code == 2:
            raise SystemExit(_error_exit(words[0] if words else None, 2)) from None
        raise
    real_stdout = sys.stdout
    sys.stdout = _GuardedStdout(real_stdout)
    try:
        code = int(args._run(args) or 0)
        sys.stdout.flush()
        return code
    except CalicoIpamError as exc:
        if isinstance(exc, OutputError) and exc.to_stdout:
            _silence_stdout(real_stdout)
        print(f"calico-ipam {args.command}: error: {exc}", file=sys.stderr)
        return _error_exit(args.command, exc.exit_code)
    except KeyboardInterrupt:
        print("calico-ipam: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout = real_stdout


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
