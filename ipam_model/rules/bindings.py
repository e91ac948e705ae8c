"""Namespace bindings: the pools a namespace's annotations request, checked as Calico uses them.

A binding becomes the namespace annotations ``cni.projectcalico.org/ipv4pools``
and ``.../ipv6pools``. Calico's CNI plugin resolves each entry (a CIDR is used
as is, anything else is looked up as a pool name), then IPAM requires every
requested CIDR to be an enabled pool; one bad entry fails the whole request
and the pod stays in ContainerCreating (reference calico-ippool-rules.md §5).
Requested pools bypass nodeSelector and namespaceSelector (calico#10502) but
``allowedUses`` still applies. Annotations only affect pods created later.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable

from ..calico.annotations import PoolResolver
from ..calico.names import label_problems, namespace_name_problem
from ..calico.selector import (
    SelectorError,
    parse_selector,
    selects_nothing_automatically,
)
from ..core.cidr import parse_cidr
from ..core.model import Binding, Finding, Pool, Stack
from ..core.rules import E, Help, I, Rule, Scope, W
from ..core.words import did_you_mean
from .registry import CheckContext, check

CIP401 = Rule("CIP401", "namespace-name-invalid", E,
              "Namespace names are DNS-1123 labels.",
              scope=Scope.STACK,
              help=Help("Kubernetes refuses such a namespace name, so the binding can never "
                        "apply.",
                        "Use a DNS-1123 label: lower-case letters, digits and '-', at most 63 "
                        "characters."))
CIP402 = Rule("CIP402", "binding-unknown-pool", E,
              "A binding names a pool (or CIDR) the stack does not declare.",
              scope=Scope.STACK,
              help=Help("Calico's CNI plugin fails every pod of the namespace: a name it cannot "
                        "find is parsed as a CIDR and fails with \"error parsing pool\".",
                        "Name a pool the stack declares (or its exact CIDR), or declare the "
                        "pool.",
                        calico=("cni-plugin/internal/pkg/utils/utils.go:841",)))
CIP403 = Rule("CIP403", "binding-family-mismatch", E,
              "A pool bound under ipv4Pools is IPv6 or the reverse.",
              scope=Scope.STACK,
              help=Help("Calico resolves ipv4pools against IPv4 pools only and ipv6pools "
                        "against IPv6 pools; a pool of the other family makes the namespace's "
                        "pods fail to start.",
                        "Move the pool to the list of its family (`ipv4Pools` or `ipv6Pools`).",
                        calico=("cni-plugin/internal/pkg/utils/utils.go:808",)))
CIP404 = Rule("CIP404", "binding-disabled-pool", E,
              "A bound pool is disabled: pods of the namespace fail to start.",
              scope=Scope.STACK,
              help=Help("Calico refuses requested pools that are disabled (\"the given pool ... "
                        "does not exist, or is not enabled\"): the namespace's pods fail to "
                        "start.",
                        "Enable the pool, or bind the namespace to an enabled pool before "
                        "disabling this one.",
                        calico=("libcalico-go/lib/ipam/ipam.go:301",)))
CIP405 = Rule("CIP405", "binding-use-not-workload", E,
              "A bound pool does not allow Workload.",
              scope=Scope.STACK,
              help=Help("Calico gives pods addresses only from pools that allow Workload: the "
                        "namespace's pods fail to start.",
                        "Add `Workload` to the pool's `allowedUses`, or bind another pool.",
                        calico=("libcalico-go/lib/ipam/ipam.go:484",)))
CIP406 = Rule("CIP406", "binding-loadbalancer-pool", E,
              "A bound pool is a LoadBalancer pool.",
              scope=Scope.STACK,
              help=Help("A LoadBalancer pool holds Service addresses; Calico never gives them "
                        "to pods, so the namespace's pods fail to start.",
                        "Bind a Workload pool instead.",
                        calico=("libcalico-go/lib/ipam/ipam.go:484",
                                "libcalico-go/lib/ipam/ipam.go:704")))
CIP407 = Rule("CIP407", "binding-cidr-not-exact", E,
              "A CIDR in a binding must equal a pool's CIDR exactly (subsets are not supported).",
              scope=Scope.STACK,
              help=Help("Calico matches a CIDR in the annotation against the pools' CIDRs "
                        "exactly (requesting a subset of a pool is not supported): every pod of "
                        "the namespace fails.",
                        "Write the pool's exact CIDR, or its name.",
                        calico=("cni-plugin/internal/pkg/utils/utils.go:808",)))
CIP408 = Rule("CIP408", "binding-selector-ignored", W,
              "A bound pool has a nodeSelector/namespaceSelector: Calico ignores both for "
              "annotated requests (calico#10502).",
              scope=Scope.STACK,
              help=Help("Calico uses requested pools unconditionally and ignores their "
                        "nodeSelector and namespaceSelector (projectcalico/calico#10502): the "
                        "namespace's pods get addresses from the pool on nodes its selector "
                        "excludes.",
                        "Drop the selector if placement does not matter, or let the selectors "
                        "choose (remove the binding, keep the pools Automatic).",
                        calico=("libcalico-go/lib/ipam/ipam.go:308",)))
CIP409 = Rule("CIP409", "binding-manual-pool", I,
              "A bound pool is Manual: only annotated requests use it, as intended here.",
              scope=Scope.STACK,
              help=Help("A Manual pool is used only when requested, so this binding is what "
                        "makes the namespace use it: intended, noted for the record.",
                        "Nothing to fix.",
                        calico=("libcalico-go/lib/ipam/ipam.go:308",)))
CIP410 = Rule("CIP410", "binding-duplicate-pool", W,
              "A binding lists the same pool twice.",
              scope=Scope.STACK,
              help=Help("Calico tries the pools in order; a repeat adds nothing and usually "
                        "hides a typo (another pool was meant).",
                        "List each pool once."))
CIP411 = Rule("CIP411", "binding-automatic", I,
              "A namespace entry names no pool: Calico picks pools by selectors; its expectedPods "
              "count against them.",
              scope=Scope.STACK,
              help=Help("Without a pool annotation Calico picks the enabled Automatic pools "
                        "whose nodeSelector and namespaceSelector match; the namespace's "
                        "expectedPods count against those pools.",
                        "Nothing to fix; bind pools (`ipv4Pools`, `ipv6Pools`) if the namespace "
                        "must use particular ones.",
                        calico=("libcalico-go/lib/ipam/ipam.go:324",
                                "libcalico-go/lib/ipam/pools.go:50")))
CIP412 = Rule("CIP412", "labels-invalid", E,
              "Namespace or node-group labels are not valid Kubernetes labels.",
              scope=Scope.STACK,
              help=Help("Kubernetes refuses invalid labels, and selectors cannot match them, so "
                        "the selector and capacity checks would be wrong.",
                        "Use keys `prefix/name` (name at most 63 letters, digits, '-', '_' or "
                        "'.') and values of at most 63 such characters."))


FAMILIES = (("ipv4Pools", 4), ("ipv6Pools", 6))
_STUCK = "and stay ContainerCreating"


def _selector_is_all(text: str) -> bool:
    try:
        return parse_selector(text).matches_everything
    except SelectorError:
        return False


def _family_name(version: int) -> str:
    return f"IPv{version}"


Add = Callable[..., None]  # add(rule, message, subject, location, related=...)


def binding_findings(stack: Stack) -> list[Finding]:
    """CIP401-CIP412 for every namespace binding (and node-group labels) of *stack*."""
    findings: list[Finding] = []

    def add(rule: Rule, message: str, subject: str, location, **kw):
        findings.append(rule.finding(message, subject, location, stack=stack.name, **kw))

    resolver = PoolResolver((n, p.spec.cidr) for n, p in stack.pools.items())
    # pool name -> namespaces binding it, in binding order (for CIP408/CIP409).
    bound_by: dict[str, list[str]] = defaultdict(list)
    for ns, binding in stack.bindings.items():
        _namespace_findings(stack, ns, binding, add)
        for name in _entries(stack, ns, binding, resolver, add):
            if ns not in bound_by[name]:
                bound_by[name].append(ns)
    for name, namespaces in bound_by.items():
        _bound_pool_findings(stack, name, namespaces, add)
    for group in stack.cluster.node_groups:
        for key, problem in label_problems(group.labels):
            add(CIP412, f"node group {group.name}: {problem}; nodes cannot carry this label, "
                f"so nodeSelectors are matched against labels no node has",
                f"node-group/{group.name}", group.location)
    return findings


def _namespace_findings(stack: Stack, ns: str, binding: Binding, add: Add) -> None:
    """The namespace itself: its name, its labels, whether it names any pool."""
    subject = f"namespace/{ns}"
    problem = namespace_name_problem(ns)
    if problem:
        add(CIP401, f"namespace name {ns!r} {problem}: Kubernetes refuses to create it, "
            f"so the binding's annotations can never be applied", subject,
            stack.binding_location(ns))
    for key, problem in label_problems(binding.labels):
        add(CIP412, f"namespace {ns}: {problem}; Kubernetes refuses the namespace's "
            f"labels", subject, stack.binding_location(ns, "labels", key))
    if not binding.ipv4_pools and not binding.ipv6_pools:
        add(CIP411, f"namespace {ns} names no pool: it gets no Calico annotation, so "
            f"Calico picks Automatic pools whose nodeSelector matches the node and whose "
            f"namespaceSelector matches the namespace; its expectedPods count against "
            f"those pools", subject, stack.binding_location(ns))


def _entries(stack: Stack, ns: str, binding: Binding, resolver: PoolResolver,
             add: Add) -> list[str]:
    """The usable pools a binding names, checking every entry (CIP402-407, CIP410)."""
    out = []
    for field, version in FAMILIES:
        values = binding.ipv4_pools if version == 4 else binding.ipv6_pools
        seen: dict[str, int] = {}
        for index, text in enumerate(values):
            entry = _Entry(stack, ns, field, version, index, text)
            name = _check_entry(entry, resolver, add)
            if name is None:
                continue
            if name in seen:
                add(CIP410, f"namespace {ns} lists pool {name} twice in {field} (entries "
                    f"{seen[name]} and {index}): Calico tries it once, the second entry "
                    f"does nothing", entry.subject, entry.where(),
                    related=(stack.binding_location(ns, field, seen[name]),))
                continue
            seen[name] = index
            out.append(name)
    return out


def _bound_pool_findings(stack: Stack, name: str, namespaces: list[str], add: Add) -> None:
    """CIP408: selectors Calico ignores for annotated requests; CIP409: a Manual pool."""
    spec = stack.pools[name].spec
    one = len(namespaces) == 1
    listed = ("namespace " if one else "namespaces ") + ", ".join(namespaces)
    ignored = []
    if (not _selector_is_all(spec.node_selector)
            and not selects_nothing_automatically(spec.node_selector)):
        ignored.append(("nodeSelector", f"nodeSelector {spec.node_selector}", "on any node"))
    if spec.namespace_selector:
        ignored.append(("namespaceSelector", f"namespaceSelector {spec.namespace_selector}",
                        "whatever the namespace's labels"))
    if not ignored and spec.assignment_mode != "Manual":
        return  # the common case: nothing to say, no locations to look up
    related = tuple(stack.binding_location(ns) for ns in namespaces)
    if ignored:
        what = " and ".join(text for _, text, _ in ignored)
        effects = " and ".join(effect for _, _, effect in ignored)
        add(CIP408, f"pool {name} has {what}, but {listed} bind{'s' if one else ''} it by "
            f"annotation and Calico ignores nodeSelector and namespaceSelector for "
            f"annotated requests (projectcalico/calico#10502): their pods get addresses "
            f"from {name} {effects}", f"pool/{name}", stack.pool_location(name, ignored[0][0]),
            related=related)
    if spec.assignment_mode == "Manual":
        add(CIP409, f"pool {name} is Manual: only pods whose namespace or pod annotation "
            f"requests it get addresses from it, here {listed}", f"pool/{name}",
            stack.pool_location(name, "assignmentMode"), related=related)


class _Entry:
    """One entry of a binding: ``ipv4Pools[index]`` of namespace *ns* (a plain
    class with slots: one is made for every entry of every binding)."""

    __slots__ = ("stack", "ns", "field", "version", "index", "text")

    def __init__(self, stack: Stack, ns: str, field: str, version: int, index: int,
                 text: str):
        self.stack, self.ns, self.field = stack, ns, field
        self.version, self.index, self.text = version, index, text

    @property
    def subject(self) -> str:
        return f"namespace/{self.ns}"

    @property
    def family(self) -> str:
        return _family_name(self.version)

    def where(self):  # built only for a finding: most entries have none
        return self.stack.binding_location(self.ns, self.field, self.index)


def _check_entry(entry: _Entry, resolver: PoolResolver, add: Add) -> str | None:
    """Check one binding entry; return the pool it resolves to when it is usable enough to
    count as bound (pools with problems that fail every pod return None after reporting)."""
    parsed = parse_cidr(entry.text)
    name = (_resolve_cidr(entry, parsed.version, resolver, add) if parsed is not None
            else _resolve_name(entry, add))
    return None if name is None else _usable_pool(entry, name, add)


def _resolve_cidr(entry: _Entry, version: int, resolver: PoolResolver, add: Add) -> str | None:
    """A CIDR entry: Calico requires it to be exactly a pool's CIDR, of the right family."""
    stack, ns, text = entry.stack, entry.ns, entry.text
    if version != entry.version:
        add(CIP403, f"namespace {ns} lists {_family_name(version)} CIDR {text} under "
            f"{entry.field}: new pods in {ns} fail with Calico's \"{text.split('/')[0]} isn't a "
            f"{entry.family} address\" {_STUCK}", entry.subject, entry.where())
        return None
    name = resolver.resolve(text)
    if name is not None:
        return name
    inside = resolver.containing(text)
    if inside is not None:
        cidr = stack.pools[inside].spec.cidr
        add(CIP407, f"namespace {ns} requests {text}, a part of pool {inside} ({cidr}): Calico "
            f"says \"Requesting a subset of an IP pool is not supported\"; new pods in {ns} fail "
            f"with \"the given pool ({text}) does not exist, or is not enabled\" {_STUCK}. Write "
            f"{cidr} or the name {inside}", entry.subject, entry.where(),
            related=(stack.pool_location(inside, "cidr"),))
    elif not _declared_with_errors(stack, text):
        add(CIP402, f"namespace {ns} requests {text}, which is not the CIDR of any pool in "
            f"this stack: new pods in {ns} fail with Calico's \"the given pool ({text}) does "
            f"not exist, or is not enabled\" {_STUCK}", entry.subject, entry.where())
    return None


