"""The Pulumi program: ``pulumi up --stack <env>`` applies what ``calico-ipam render --stack <env>`` shows.

A thin shell over ipam_model. It reads the ``calico-ipam:*`` config of the
selected stack, runs every rule of ``calico-ipam check`` on it (including
routing-domain overlaps with the sibling stack files), and stops before
registering any resource when there is an error finding. With
``calico-ipam:cluster.liveChecks: true`` it also reads the cluster and runs
``calico-ipam plan``'s safety gates first (a pool with allocations replaced
or deleted, a bound pool disabled, ...), stopping with the migration plan;
``CALICO_IPAM_ALLOW_DISRUPTION=<pool>[,<pool>]`` lifts the gates of the
named pools (or ``ipamconfig/default``, ``ipreservation/<name>``) for one run.
Otherwise it registers exactly the objects of ``render_stack``: the
IPAMConfiguration (when ``calico-ipam:ipamConfig`` is declared), one
IPReservation per reservation, one IPPool custom resource per pool and one
NamespacePatch per bound namespace.

Adoption: since pulumi-kubernetes 4.29.0 creating an object that exists
fails with AlreadyExists (its CHANGELOG; the provider option
``upsertExistingObjects`` defaults to false). With ``liveChecks`` the same
live read that ran the gates tells which declared objects exist; each of
them gets Pulumi's ``import`` resource option (``ipam_model.plan.adoption``),
so ``import`` -> ``plan`` (no changes) -> ``pulumi up`` takes them over, and
every object that does not exist keeps the AlreadyExists protection. The
provider-wide ``upsertExistingObjects`` was not chosen: it would silently
overwrite any same-named object, for every resource and every future run.

Pools can never be deleted or replaced as a side effect: they keep a fixed
``metadata.name`` and a logical name derived from it, ``retain_on_delete``
(stack setting ``retainOnDelete``, default true) and ``protect`` (stack
setting ``protect``). ``replace_on_changes`` on ``spec.cidr`` and
``spec.blockSize`` makes a preview show the replacement that Calico forbids
and that ``calico-ipam plan`` refuses, instead of a harmless-looking update.
"""
from __future__ import annotations

import dataclasses
import enum
import json
import os
from pathlib import Path
from typing import Any, Mapping

import pulumi
import pulumi_kubernetes as k8s

from ipam_model.core.errors import CalicoIpamError, InputError
from ipam_model.core.model import (
    CONFIG_NAMESPACE,
    IPV4_POOLS_ANNOTATION,
    IPV6_POOLS_ANNOTATION,
    Finding,
    Severity,
    Stack,
    has_errors,
)
from ipam_model.declared.build import stack_from_config
from ipam_model.declared.files import load_siblings
from ipam_model.declared.files import stacks_dir as project_stacks_dir
from ipam_model.declared.yaml import load_yaml_file
from ipam_model.live.kube.reader import KubeReader
from ipam_model.plan.adoption import existing_objects
from ipam_model.rules import capacity
from ipam_model.rules import runner as check
from ipam_model.views import manifests as render
from ipam_model.views.plan.safety import safety_findings

PROJECT_DIR = Path(__file__).resolve().parent
# Calico forbids changing either field in place; see the module docstring.
REPLACE_ON_CHANGES = ["spec.cidr", "spec.blockSize"]
# Logical names of the singleton IPAMConfig; never change them (see pool_resource_name).
IPAM_CONFIG_RESOURCE_NAME = "ipamconfig-default"
FIELD_MANAGER_ANNOTATION = "pulumi.com/patchFieldManager"
PROVIDER_NAME = "calico-ipam-cluster"
ALLOW_DISRUPTION_ENV = "CALICO_IPAM_ALLOW_DISRUPTION"


def pool_resource_name(pool_name: str) -> str:
    """The Pulumi logical name of a pool. Never change this scheme: a renamed
    logical name of a named Kubernetes object deletes the object
    (pulumi/pulumi-kubernetes#2948)."""
    return f"ippool-{pool_name}"


def namespace_resource_name(namespace: str) -> str:
    return f"namespace-{namespace}"


def reservation_resource_name(name: str) -> str:
    """The Pulumi logical name of an IPReservation (fixed, as for pools)."""
    return f"ipreservation-{name}"


def field_manager(stack_name: str) -> str:
    """One stable server-side-apply field manager per stack, so a later run
    can remove an annotation it set (a random manager per Patch cannot)."""
    return f"calico-ipam-{stack_name}"


