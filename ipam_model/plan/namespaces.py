"""Step 2 of a plan: the namespaces' pool annotations, declared against live.

Per namespace, the two ``cni.projectcalico.org/ipv4pools|ipv6pools``
annotations are set, changed or removed. A live annotation is removed only
when it is this stack's own patch (it names nothing but this stack's pools);
an annotation Calico cannot parse is overwritten with a warning. Calico reads
the annotation only when a pod is created, so a changed binding moves no
running pod: the plan says so.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Mapping

from ..calico.annotations import POOL_ANNOTATIONS, parse_pools_annotation
from ..core.live_state import LiveState
from ..core.model import Finding, Location, Stack, frozen_map
from ..core.rules import E, Help, I, Rule, Scope, W
from .compare import owned
from .model import Action, AttributeChange, NamespaceChange, PoolChange

CIP605 = Rule("CIP605", "namespace-missing", E,
              "A bound namespace does not exist in the cluster.",
              scope=Scope.LIVE,
              help=Help("The namespace annotation patch would create the namespace (server-side "
                        "apply creates missing objects) or fail; either way the binding is not "
                        "what the cluster has.",
                        "Create the namespace first, or remove the binding if the namespace is "
                        "gone."))
CIP608 = Rule("CIP608", "binding-change-existing-pods", I,
              "A binding change affects new pods only; existing pods keep their addresses until "
              "restarted.",
              scope=Scope.LIVE,
              help=Help("Calico's CNI plugin reads the pool annotations only when a pod is "
                        "created: running pods keep their addresses.",
                        "Restart the namespace's workloads (`kubectl -n NAMESPACE rollout "
                        "restart deployment`) when they must move.",
                        calico=("cni-plugin/pkg/k8s/k8s.go:220",)))
CIP609 = Rule("CIP609", "annotation-invalid", W,
              "A live pool annotation is not a JSON list of strings, or names a missing pool.",
              scope=Scope.LIVE,
              help=Help("Calico's CNI plugin parses the annotation as a JSON list when a pod is "
                        "created; an invalid one fails every new pod of the namespace.",
                        "Write the annotation as a JSON list of pool names, e.g. `[\"web-pool\"]` "
                        "(as calico-ipam render prints it), or let pulumi up rewrite it.",
                        calico=("cni-plugin/pkg/k8s/k8s.go:246",)))


Entries = Mapping[int, list]  # family -> annotation entries


@dataclass(frozen=True)
class NamespaceDiff:
    """The annotation changes, each namespace's entries once they are applied
    (``effective``), the live entries, the live annotations that do not parse
    (namespace -> family -> why) and the plan's findings about namespaces."""

    changes: tuple[NamespaceChange, ...]
    effective: Mapping[str, Entries]
    live_entries: Mapping[str, Entries]
    invalid: Mapping[str, Mapping[int, str]]
    findings: tuple[Finding, ...]


def read_live_annotations(live: LiveState) -> tuple[dict[str, dict], dict[str, dict]]:
    """(namespace -> family -> entries, namespace -> family -> why it does not parse).
    An annotation that does not parse is kept as its raw text, a one-entry list
    that never resolves."""
    entries: dict[str, dict] = {}
    invalid: dict[str, dict] = {}
    for name, ns in sorted(live.namespaces.items()):
        parsed = {}
        for family, key in POOL_ANNOTATIONS.items():
            raw = ns.annotations.get(key)
            if raw is None:
                continue
            values, problem = parse_pools_annotation(raw)
            if values is None:
                parsed[family] = [raw]
                invalid.setdefault(name, {})[family] = problem
            else:
                parsed[family] = values
        entries[name] = parsed
    return entries, invalid


def diff_namespaces(stack: Stack, live: LiveState, pools: Mapping[str, PoolChange]
                    ) -> NamespaceDiff:
    live_entries, invalid = read_live_annotations(live)
    ours = set(pools) | set(stack.pool_specs) | {n for n, p in live.pools.items()
                                                 if owned(p, stack)}
    pods = Counter()
    for usage in live.usage.values():
        pods.update(usage.by_namespace)
    effective = {name: dict(entries) for name, entries in live_entries.items()}
    targets, findings = _targets(stack, live, live_entries, invalid, ours)
    changes = []
    for name, desired, location in targets:
        change, entries, notes = _namespace_change(
            stack, name, desired, ours, location, live_entries.get(name, {}),
            invalid.get(name, {}), pods.get(name, 0))
        effective[name] = entries
        changes.append(change)
        findings += notes
    return NamespaceDiff(tuple(sorted(changes, key=lambda c: c.namespace)), effective,
                         live_entries, invalid, tuple(findings))


