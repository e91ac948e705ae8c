"""Errors that end a command with one clear line instead of a traceback.

``InputError`` means the user's input (a stack file, a snapshot, a manifest,
a command-line value) is wrong; ``ClusterError`` means reading the live
cluster failed. The CLI prints ``str(error)`` and exits 2 or 1 respectively;
the Pulumi program logs it and registers nothing.
"""
from __future__ import annotations

from .locate import YamlPath, format_yaml_path
from .model import Location
from .rules import E, Help, Rule, Scope

CIP001 = Rule("CIP001", "stack-file-unreadable", E,
              "The stack file cannot be read, is empty, too large or not YAML.",
              scope=Scope.INPUT,
              help=Help("Nothing in the file was checked: check, plan, render and pulumi up "
                        "stop before reading the stack, so a broken file can never pass for a "
                        "valid one.",
                        "Make the file UTF-8 YAML under 8 MiB whose top level is a `config:` "
                        "mapping; the error names the line where reading stopped."))
CIP002 = Rule("CIP002", "stack-schema", E,
              "A key or value does not match the stack-config schema (unknown key, wrong type).",
              scope=Scope.INPUT,
              help=Help("A misspelt or mistyped key is not applied: `blocksize: 29` would "
                        "silently leave Calico's default /26 blocks in place.",
                        "Use the key and type the message suggests (`blockSize: 29`, numbers "
                        "without quotes); the README's stack-config table lists every key."))
CIP003 = Rule("CIP003", "duplicate-key", E,
              "A YAML mapping repeats a key; the later value would silently win.",
              scope=Scope.INPUT,
              help=Help("YAML keeps only the last of two equal keys, so the first value (a "
                        "pool, a CIDR) would vanish without a word.",
                        "Keep one of the two entries, merging their fields if both were meant."))
CIP004 = Rule("CIP004", "yaml-unsafe", E,
              "YAML tags that construct objects, or alias expansion beyond the safe limit.",
              scope=Scope.INPUT,
              help=Help("Tags that construct objects build values nobody reviewed, and alias "
                        "expansion can turn a small file into gigabytes; a stack file is plain "
                        "data.",
                        "Write plain scalars, lists and mappings: drop custom tags such as "
                        "`!!python/...` and repeat values instead of nesting aliases or merge "
                        "keys."))



class CalicoIpamError(Exception):
    """Base class: ``str()`` is the one line shown to the user."""

    exit_code = 1


class InputError(CalicoIpamError):
    """Bad input: names the file, the YAML path and the line when known."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, path: YamlPath = (),
                 line: int | None = None, column: int | None = None, rule: Rule | str = CIP002,
                 also: tuple["InputError", ...] = ()):
        self.message = message
        self.location = Location(file, tuple(path), line, column)
        self.rule = rule.id if isinstance(rule, Rule) else rule  # the catalogued id
        self.also = tuple(also)  # further problems of the same file, in document order
        super().__init__(self.__str__())

    def problems(self) -> tuple["InputError", ...]:
        """This error and the file's other problems: every one is reported in one run."""
        return (self,) + self.also

    def __str__(self) -> str:
        where = ""
        if self.location.file:
            where = self.location.file
            if self.location.line:
                where += f":{self.location.line}"
                if self.location.column:
                    where += f":{self.location.column}"
            where += ": "
        path = format_yaml_path(self.location.path)
        return f"{where}{path + ': ' if path else ''}{self.message}"


class UsageError(CalicoIpamError):
    """A command-line mistake (unknown stack, conflicting flags)."""

    exit_code = 2


class ClusterError(CalicoIpamError):
    """Reading live state failed; no plan is ever built from partial data."""

    exit_code = 1