# ------------------------------------------------------------------ reading

def stacks_dir() -> Path:
    """``stackConfigDir`` of Pulumi.yaml (Pulumi's default is the project directory)."""
    return project_stacks_dir(PROJECT_DIR)


def stack_file_display(stack_name: str) -> str:
    path = stacks_dir() / f"Pulumi.{stack_name}.yaml"
    return os.path.relpath(path, PROJECT_DIR)


def _source_positions(display: str) -> Mapping:
    """Line numbers for findings, from the committed stack file when it is there.

    The values themselves always come from ``pulumi.Config``; the file only
    lends its line numbers (a path it lacks falls back to its parent's line).
    """
    path = PROJECT_DIR / display
    if not path.is_file():
        return {}
    try:
        return load_yaml_file(path, display=display).source
    except CalicoIpamError:
        return {}  # Pulumi read the config already; positions are a nicety


def read_stack(stack_name: str) -> Stack:
    """The selected stack, from ``pulumi.Config("calico-ipam")``. InputError on schema errors."""
    config = pulumi.Config(CONFIG_NAMESPACE)
    raw: dict[str, Any] = {"pools": config.require_object("pools")}
    for key in ("cluster", "ipamConfig", "reservations", "namespaces"):
        value = config.get_object(key)
        if value is not None:
            raw[key] = value
    display = stack_file_display(stack_name)
    return stack_from_config(stack_name, raw, file=display, source=_source_positions(display))


def sibling_stacks(stack: Stack) -> list[Stack]:
    """The other stack files of the same routing domain (none without a routingDomain).

    A sibling file that cannot be read is an error here too: without it the
    routing-domain overlap check would pass for the wrong reason.
    """
    if not stack.cluster.routing_domain:
        return []
    return load_siblings(stacks_dir(), {stack.name}, domain=stack.cluster.routing_domain)


# ------------------------------------------------------------------ findings

def finding_line(finding: Finding) -> str:
    """One diagnostic line: rule id and name, where, what."""
    return f"{finding.rule} {finding.name}: {finding.location}: {finding.message}"


def log_findings(findings: list[Finding]) -> None:
    log = {Severity.ERROR: pulumi.log.error, Severity.WARNING: pulumi.log.warn,
           Severity.INFO: pulumi.log.info}
    for finding in findings:
        log[finding.severity](finding_line(finding))


def refuse(stack_name: str, findings: list[Finding]) -> pulumi.RunError:
    """The error that ends the program before any resource is registered."""
    errors = [f for f in findings if f.is_error]
    ids = ", ".join(sorted({f.rule for f in errors}))
    first = finding_line(errors[0]).splitlines()[0]  # migration steps are in the log above
    return pulumi.RunError(
        f"calico-ipam: stack {stack_name} has {len(errors)} error finding(s) ({ids}); "
        f"nothing was registered. First: {first}. "
        f"See the errors above; `calico-ipam check --stack {stack_name}` (and `calico-ipam "
        f"plan --stack {stack_name}` for live gates) print the full report.")


# ------------------------------------------------------------------ resources

def cluster_target(stack: Stack) -> tuple[str | None, str | None]:
    """(kubeconfig path, context) of the stack's cluster (``calico-ipam:cluster``).

    ``kubernetes:context`` / ``kubernetes:kubeconfig`` of the stack file
    configure only Pulumi's default provider, which this program never uses;
    they are honoured as a fallback, and a ``kubernetes:context`` different
    from ``calico-ipam:cluster.context`` is refused, since it is then unclear
    which cluster the pools are meant for.
    """
    cluster = stack.cluster
    k8s_config = pulumi.Config("kubernetes")
    other = k8s_config.get("context")
    if cluster.context and other not in (None, cluster.context):
        raise InputError(
            f'context "{cluster.context}" differs from kubernetes:context "{other}"; set both '
            f"to the context of the cluster this stack manages (or drop kubernetes:context)",
            file=stack.file, path=("config", f"{CONFIG_NAMESPACE}:cluster", "context"),
            line=stack.cluster_location("context").line)
    kubeconfig = cluster.kubeconfig or k8s_config.get("kubeconfig")
    return (os.path.expanduser(kubeconfig) if kubeconfig else None,
            cluster.context or other)


