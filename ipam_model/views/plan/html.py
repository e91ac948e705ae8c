"""A plan (or the drift report) as one self-contained HTML page: the live
address space, pool by pool, with the plan's changes on top (views/html/plan.py).

It needs what the plan was made from: ``PlanView.live`` (the blocks) and,
for the forecast and node groups, ``PlanView.stack``.
"""
from __future__ import annotations

from ...rules.forecast import forecast
from ..html.model import Reservation
from ..html.plan import plan_page
from .view import PlanView

NAME = "html"
ORDER = 50


def render(view: PlanView) -> str:
    if view.live is None:
        raise ValueError("the html plan draws the live blocks: build the PlanView with live=")
    return plan_page(view.plan, view.live, title=view.title,
                     summary=[line for line in (view.summary, view.refusal) if line],
                     stack=view.stack,
                     forecast=forecast(view.stack) if view.stack is not None else None,
                     # the live IPReservations: what the live blocks are reserved by
                     reservations=[Reservation(r.name, r.spec.reserved_cidrs)
                                   for r in view.live.reservations.values()])
