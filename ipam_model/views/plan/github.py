"""A plan (or the drift report) as GitHub workflow annotations, ending with its summary.

Within GitHub's limits as check's annotations are (views/escape.py): at most
10 per level, and the count notice and the summary notice count as notices.
"""
from __future__ import annotations

from ...core.model import Finding
from ...plan.model import Plan
from ..escape import (
    GITHUB_LEVEL,
    GITHUB_LEVELS,
    github_command,
    hidden_annotations_notice,
    limit_annotations,
)
from .migration import migration_text
from .view import PlanView

NAME = "github"
ORDER = 40

_WHERE_ALL = "The job summary (--format markdown) lists them all."


def _by_level(plan: Plan) -> dict[str, list[Finding]]:
    """The plan's findings per level; a drift item's finding is a warning."""
    groups: dict[str, list[Finding]] = {level: [] for level in GITHUB_LEVELS}
    for f in plan.all_findings:
        groups[GITHUB_LEVEL[f.severity]].append(f)
    for d in plan.drift:
        if d.finding is not None and d.finding not in groups["warning"]:
            groups["warning"].append(d.finding)
    return groups


def _annotation(level: str, f: Finding, plan: Plan) -> str:
    """A finding on its file and line; a gate's message carries its migration."""
    props: list[tuple[str, object]] = []
    if f.location.file:
        props.append(("file", f.location.file))
        if f.location.line:
            props.append(("line", f.location.line))
    props.append(("title", f"{f.rule} {f.name}"))
    message = f.message
    migration = plan.migration_for(f)
    if migration is not None:
        message += "\n" + migration_text(migration, "")
    return github_command(level, props, message)


def render(view: PlanView) -> str:
    plan = view.plan
    shown, hidden = limit_annotations(_by_level(plan), reserved_notices=1)
    lines = [_annotation(level, f, plan) for level in GITHUB_LEVELS for f in shown[level]]
    notice = hidden_annotations_notice(hidden, _WHERE_ALL)
    if notice is not None:
        lines.append(notice)
    lines.append(github_command("notice", [("title", f"{view.title} {plan.stack}")],
                                view.summary))
    return "\n".join(lines) + "\n"
