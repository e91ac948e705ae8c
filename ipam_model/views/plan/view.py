"""The plan view: a Plan and the mode it is shown in (plan or drift).

The mode is an input of every renderer, as in Terraform's plan views
(internal/command/views/plan.go; jsonformat/plan.go RefreshOnlyMode): drift
mode writes its own heading and summary; nothing rewrites a rendered plan.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from ...core.live_state import LiveState
from ...core.model import Stack
from ...core.words import plural
from ...plan.model import Action, Plan


class Mode(enum.Enum):
    PLAN = "plan"    # calico-ipam plan: what pulumi up would change
    DRIFT = "drift"  # calico-ipam drift: what changed outside calico-ipam


def unchanged_counts(plan: Plan) -> str | None:
    """``2 pools (1 in use) and 2 namespace bindings``: what the plan leaves as it is."""
    pools = [c for c in plan.pools if c.action is Action.NOOP]
    namespaces = sum(1 for c in plan.namespaces if c.action is Action.NOOP)
    parts = []
    if pools:
        in_use = sum(1 for c in pools if c.usage.in_use)
        parts.append(plural(len(pools), "pool") + (f" ({in_use} in use)" if in_use else ""))
    if namespaces:
        parts.append(plural(namespaces, "namespace binding"))
    return " and ".join(parts) or None


def summary_line(plan: Plan) -> str:
    """The plan's verdict, Terraform's "Plan: 1 to add, ..." line; with no
    changes, what matches (a count, not a line per pool)."""
    if not plan.has_changes:
        if plan.errors:  # pools that fail check are left out: nothing can match them
            return "No changes planned."
        counts = unchanged_counts(plan)
        return (f"No changes. The cluster matches stack {plan.stack}"
                + (f": {counts} unchanged." if counts else "."))
    s = plan.summary
    text = f"Plan: {s['add']} to add, {s['change']} to change, {s['destroy']} to destroy"
    if s["forget"]:
        text += f", {s['forget']} to forget"
    return text + "."


def drift_count(plan: Plan) -> int:
    """Objects changed outside calico-ipam; a bound namespace that disappeared
    (the plan's CIP605) is drift too."""
    return len(plan.drift) + len(plan.findings)


@dataclass(frozen=True)
class PlanView:
    """``color``: Terraform's colours in text; ``show_unchanged``: list every
    unchanged pool in use (``--show-unchanged``) instead of counting them."""

    plan: Plan
    mode: Mode = Mode.PLAN
    color: bool = False
    show_unchanged: bool = False
    # What the plan was made from, for the views that draw the address space
    # (html; markdown's utilisation table): the live blocks and the stack.
    live: LiveState | None = None
    stack: Stack | None = None

    @property
    def title(self) -> str:
        """``calico-ipam plan`` or ``calico-ipam drift``: the heading's command."""
        return f"calico-ipam {self.mode.value}"

    @property
    def summary(self) -> str:
        """The one-line verdict that ends the text, leads the markdown and is
        the final GitHub notice."""
        if self.mode is Mode.PLAN:
            return summary_line(self.plan)
        count = drift_count(self.plan)
        if not count:
            return f"No drift. The cluster matches stack {self.plan.stack}."
        return f"Drift: {plural(count, 'object')} changed outside calico-ipam."

    @property
    def status(self) -> str:
        """The markdown heading's word in parentheses."""
        if self.mode is Mode.DRIFT:
            return "drift" if drift_count(self.plan) else "no drift"
        if self.plan.errors:
            return "refused"
        return "changes" if self.plan.has_changes else "no changes"

    @property
    def refusal(self) -> str | None:
        """Why pulumi up would stop (plan mode only: drift applies nothing)."""
        errors = self.plan.errors
        if self.mode is Mode.DRIFT or not errors:
            return None
        return (f"Refused: {plural(len(errors), 'error')}; pulumi up would stop before "
                "changing anything.")
