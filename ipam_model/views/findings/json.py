"""Findings for scripts; the schema is in docs/json-report.md."""
from __future__ import annotations

import msgspec

from ...core.model import Severity
from .report import NO_STACK, TOOL_NAME, FindingsReport

NAME = "json"
ORDER = 20
JSON_REPORT_VERSION = 1


def render(report: FindingsReport) -> str:
    document = {
        "version": JSON_REPORT_VERSION,
        "tool": TOOL_NAME,
        "summary": {
            "errors": report.total(Severity.ERROR),
            "warnings": report.total(Severity.WARNING),
            "infos": report.total(Severity.INFO),
            "stacks": [{"name": g.name, "file": g.file, "errors": g.count(Severity.ERROR),
                        "warnings": g.count(Severity.WARNING), "infos": g.count(Severity.INFO)}
                       for g in report.groups if g.name != NO_STACK],
        },
        "findings": [f.to_dict() for f in report.ordered],
    }
    # msgspec's C encoder: 200 stacks give a report of 10,000+ findings.
    return msgspec.json.format(msgspec.json.encode(document), indent=2).decode() + "\n"
