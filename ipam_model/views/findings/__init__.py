"""Findings for people and for CI: text, json, markdown, github and sarif.

Every format lists findings worst first. ``text`` is for a terminal,
``json`` for scripts (schema in docs/json-report.md), ``markdown`` for
``$GITHUB_STEP_SUMMARY``, ``github`` for workflow-command annotations and
``sarif`` for code-scanning upload. One report object (report.py) is built
once; each format is one module here that renders it, found by the registry.
Formatting is pure: the command decides where the text goes and whether it
may be coloured.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from ...catalogue import RULES
from ...core.errors import InputError
from ...core.model import Finding
from .. import registry
from ..utilisation import PoolRow
from .report import FindingsReport, StackGroup
from .text import finding_line

__all__ = ["FORMATS", "FindingsReport", "StackGroup", "format_findings", "format_input_error",
           "input_error_finding"]

# name -> render(FindingsReport): one module per format in this package.
FORMATS = registry.formats(__name__, __path__)


def format_findings(findings: Iterable[Finding], fmt: str, *, stacks: Sequence = (),
                    color: bool | None = None, pools: Sequence[PoolRow] = ()) -> str:
    """*findings* in format *fmt*. ``stacks`` (Stack objects or names) makes
    stacks without findings show up in the summaries; ``color`` only affects
    ``text`` and is off unless True; ``pools`` (utilisation rows) only
    ``markdown``."""
    render = FORMATS.get(fmt)
    if render is None:
        raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    return render(FindingsReport.build(findings, stacks, bool(color), pools))


def format_input_error(error: InputError, fmt: str) -> str:
    """A bad input file as a report: in ``github`` format an ``::error`` on the
    file and line, so the pull request shows it like any other finding."""
    finding = input_error_finding(error)
    if fmt == "text":  # the one line stderr shows, without a per-stack summary
        return finding_line(finding) + "\n"
    return format_findings([finding], fmt)


def input_error_finding(error: InputError) -> Finding:
    rule = RULES.get(error.rule) or RULES["CIP002"]
    loc = error.location
    message = f"{loc.yaml_path}: {error.message}" if loc.path else error.message
    return rule.finding(message, "stack/" + (loc.file or "<input>"), loc)
