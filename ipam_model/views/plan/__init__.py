"""A plan, or the drift report, as text (Terraform's plan grammar), JSON
(Terraform's resource_changes), markdown (a CI job summary) and GitHub
workflow annotations.

Each format is one module here rendering a ``PlanView`` (the plan and its
mode, plan or drift), found by the registry; migration.py and safety.py hold
the migration text that gates and the Pulumi program share.
"""
from __future__ import annotations

from .. import registry
from .json import FORMAT_VERSION, to_json_data
from .migration import migration_text
from .view import Mode, PlanView, drift_count, summary_line

__all__ = ["FORMATS", "FORMAT_VERSION", "Mode", "PlanView", "drift_count", "migration_text",
           "render", "summary_line", "to_json_data"]

# Modules of this package that are not formats. safety.py (the Pulumi program's
# gates) imports the whole planner: snapshot and simulate must not load it for --format.
HELPERS = ("migration", "safety", "view")
# name -> render(PlanView): one module per format in this package.
FORMATS = registry.formats(__name__, __path__, HELPERS)


def render(view: PlanView, fmt: str) -> str:
    """*view* in format *fmt* (one of ``FORMATS``)."""
    render_format = FORMATS.get(fmt)
    if render_format is None:
        raise ValueError(f"unknown plan format {fmt!r}; use one of {', '.join(FORMATS)}")
    return render_format(view)
