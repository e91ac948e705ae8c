"""Findings for ``$GITHUB_STEP_SUMMARY``: a table of stacks, then one of findings."""
from __future__ import annotations

from ...core.model import Finding, Severity
from ..escape import (
    MARKDOWN_BUDGET_BYTES,
    markdown_cell,
    markdown_code,
    plural,
    severity_counts,
)
from ..utilisation import markdown_table
from .report import NO_STACK, FindingsReport, where

NAME = "markdown"
ORDER = 30

_ICON = {Severity.ERROR: "❌ error", Severity.WARNING: "⚠️ warning", Severity.INFO: "ℹ️ note"}
_RESERVE = 300  # room for the "not shown" line


def _head(report: FindingsReport) -> list[str]:
    totals = [report.total(s) for s in Severity]
    verdict = "❌" if totals[0] else "✅"
    head = [f"## {verdict} calico-ipam check: {severity_counts(*totals)}", "",
            "| Stack | File | Errors | Warnings | Notes |", "|---|---|--:|--:|--:|"]
    for g in report.groups:
        head.append(f"| {markdown_cell(g.name)} | {markdown_code(g.file or '')} | "
                    f"{g.count(Severity.ERROR)} | {g.count(Severity.WARNING)} | "
                    f"{g.count(Severity.INFO)} |")
    return head


def _row(f: Finding) -> str:
    return (f"| {_ICON[f.severity]} | {markdown_cell(f.stack or NO_STACK)} | "
            f"{f.rule} {markdown_cell(f.name)} | {markdown_code(where(f.location))} | "
            f"{markdown_cell(f.message)} |\n")


def _not_shown(left: tuple[Finding, ...]) -> str:
    counts = severity_counts(*[sum(x.severity is s for x in left) for s in Severity])
    return (f"\n{plural(len(left), 'more finding')} not shown ({counts}) "
            "to keep the summary under GitHub's 1 MiB limit; "
            "`calico-ipam check --format json` lists them all.\n")


def _utilisation(report: FindingsReport) -> list[str]:
    """Per pool, the declared load in Calico's model (the forecast): blocks,
    used / stranded / free addresses and when the pool runs out."""
    if not report.pools:
        return []
    return ["", "### Pool utilisation (forecast of the declared load)", "",
            *markdown_table(report.pools, stacks=True, note="Runs out after")]


def render(report: FindingsReport) -> str:
    head = _head(report) + _utilisation(report)
    if not report.ordered:
        return "\n".join(head) + "\n\nNo findings.\n"
    if report.pools:
        head += ["", "### Findings"]
    head += ["", "| Severity | Stack | Rule | Location | Message |", "|---|---|---|---|---|"]
    text = "\n".join(head) + "\n"
    size = len(text.encode())
    rows = []
    for index, f in enumerate(report.ordered):
        row = _row(f)
        cost = len(row.encode())
        if size + cost + _RESERVE > MARKDOWN_BUDGET_BYTES:
            rows.append(_not_shown(report.ordered[index:]))
            break
        rows.append(row)
        size += cost
    return text + "".join(rows)
