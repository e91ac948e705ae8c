"""Findings as GitHub workflow-command annotations, within GitHub's per-step limits."""
from __future__ import annotations

from ...core.model import Finding
from ..escape import (
    GITHUB_LEVEL,
    GITHUB_LEVELS,
    github_command,
    hidden_annotations_notice,
    limit_annotations,
)
from .report import FindingsReport

NAME = "github"
ORDER = 40

_WHERE_ALL = "The job summary (--format markdown) or SARIF lists them all."


def annotation(f: Finding, stack_files: dict[str, str]) -> str:
    """One finding on its file, line and column; a finding without a file of
    its own points at its stack's file and names the stack."""
    loc = f.location
    props: list[tuple[str, object]] = []
    file = loc.file or stack_files.get(f.stack or "")
    if file:
        props.append(("file", file))
        if loc.file and loc.line:
            props.append(("line", loc.line))
            if loc.column:
                props.append(("col", loc.column))
    props.append(("title", f"{f.rule} {f.name}"))
    message = f.message
    if not loc.file and f.stack:
        message = f"{f.stack}: {message}"
    return github_command(GITHUB_LEVEL[f.severity], props, message)


def render(report: FindingsReport) -> str:
    by_level = {level: [f for f in report.ordered if GITHUB_LEVEL[f.severity] == level]
                for level in GITHUB_LEVELS}
    shown, hidden = limit_annotations(by_level)
    stack_files = report.stack_files()
    lines = [annotation(f, stack_files) for level in GITHUB_LEVELS for f in shown[level]]
    notice = hidden_annotations_notice(hidden, _WHERE_ALL)
    if notice is not None:
        lines.append(notice)
    return "\n".join(lines) + ("\n" if lines else "")
