"""Findings for a terminal: one line per finding, a summary line per stack."""
from __future__ import annotations

from ...core.model import Finding, Severity
from ...core.words import severity_counts
from .report import FindingsReport, where

NAME = "text"
ORDER = 10

_WORD = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_ANSI = {Severity.ERROR: "\033[1;31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}
_ANSI_BOLD, _ANSI_RESET = "\033[1m", "\033[0m"


def finding_line(f: Finding, color: bool = False) -> str:
    """One finding on one line, whatever its message holds."""
    word = _WORD[f.severity]
    if color:
        word = f"{_ANSI[f.severity]}{word}{_ANSI_RESET}"
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
        name = f"{_ANSI_BOLD}{group.name}{_ANSI_RESET}" if color else group.name
        lines.append(f"{name}: {group.counts()}")
    if len(report.groups) > 1:
        total = [sum(g.count(s) for g in report.groups) for s in Severity]
        lines.append(f"total: {severity_counts(*total)}")
    return "\n".join(lines) + "\n"
