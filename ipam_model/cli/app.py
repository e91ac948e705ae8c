"""``calico-ipam``: the command-line entry point.

Each subcommand lives in its own module under ``ipam_model.commands`` and is
discovered here, so adding a command never edits this file. Every failure the
user can cause ends in one line on stderr and a non-zero exit, never a
traceback.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from ..core.errors import CalicoIpamError
from . import commands


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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse's usage errors exit 2
        words = [a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")]
        if exc.code == 2:
            raise SystemExit(_error_exit(words[0] if words else None, 2)) from None
        raise
    try:
        return int(args._run(args) or 0)
    except CalicoIpamError as exc:
        print(f"calico-ipam {args.command}: error: {exc}", file=sys.stderr)
        return _error_exit(args.command, exc.exit_code)
    except KeyboardInterrupt:
        print("calico-ipam: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
