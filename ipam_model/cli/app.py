"""``calico-ipam``: the command-line entry point.

The commands are a table (pip's ``commands_dict``, pip/_internal/commands/
__init__.py): name, module and one-line help. Only the module of the command
being run is imported, so ``calico-ipam check`` never pays for the cluster
reader, the simulator or the importer; ``calico-ipam --help`` imports none.
A command module declares ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int`` (tests/cli/test_app.py keeps the table and the modules in
step). Every failure the user can cause ends in one line on stderr and a
non-zero exit, never a traceback.
"""
from __future__ import annotations

import argparse
import atexit
import gc
import importlib
import os
import sys
from dataclasses import dataclass
from types import MappingProxyType

from ..core.errors import CalicoIpamError
from ..core.gc import paused_gc
from ..core.project import NAME as TOOL_NAME
from ..core.project import VERSION
from . import commands
from .color import add_color_argument
from .output import STDOUT_NAME, OutputError, output_error


@dataclass(frozen=True)
class CommandInfo:
    module: str        # under ipam_model.cli.commands
    summary: str       # the command's HELP, shown by calico-ipam --help
    error_exit: int | None = None  # exit code of every error when 2 is a result (ERROR_EXIT)
    # Runs with the cyclic collector paused: the command builds hundreds of
    # thousands of acyclic objects (blocks, findings, allocations, decoded API
    # pages) and each burst made the collector rescan all of them (simulate of
    # 550,000 pods: 20% of its time; snapshot of 1,000 nodes: a third); reference
    # counting frees them, and the process ends with the command.
    pause_gc: bool = False


# In the order --help lists them.
COMMANDS = MappingProxyType({
    "check": CommandInfo("check", "check stacks: Calico's IPPool rules, overlaps, address "
                                  "space, bindings, capacity", pause_gc=True),
    "render": CommandInfo("render", "print a stack's Calico objects and Namespace "
                                    "annotation patches as YAML"),
    "plan": CommandInfo("plan", "show what pulumi up would change in the cluster "
                                "(Terraform-style), with safety gates", error_exit=1,
                        pause_gc=True),
    "drift": CommandInfo("drift", "report what changed outside calico-ipam (exit 2 on drift), "
                                  "for scheduled CI", error_exit=1, pause_gc=True),
    "import": CommandInfo("import_", "write a stack file from a cluster, a snapshot or IPPool "
                                     "manifests"),
    "snapshot": CommandInfo("snapshot", "dump live Calico IPAM state (pools, blocks, "
                                        "affinities, namespaces, nodes) to a file",
                            pause_gc=True),
    "simulate": CommandInfo("simulate", "run the Calico IPAM model: blocks and addresses per "
                                        "node and pod", pause_gc=True),
})


def command_module(name: str):
    """The module of command *name*, imported now."""
    return importlib.import_module(f"{commands.__name__}.{COMMANDS[name].module}")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's usage errors: one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def _chosen(argv: list[str]) -> str | None:
    """The command named on the command line (the first word that is one)."""
    return next((word for word in argv if word in COMMANDS), None)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the command *argv* names gets its options (and its import)."""
    parser = _Parser(
        prog=TOOL_NAME,
        description="Declarative Calico IP pools: check, render, plan, drift, import, "
                    "snapshot and simulate per environment (Pulumi stack).")
    parser.add_argument("--version", action="version", version=f"{TOOL_NAME} {VERSION}")
    add_color_argument(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    chosen = _chosen(sys.argv[1:] if argv is None else argv)
    for name, info in COMMANDS.items():
        if name != chosen:
            sub.add_parser(name, help=info.summary, add_help=False)
            continue
        module = command_module(name)
        p = sub.add_parser(name, help=module.HELP,
                           description=getattr(module, "DESCRIPTION", module.HELP))
        module.add_arguments(p)
        add_color_argument(p, on_command=True)
        p.set_defaults(_run=_gc_paused(module.run) if info.pause_gc else module.run)
    return parser


def _gc_paused(run):
    """*run* with the cyclic garbage collector held off while it runs."""
    def paused(args):
        with paused_gc():
            return run(args)
    return paused


def _error_exit(command: str | None, default: int) -> int:
    """Commands whose exit 2 is a result (drift found, changes present) exit 1 on
    every error, so that no usage or input error can pass for that result."""
    info = COMMANDS.get(command or "")
    return info.error_exit if info is not None and info.error_exit is not None else default


def _print_error(command: str, exc: CalicoIpamError) -> None:
    """One line per problem: a stack file with three schema errors names all three."""
    for problem in getattr(exc, "problems", lambda: (exc,))():
        print(f"calico-ipam {command}: error: {problem}", file=sys.stderr)


class _GuardedStdout:
    """Standard output whose failures (a full device, a closed pipe, text it
    cannot encode) are an ``OutputError``: every command writes through it
    (its text or its ``buffer``), so none of them can end in a traceback over
    its output."""

    def __init__(self, stream):
        self._stream = stream

    @property
    def buffer(self) -> "_GuardedStdout":
        return _GuardedStdout(self._stream.buffer)

    def write(self, text) -> int:
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
    if argv is None:
        # Run as the program (the console script, python -m ipam_model): all
        # the command made ends with the process, and the interpreter's last
        # collections would only scan it (0.02-0.05 s after a snapshot). A caller
        # passing *argv* (a test) keeps its collector as it was.
        atexit.register(gc.freeze)
    argv = sys.argv[1:] if argv is None else list(argv)
    info = COMMANDS.get(_chosen(argv) or "")
    if info is None or not info.pause_gc:
        return _main(argv)
    # Paused from the start: importing a command's modules makes thousands of
    # long-lived objects that each collection would scan again. When it
    # resumes, what the command made is set aside first (frozen, then handed
    # to the oldest generation): resuming would otherwise begin with one
    # collection of every object made while paused (0.05 s after a snapshot),
    # just before the process ends.
    try:
        with paused_gc():
            try:
                return _main(argv)
            finally:
                gc.freeze()
    finally:
        gc.unfreeze()


def _main(argv: list[str]) -> int:
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse's usage errors exit 2
        if exc.code == 2:
            raise SystemExit(_error_exit(_chosen(argv), 2)) from None
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
        _print_error(args.command, exc)
        return _error_exit(args.command, exc.exit_code)
    except KeyboardInterrupt:
        print("calico-ipam: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout = real_stdout


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
