"""The plan as data: what ``pulumi up`` would do, its gates, migrations and drift.

Terraform's vocabulary (actions, attribute changes, "changed outside") over
frozen dataclasses; building a plan is the other modules' business, showing
it is ``views.plan``'s.
"""
from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass
from typing import Any, Mapping

from ..core.live_state import PoolUsage
from ..core.model import Finding, Location, Severity, sort_findings


class Action(str, enum.Enum):
    """What ``pulumi up`` would do to one object (Terraform's action vocabulary)."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    FORGET = "forget"
    NOOP = "no-op"

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "forget": ".",
                "no-op": " "}[self.value]

    @property
    def json_actions(self) -> list[str]:
        """Terraform's ``change.actions``; a replacement is delete-then-create
        because a named IPPool cannot exist twice."""
        if self is Action.REPLACE:
            return ["delete", "create"]
        return [self.value]


@dataclass(frozen=True)
class AttributeChange:
    """One field (pool) or annotation (namespace) before and after."""

    path: str
    before: Any
    after: Any
    forces_replacement: bool = False


@dataclass(frozen=True)
class PoolChange:
    name: str
    action: Action
    before: Mapping[str, Any] | None          # live spec, Calico field names, defaults applied
    after: Mapping[str, Any] | None           # declared spec, same form
    changes: tuple[AttributeChange, ...] = ()
    usage: PoolUsage = PoolUsage()
    adopt: bool = False                       # live pool without any owner label, declared here
    location: Location = Location()

    @property
    def address(self) -> str:
        return f"ippool/{self.name}"

    @property
    def replace_paths(self) -> tuple[str, ...]:
        return tuple(c.path for c in self.changes if c.forces_replacement)

    @property
    def unchanged(self) -> int:
        keys = set(self.before or ()) | set(self.after or ())
        return len(keys) - len(self.changes)


KIND_IPAM_CONFIG = "ipamconfig"
KIND_RESERVATION = "ipreservation"


@dataclass(frozen=True)
class ObjectChange:
    """The IPAMConfig or an IPReservation, declared against live: ``before`` and
    ``after`` in Calico's field names with defaults applied, as for a pool."""

    kind: str                                 # KIND_IPAM_CONFIG or KIND_RESERVATION
    name: str
    action: Action
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    changes: tuple[AttributeChange, ...] = ()
    adopt: bool = False                       # live object without our labels, declared here
    location: Location = Location()

    @property
    def address(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def unchanged(self) -> int:
        keys = set(self.before or ()) | set(self.after or ())
        return len(keys) - len(self.changes)


@dataclass(frozen=True)
class NamespaceChange:
    namespace: str
    action: Action
    before: Mapping[str, Any]                 # annotation key -> list (or the raw invalid text)
    after: Mapping[str, Any]
    changes: tuple[AttributeChange, ...] = ()
    pods: int = 0                             # pods with Calico addresses in the namespace now
    location: Location = Location()

    @property
    def address(self) -> str:
        return f"namespace/{self.namespace}"


@dataclass(frozen=True)
class UnmanagedPool:
    """A live pool this stack does not own: listed, never changed."""

    name: str
    cidr: str
    owner: str
    owner_stack: str | None
    disabled: bool
    deleting: bool
    usage: PoolUsage = PoolUsage()

    @property
    def address(self) -> str:
        return f"ippool/{self.name}"


@dataclass(frozen=True)
class MigrationStep:
    text: str
    commands: tuple[str, ...] = ()


@dataclass(frozen=True)
class Migration:
    """Calico's documented procedure, filled in with this cluster's names."""

    title: str
    source: str                               # the Calico documentation page it follows
    steps: tuple[MigrationStep, ...]
    temporary_pool: str | None = None
    temporary_cidr: str | None = None


@dataclass(frozen=True)
class Gate:
    """A safety gate: an error unless ``--allow-disruption`` names one of ``pools``."""

    finding: Finding
    pools: frozenset[str]
    migration: Migration | None = None
    allowed: bool = False


BASELINE_APPLIED = "applied-spec"  # the pool's calico-ipam.io/applied-spec annotation


BASELINE_STACK = "stack"          # the stack file, taken as what was applied (drift in CI)


@dataclass(frozen=True)
class DriftItem:
    """Something changed outside calico-ipam (Terraform's "Objects have changed outside").

    ``changes`` go from what was applied (``before``) to what is live
    (``after``); ``baseline`` says where "what was applied" came from.
    """

    address: str
    kind: str                                 # changed | deleted | overlap | invalid
    message: str
    changes: tuple[AttributeChange, ...] = ()
    finding: Finding | None = None
    baseline: str = BASELINE_APPLIED


@dataclass(frozen=True)
class Plan:
    stack: str
    stack_file: str | None
    source: str
    pools: tuple[PoolChange, ...]
    namespaces: tuple[NamespaceChange, ...]
    unmanaged: tuple[UnmanagedPool, ...]
    gates: tuple[Gate, ...]
    findings: tuple[Finding, ...]             # the plan's own: errors, warnings, notes
    drift: tuple[DriftItem, ...]
    checks: tuple[Finding, ...] = ()          # calico-ipam check's findings about the stack
    # The IPAMConfig, then the IPReservations by name.
    objects: tuple[ObjectChange, ...] = ()

    @property
    def changes(self) -> tuple:
        """What pulumi up changes, in the order it applies them: the IPAMConfig and
        the reservations before the pools whose addresses they govern, then the
        namespaces."""
        return tuple(c for c in self.objects + self.pools + self.namespaces
                     if c.action is not Action.NOOP)

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def errors(self) -> list[Finding]:
        out = [g.finding for g in self.gates if not g.allowed]
        out += [f for f in self.findings if f.is_error]
        out += [f for f in self.checks if f.is_error]
        return sort_findings(out)

    @property
    def check_warnings(self) -> list[Finding]:
        """check's warnings: shown as a short list (``calico-ipam check`` explains them)."""
        return [f for f in self.checks if f.severity is Severity.WARNING]

    @property
    def all_findings(self) -> list[Finding]:
        """Gates, the plan's own findings, and check's errors and warnings
        (check's notes belong to ``calico-ipam check``)."""
        return sort_findings([g.finding for g in self.gates] + list(self.findings)
                             + [f for f in self.checks if f.severity is not Severity.INFO])

    @property
    def summary(self) -> dict[str, int]:
        counts = Counter()
        for change in self.changes:
            if change.action is Action.REPLACE:
                counts["add"] += 1
                counts["destroy"] += 1
            else:
                counts[{"create": "add", "update": "change", "delete": "destroy",
                        "forget": "forget"}[change.action.value]] += 1
        return {"add": counts["add"], "change": counts["change"],
                "destroy": counts["destroy"], "forget": counts["forget"]}

    def migration_for(self, finding: Finding) -> Migration | None:
        for gate in self.gates:
            if gate.finding is finding:
                return gate.migration
        return None


def _pods_text(by_namespace: Mapping[str, int], limit: int = 6) -> str:
    items = sorted(by_namespace.items(), key=lambda kv: (-kv[1], kv[0]))
    parts = [f"{ns} {count}" for ns, count in items[:limit]]
    if len(items) > limit:
        parts.append(f"{len(items) - limit} more namespaces")
    return ", ".join(parts)


def usage_text(usage: PoolUsage) -> str:
    """``12 addresses in 3 blocks on 2 nodes (pods: web 10, db 2)``."""
    if not usage.blocks and not usage.allocated:
        return "no blocks, no addresses allocated"
    text = (f"{usage.allocated} address{'es' if usage.allocated != 1 else ''} allocated in "
            f"{usage.blocks} block{'s' if usage.blocks != 1 else ''} on {len(usage.nodes)} "
            f"node{'s' if len(usage.nodes) != 1 else ''}")
    if usage.by_namespace:
        text += f" (pods: {_pods_text(usage.by_namespace)})"
    return text
