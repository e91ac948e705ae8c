"""Errors that end a command with one clear line instead of a traceback.

``InputError`` means the user's input (a stack file, a snapshot, a manifest,
a command-line value) is wrong; ``ClusterError`` means reading the live
cluster failed. The CLI prints ``str(error)`` and exits 2 or 1 respectively;
the Pulumi program logs it and registers nothing.
"""
from __future__ import annotations

from .locate import YamlPath, format_yaml_path
from .model import Location
from .rules import E, Rule, Scope

CIP001 = Rule("CIP001", "stack-file-unreadable", E,
              "The stack file cannot be read, is empty, too large or not YAML.",
              scope=Scope.INPUT)
CIP002 = Rule("CIP002", "stack-schema", E,
              "A key or value does not match the stack-config schema (unknown key, wrong type).",
              scope=Scope.INPUT)
CIP003 = Rule("CIP003", "duplicate-key", E,
              "A YAML mapping repeats a key; the later value would silently win.",
              scope=Scope.INPUT)
CIP004 = Rule("CIP004", "yaml-unsafe", E,
              "YAML tags that construct objects, or alias expansion beyond the safe limit.",
              scope=Scope.INPUT)



class CalicoIpamError(Exception):
    """Base class: ``str()`` is the one line shown to the user."""

    exit_code = 1


class InputError(CalicoIpamError):
    """Bad input: names the file, the YAML path and the line when known."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, path: YamlPath = (),
                 line: int | None = None, column: int | None = None, rule: Rule | str = CIP002):
        self.message = message
        self.location = Location(file, tuple(path), line, column)
        self.rule = rule.id if isinstance(rule, Rule) else rule  # the catalogued id
        super().__init__(self.__str__())

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