def _resolve_name(entry: _Entry, add: Add) -> str | None:
    stack, ns, name = entry.stack, entry.ns, entry.text
    if name not in stack.pool_specs:
        hint = did_you_mean(name, stack.pool_specs) or "."
        add(CIP402, f"namespace {ns} binds pool {name}, which this stack does not declare"
            f"{hint} New pods in {ns} fail (Calico: error parsing pool \"{name}\": invalid "
            f"CIDR address: {name}) {_STUCK}", entry.subject, entry.where())
        return None
    # A pool failing Calico's own rules is reported on the pool; it will not exist.
    return name if name in stack.pools else None


def _usable_pool(entry: _Entry, name: str, add: Add) -> str | None:
    """The pool, when its family and uses let the namespace's pods draw from it."""
    stack, ns = entry.stack, entry.ns
    pool: Pool = stack.pools[name]
    spec = pool.spec
    if pool.version != entry.version:
        add(CIP403, f"namespace {ns} lists {_family_name(pool.version)} pool {name} "
            f"({spec.cidr}) under {entry.field}: new pods in {ns} fail with Calico's "
            f"\"{spec.cidr.split('/')[0]} isn't a {entry.family} address\" {_STUCK}",
            entry.subject, entry.where(), related=(stack.pool_location(name, "cidr"),))
        return None
    usable = True
    if spec.disabled:
        add(CIP404, f"namespace {ns} binds disabled pool {name}: new pods in {ns} fail with "
            f"Calico's \"the given pool ({spec.cidr}) does not exist, or is not enabled\" "
            f"{_STUCK}", entry.subject, entry.where(),
            related=(stack.pool_location(name, "disabled"),))
        usable = False
    if "Workload" not in spec.allowed_uses:
        uses = ", ".join(spec.allowed_uses)
        rule = CIP406 if "LoadBalancer" in spec.allowed_uses else CIP405
        kind = "LoadBalancer pool" if rule is CIP406 else "pool"
        add(rule, f"namespace {ns} binds {kind} {name} (allowedUses [{uses}]), which pods "
            f"cannot use: Calico drops it from the request, and when no other listed "
            f"{entry.family} pool allows Workload new pods in {ns} fail with \"cannot find a "
            f"qualified ippool, no pools match the required use (Workload)\" {_STUCK}",
            entry.subject, entry.where(), related=(stack.pool_location(name, "allowedUses"),))
        usable = False
    return name if usable else None


def _declared_with_errors(stack: Stack, cidr: str) -> bool:
    """Whether a declared pool that fails Calico's rules has this CIDR (already reported)."""
    for name, spec in stack.pool_specs.items():
        if name not in stack.pools and spec.get("cidr") == cidr:
            return True
    return False


@check(CIP401, CIP402, CIP403, CIP404, CIP405, CIP406, CIP407, CIP408, CIP409, CIP410, CIP411,
       CIP412)
def check_bindings(ctx: CheckContext) -> list[Finding]:
    return binding_findings(ctx.stack)
