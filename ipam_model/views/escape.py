"""Escaping for markdown and GitHub workflow commands, and GitHub's limits.

One implementation for every report (check's findings, plan and drift), so
that a message renders as text wherever it lands. Pure.
"""
from __future__ import annotations

import html
from typing import Mapping, Sequence, TypeVar

from ..core.model import Severity
from ..core.words import plural, severity_counts

# GitHub shows at most 10 annotations of each kind per step (actions/toolkit
# docs/problem-matchers.md "Limitations"); the rest would vanish silently.
GITHUB_ANNOTATIONS_PER_LEVEL = 10
# The workflow-command levels, worst first.
GITHUB_LEVELS = ("error", "warning", "notice")
# A finding's severity as the workflow command that shows it.
GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
# GitHub caps one step summary at 1024 KiB; stay clearly below it.
MARKDOWN_BUDGET_BYTES = 1_000_000

T = TypeVar("T")


# -- markdown -----------------------------------------------------------------

def markdown_cell(text: str) -> str:
    """Text that stays inside one GitHub table cell (or list item) and renders as text."""
    return (str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")
            .replace(">", "&gt;").replace("\r\n", "<br>").replace("\n", "<br>")
            .replace("\r", "<br>"))


def markdown_code(text: str) -> str:
    """*text* as a code span that stays inside one table cell."""
    # Inside a code span only the pipe needs escaping (GFM splits cells first).
    if not text:
        return ""
    if "`" in text:
        return markdown_cell(text)
    return "`" + text.replace("|", "\\|") + "`"


def html_text(text: str) -> str:
    """Text inside raw HTML (``<summary>``), where markdown escapes do not apply."""
    return html.escape(str(text), quote=False)


# -- GitHub workflow commands ---------------------------------------------------

def github_data(text: str) -> str:
    """Escape a workflow command's message (actions/toolkit ``escapeData``)."""
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """Escape a workflow command property value (``escapeProperty``): ``:``
    and ``,`` would end the value."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


def github_command(level: str, properties: Sequence[tuple[str, object]], message: str) -> str:
    """``::level key=value,...::message`` with every value and the message escaped."""
    props = ",".join(f"{key}={github_property(str(value))}" for key, value in properties)
    return f"::{level} {props}::{github_data(message)}"


def limit_annotations(by_level: Mapping[str, Sequence[T]], reserved_notices: int = 0
                      ) -> tuple[dict[str, list[T]], dict[str, int]]:
    """The annotations of each level GitHub will show, and how many are left out.

    At most ``GITHUB_ANNOTATIONS_PER_LEVEL`` per level. Notices the caller
    adds itself (``reserved_notices``, e.g. plan's summary) and the count
    notice written when anything is left out are notices too, so they come
    out of the notice budget: nothing the report prints is dropped by GitHub.
    """
    cap = GITHUB_ANNOTATIONS_PER_LEVEL
    caps = {level: cap for level in GITHUB_LEVELS}
    caps["notice"] = cap - reserved_notices
    if any(len(by_level.get(level, ())) > caps[level] for level in GITHUB_LEVELS):
        caps["notice"] -= 1
    shown = {level: list(by_level.get(level, ()))[:max(0, caps[level])] for level in GITHUB_LEVELS}
    hidden = {level: len(by_level.get(level, ())) - len(shown[level]) for level in GITHUB_LEVELS}
    return shown, hidden


def hidden_annotations_notice(hidden: Mapping[str, int], where: str) -> str | None:
    """The one notice that says how many annotations were left out and *where*
    to find them all; None when none were."""
    total = sum(hidden.values())
    if not total:
        return None
    detail = severity_counts(*(hidden.get(level, 0) for level in GITHUB_LEVELS))
    return github_command(
        "notice", [("title", "calico-ipam: findings not shown")],
        f"{plural(total, 'more finding')} not shown as annotations ({detail}); GitHub shows at "
        f"most {GITHUB_ANNOTATIONS_PER_LEVEL} per level and step. {where}")
