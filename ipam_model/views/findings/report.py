"""The one findings report every format renders: findings worst first, grouped by stack.

Built once from the findings and the stacks that were checked; each format
module (text, json, markdown, github, sarif) takes it and returns text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from ...core.model import Finding, Location, Severity, sort_findings
from ...core.words import severity_counts
from ..utilisation import PoolRow

TOOL_NAME = "calico-ipam"
# The group of findings that belong to no single stack.
NO_STACK = "all stacks"


@dataclass(frozen=True)
class StackGroup:
    """The findings of one stack (or of no stack) and their counts."""

    name: str
    file: str | None
    findings: tuple[Finding, ...]

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def counts(self) -> str:
        return severity_counts(*(self.count(s) for s in Severity))


@dataclass(frozen=True)
class FindingsReport:
    """``ordered``: every finding, worst first. ``groups``: per stack in the
    order checked, then other stacks by name, then the findings of no single
    stack. ``color``: ANSI colour, which only ``text`` uses."""

    ordered: tuple[Finding, ...]
    groups: tuple[StackGroup, ...]
    color: bool = False
    pools: tuple[PoolRow, ...] = ()   # utilisation per pool (markdown's table), when given

    @classmethod
    def build(cls, findings: Iterable[Finding], stacks: Sequence = (),
              color: bool = False, pools: Sequence[PoolRow] = ()) -> "FindingsReport":
        """*stacks* (Stack objects or names) makes stacks without findings show
        up in the summaries."""
        ordered = tuple(sort_findings(findings))
        return cls(ordered, tuple(_group(ordered, stacks)), color, tuple(pools))

    def total(self, severity: Severity) -> int:
        return sum(1 for f in self.ordered if f.severity is severity)

    def stack_files(self) -> dict[str, str]:
        """Stack name -> its file, for findings that carry no file of their own."""
        return {g.name: g.file for g in self.groups if g.file and g.name != NO_STACK}


def _stack_identity(stack) -> tuple[str, str | None]:
    if isinstance(stack, str):
        return stack, None
    return stack.name, getattr(stack, "file", None)


def _group(ordered: Sequence[Finding], stacks: Sequence) -> list[StackGroup]:
    """Groups in the order of *stacks*, then other stacks by name, then
    findings that belong to no single stack."""
    known = [_stack_identity(s) for s in stacks]
    names = [n for n, _ in known]
    files = dict(known)
    for f in ordered:
        if f.stack is not None and f.stack not in files:
            files[f.stack] = None
    extra = sorted(n for n in files if n not in names)
    by_stack: dict[str | None, list[Finding]] = {}
    for f in ordered:  # one pass: 200 stacks x 16,000 findings must not be 3.2 M tests
        by_stack.setdefault(f.stack, []).append(f)
    groups = []
    for name in names + extra:
        mine = tuple(by_stack.get(name, ()))
        file = files[name] or next((f.location.file for f in mine if f.location.file), None)
        groups.append(StackGroup(name, file, mine))
    orphans = tuple(by_stack.get(None, ()))
    if orphans:
        groups.append(StackGroup(NO_STACK, None, orphans))
    return groups


def where(loc: Location) -> str:
    """``file:line`` (or ``file: yaml.path`` when the line is unknown)."""
    if loc.file:
        if loc.line:
            return f"{loc.file}:{loc.line}"
        return f"{loc.file}: {loc.yaml_path}" if loc.path else loc.file
    return loc.yaml_path or ""
