"""Findings for a terminal: one line per finding, a summary line per stack."""
from __future__ import annotations

from ...core.model import Finding, Severity
from ...core.words import severity_counts
from ..style import ANSI, PLAIN
from .report import FindingsReport, where

NAME = "text"
ORDER = 10

_WORD = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def finding_line(f: Finding, color: bool = False) -> str:
    """One finding on one line, whatever its message holds."""
    word = (ANSI if color else PLAIN).severity(f.severity, _WORD[f.severity])
    location = where(f.location)
    message = f.message.replace("\r", " ").replace("\n", " ")
    return f"{location + ': ' if location else ''}{word} {f.rule} {f.name}: {message}"


def render(report: FindingsReport) -> str:
    color = report.color
    lines: list[str] = []
    for group in report.groups:
        if group.findings and lines:
            lines.append("")
        lines.extend(finding_line(f, color) for f in group.findings)
        name = (ANSI if color else PLAIN).bold(group.name)
        lines.append(f"{name}: {group.counts()}")
    if len(report.groups) > 1:
        total = [sum(g.count(s) for g in report.groups) for s in Severity]
        lines.append(f"total: {severity_counts(*total)}")
    return "\n".join(lines) + "\n"