def kubernetes_provider(stack: Stack, kubeconfig: str | None,
                        context: str | None) -> k8s.Provider:
    """The explicit provider of this stack's cluster."""
    return k8s.Provider(
        PROVIDER_NAME,
        kubeconfig=kubeconfig,
        context=context,
        # Without this, rotating credentials in the kubeconfig would replace
        # the provider and with it every pool; switching context still does.
        cluster_identifier=f"{stack.name}/{context or 'current-context'}",
        enable_server_side_apply=True,  # NamespacePatch needs server-side apply
    )


# ------------------------------------------------------------------ live safety gates

def allowed_disruptions() -> list[str]:
    """Pools named in $CALICO_IPAM_ALLOW_DISRUPTION (comma or space separated):
    the one-off equivalent of ``calico-ipam plan --allow-disruption POOL``,
    deliberately not a stack setting that could stay committed."""
    return os.environ.get(ALLOW_DISRUPTION_ENV, "").replace(",", " ").split()


def live_safety_findings(stack: Stack, kubeconfig: str | None,
                         context: str | None) -> tuple[list[Finding], frozenset[str]]:
    """``calico-ipam plan``'s safety gates against the live cluster (liveChecks: true),
    and the addresses of the declared objects that exist there (to adopt).

    Reads with the same kubeconfig and context as the provider; a failed or
    partial read raises ClusterError, so ``pulumi up`` never proceeds on a
    guess.
    """
    live = KubeReader.from_kubeconfig(kubeconfig, context).read()
    return safety_findings(stack, live, allowed_disruptions()), existing_objects(stack, live)


def adopt(address: str, name: str, existing: frozenset[str]) -> str | None:
    """The ``import_`` ID of an object that exists (its name: a cluster-scoped custom
    resource), None for one pulumi up creates."""
    return name if address in existing else None


def pool_options(stack: Stack, provider: k8s.Provider, name: str = "",
                 existing: frozenset[str] = frozenset(),
                 depends_on: list | None = None) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(
        provider=provider,
        retain_on_delete=stack.cluster.retain_on_delete,
        protect=stack.cluster.protect,
        replace_on_changes=list(REPLACE_ON_CHANGES),
        import_=adopt(f"ippool/{name}", name, existing),
        depends_on=depends_on or [],
    )


def calico_object(stack: Stack, provider: k8s.Provider, logical: str, manifest: Mapping,
                  address: str, existing: frozenset[str], retain: bool) -> pulumi.Resource:
    """The IPAMConfig or an IPReservation as a custom resource (protect as the stack
    says; the IPAMConfig is always retained: deleting it would put the cluster back on
    Calico's defaults)."""
    metadata = manifest["metadata"]
    return k8s.apiextensions.CustomResource(
        logical, api_version=manifest["apiVersion"], kind=manifest["kind"], metadata=metadata,
        spec=manifest["spec"], opts=pulumi.ResourceOptions(
            provider=provider, retain_on_delete=retain, protect=stack.cluster.protect,
            import_=adopt(address, metadata["name"], existing)))


def _bound_pool_names(stack: Stack, manifest: Mapping) -> list[str]:
    """Pool names a Namespace manifest's annotations refer to (by name or exact CIDR)."""
    by_cidr = {pool.spec.cidr: name for name, pool in stack.pools.items()}
    names = []
    annotations = manifest["metadata"].get("annotations") or {}
    for key in (IPV4_POOLS_ANNOTATION, IPV6_POOLS_ANNOTATION):
        for entry in json.loads(annotations.get(key, "[]")):
            name = entry if entry in stack.pools else by_cidr.get(entry)
            if name is not None and name not in names:
                names.append(name)
    return names


