"""A migration (Calico's documented procedure, filled in) as numbered text steps."""
from __future__ import annotations

from ...plan.model import Migration


def migration_text(migration: Migration, indent: str = "  ") -> str:
    """``Migration (title; source):`` then one numbered line per step and its
    commands below it, every line starting with *indent*."""
    lines = [f"{indent}Migration ({migration.title}; {migration.source}):"]
    for number, step in enumerate(migration.steps, 1):
        lines.append(f"{indent}  {number}. {step.text}")
        for command in step.commands:
            for line in command.splitlines():
                lines.append(f"{indent}       {line}")
    return "\n".join(lines)
