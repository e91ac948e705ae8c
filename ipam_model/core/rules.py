"""Rules: a stable id, a name, a default severity, a summary, a scope and its help.

Every rule is declared next to the code that emits it, as a module-level
constant named by its id (``CIP201 = Rule("CIP201", "pool-overlap", ...)``);
``ipam_model.catalogue`` gathers them into the catalogue the CLI, the policy
pack, SARIF and the README share. Ids never change meaning once released; a
retired rule keeps its id reserved. ``source`` says where the rule comes
from: one of Calico's own validation layers (so the user knows Calico would
refuse it too) or ``calico-ipam`` for checks Calico does not make.
``help`` is the rule's documentation beyond the summary (why it matters, how
to fix it, the Calico source lines it follows), declared with the rule: SARIF
shows it next to every result in GitHub code scanning.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from .model import Finding, Location, Severity


class Scope(str, enum.Enum):
    """What a rule judges, which decides who emits it and who reports it."""

    INPUT = "input"  # a stack file as read: YAML and the schema (raised by the loader)
    POOL = "pool"    # one IPPool, as Calico validates it (also the policy pack's resource policy)
    STACK = "stack"  # one stack's declaration as a whole
    FLEET = "fleet"  # several stacks together (one routing domain)
    LIVE = "live"    # the declaration against the live cluster (plan and drift)


@dataclass(frozen=True)
class Help:
    """A rule's documentation: the summary says what it catches, this says the rest.

    ``calico`` lists the Calico source lines the rule follows, as
    ``path:line`` in projectcalico/calico at ``core.project.CALICO_COMMIT``;
    empty for a rule of calico-ipam's own that Calico has no code for.
    """

    why: str                       # why it matters: what breaks in the cluster
    fix: str                       # how to fix it, in the stack file's terms
    calico: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    summary: str
    source: str = "calico-ipam"
    scope: Scope = Scope.STACK
    help: Help | None = None

    def finding(self, message: str, subject: str, location: Location = Location(), *,
                stack: str | None = None, severity: Severity | None = None,
                related: tuple[Location, ...] = ()) -> Finding:
        return Finding(rule=self.id, name=self.name, severity=severity or self.severity,
                       message=message, subject=subject, location=location, stack=stack,
                       related=tuple(related))


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
CALICO = "Calico (clientv3, validator, CRD CEL)"


def declared_rules(namespace) -> tuple[Rule, ...]:
    """The Rule constants a module declares (``vars(module)``), by id."""
    items = vars(namespace).items() if not isinstance(namespace, dict) else namespace.items()
    return tuple(sorted((v for k, v in items if isinstance(v, Rule) and k == v.id),
                        key=lambda r: r.id))