def register_resources(stack: Stack, provider: k8s.Provider,
                       existing: frozenset[str] = frozenset()) -> dict[str, pulumi.Resource]:
    """One resource per document of ``render_stack``, by logical name; *existing*
    (addresses) are adopted with Pulumi's import option."""
    resources: dict[str, pulumi.Resource] = {}
    pools: dict[str, pulumi.Resource] = {}
    governing: list[pulumi.Resource] = []  # IPAMConfig and reservations: before any pool
    for manifest in render.render_stack(stack):
        metadata = manifest["metadata"]
        if manifest["kind"] in render.IPAM_CONFIG_KINDS.values():
            resources[IPAM_CONFIG_RESOURCE_NAME] = calico_object(
                stack, provider, IPAM_CONFIG_RESOURCE_NAME, manifest, "ipamconfig/default",
                existing, retain=True)
            governing.append(resources[IPAM_CONFIG_RESOURCE_NAME])
        elif manifest["kind"] == render.RESERVATION_KIND:
            name = reservation_resource_name(metadata["name"])
            resources[name] = calico_object(
                stack, provider, name, manifest, f"ipreservation/{metadata['name']}", existing,
                retain=stack.cluster.retain_on_delete)
            governing.append(resources[name])
        elif manifest["kind"] == render.POOL_KIND:
            name = pool_resource_name(metadata["name"])
            pools[metadata["name"]] = resources[name] = k8s.apiextensions.CustomResource(
                name, api_version=manifest["apiVersion"], kind=manifest["kind"],
                metadata=metadata, spec=manifest["spec"],
                opts=pool_options(stack, provider, metadata["name"], existing, list(governing)))
        elif manifest["kind"] == "Namespace":
            name = namespace_resource_name(metadata["name"])
            annotations = {**metadata.get("annotations", {}),
                           FIELD_MANAGER_ANNOTATION: field_manager(stack.name)}
            depends = [pools[p] for p in _bound_pool_names(stack, manifest) if p in pools]
            resources[name] = k8s.core.v1.NamespacePatch(
                name, metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                    name=metadata["name"], annotations=annotations),
                opts=pulumi.ResourceOptions(provider=provider, depends_on=depends))
        else:  # pragma: no cover - render_stack emits only these kinds
            raise ValueError(f"render_stack produced an unexpected kind {manifest['kind']!r}")
    return resources


# ------------------------------------------------------------------ outputs

def _plain(value: Any) -> Any:
    """Dataclasses, enums, mapping proxies and tuples as JSON-friendly values."""
    if hasattr(value, "to_dict"):
        return _plain(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def pool_outputs(stack: Stack) -> dict[str, dict]:
    return {name: {"cidr": pool.spec.cidr, "blockSize": pool.spec.block_size,
                   "addresses": pool.addresses, "blocks": pool.blocks}
            for name, pool in sorted(stack.pools.items())}


def binding_outputs(stack: Stack) -> dict[str, dict]:
    out = {}
    for namespace, binding in sorted(stack.bindings.items()):
        entry: dict[str, Any] = {"ipv4Pools": list(binding.ipv4_pools),
                                 "ipv6Pools": list(binding.ipv6_pools)}
        if binding.expected_pods is not None:
            entry["expectedPods"] = binding.expected_pods
        out[namespace] = entry
    return out


def capacity_outputs(stack: Stack) -> list:
    return _plain(capacity.pool_capacity(stack))


def reservation_outputs(stack: Stack) -> dict[str, list[str]]:
    return {name: list(r.spec.reserved_cidrs) for name, r in sorted(stack.reservations.items())}


def export_outputs(stack: Stack, findings: list[Finding]) -> None:
    pulumi.export("pools", pool_outputs(stack))
    if stack.ipam_config is not None:
        pulumi.export("ipamConfig", stack.ipam_config.to_calico())
    if stack.reservations:
        pulumi.export("reservations", reservation_outputs(stack))
    pulumi.export("bindings", binding_outputs(stack))
    pulumi.export("capacity", capacity_outputs(stack))
    pulumi.export("findings", {s.value: sum(1 for f in findings if f.severity is s)
                               for s in Severity})


# ------------------------------------------------------------------ main

def main() -> None:
    stack_name = pulumi.get_stack()
    try:
        stack = read_stack(stack_name)
        findings = check.check_stack(stack, sibling_stacks(stack))
        kubeconfig, context = cluster_target(stack)
        existing: frozenset[str] = frozenset()
        if not has_errors(findings) and stack.cluster.live_checks:
            gates, existing = live_safety_findings(stack, kubeconfig, context)
            findings = findings + gates
    except CalicoIpamError as exc:
        pulumi.log.error(" ".join(filter(None, (getattr(exc, "rule", None), str(exc)))))
        raise pulumi.RunError(f"calico-ipam: stack {stack_name}: {exc}; nothing was "
                              "registered") from None
    log_findings(findings)
    if has_errors(findings):
        raise refuse(stack_name, findings)
    register_resources(stack, kubernetes_provider(stack, kubeconfig, context), existing)
    export_outputs(stack, findings)


main()