def _targets(stack: Stack, live: LiveState, live_entries, invalid, ours
             ) -> tuple[list[tuple], list[Finding]]:
    """(namespace, desired family -> entries or None, location) for every
    namespace the plan may touch, and CIP605 for bound namespaces that do not exist."""
    targets, findings = [], []
    for name in sorted(stack.bindings):
        binding = stack.bindings[name]
        desired = binding.annotations()
        if name not in live.namespaces:
            if desired:
                findings.append(CIP605.finding(
                    f"namespace {name} is bound to "
                    f"{', '.join(binding.ipv4_pools + binding.ipv6_pools)} in stack "
                    f"{stack.name} but does not exist in the cluster ({live.source}); create it "
                    f"first (kubectl create namespace {name}) or remove the binding",
                    f"namespace/{name}", binding.location, stack=stack.name))
            continue
        targets.append((name, {f: desired.get(k) for f, k in POOL_ANNOTATIONS.items()},
                        binding.location))
    for name in sorted(live.namespaces):
        if name in stack.bindings:
            continue
        # Not bound any more: the annotation is removed only when it names
        # nothing but this stack's pools, i.e. it is the patch this stack made.
        current = live_entries.get(name, {})
        if current and name not in invalid and all(
                entries and all(e in ours for e in entries) for entries in current.values()):
            targets.append((name, {4: None, 6: None}, stack.locate("calico-ipam:namespaces")))
    return targets, findings


def _namespace_change(stack: Stack, name: str, desired: Mapping[int, list | None], ours: set,
                      location: Location, current: Entries, invalid: Mapping[int, str],
                      pods: int) -> tuple[NamespaceChange, dict, list[Finding]]:
    """One namespace: its change, its entries once applied, and the findings."""
    changes, before, after, findings = [], {}, {}, []
    effective = dict(current)
    for family, key in POOL_ANNOTATIONS.items():
        want, have = desired.get(family), current.get(family)
        if have is not None:
            before[key] = have[0] if family in invalid else have
        if want is None:
            # An unbound family is left alone unless it is this stack's own patch.
            if have is None or family in invalid or not all(e in ours for e in have):
                if have is not None:
                    after[key] = before[key]
                continue
            changes.append(AttributeChange(key, have, None))
            effective.pop(family, None)
            continue
        after[key] = list(want)
        if family in invalid:
            changes.append(AttributeChange(key, have[0], list(want)))
            findings.append(CIP609.finding(
                f"namespace {name}: annotation {key} = {have[0]!r} {invalid[family]}; pods "
                "created there now fail (Calico's CNI ADD parses it with json.Unmarshal); this "
                "plan overwrites it", f"namespace/{name}", location, stack=stack.name))
        elif have != list(want):
            changes.append(AttributeChange(key, have, list(want)))
        effective[family] = list(want)
    change = NamespaceChange(name, _action(changes, before, after), frozen_map(before),
                             frozen_map(after), tuple(changes), pods, location)
    if changes and (pods or current):
        findings.append(_existing_pods_note(stack, name, pods, location))
    return change, effective, findings


def _action(changes, before, after) -> Action:
    if not changes:
        return Action.NOOP
    if not before:
        return Action.CREATE
    return Action.DELETE if not after else Action.UPDATE


def _existing_pods_note(stack: Stack, name: str, pods: int, location: Location) -> Finding:
    """CIP608: Calico reads the annotation only when a pod is created."""
    return CIP608.finding(
        f"namespace {name}: the pool binding changes; Calico reads the annotation only when a "
        "pod is created, so "
        + ("the existing pod keeps its address" if pods == 1 else
           f"the {pods} existing pods keep their addresses" if pods else
           "pods that exist by then keep their addresses")
        + f" until restarted (kubectl -n {name} rollout restart deployment)",
        f"namespace/{name}", location, stack=stack.name)
