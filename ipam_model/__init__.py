"""calico-ipam's planning core: pure Python, no Pulumi, no I/O outside the edges.

The curated public API (everything else is internal and may change):

- ``validate_pool(name, spec, metadata=None) -> list[Finding]``: one IPPool.
- ``validate_pools(pools) -> list[Finding]``: several pools, overlaps included.
- ``load_stack(path)``, ``load_stacks(dir, names=())``, ``stack_from_config(name, config)``.
- ``check_stack(stack, siblings=())``, ``check_stacks(stacks, context=())``.
- ``render_stack(stack, api_version=None)``: IPPool manifests + Namespace patches.
- The dataclasses ``Finding``, ``Location``, ``Severity``, ``Pool``, ``PoolSpec``,
  ``Binding``, ``NodeGroup``, ``ClusterSettings``, ``Stack``; the catalogue ``RULES``;
  the errors ``InputError``, ``UsageError``, ``ClusterError``.

Names resolve lazily so that importing one module does not load them all.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "validate_pool": "calico.validate",
    "validate_pools": "rules.runner",
    "check_stack": "rules.runner",
    "check_stacks": "rules.runner",
    "load_stack": "declared.files",
    "load_stacks": "declared.files",
    "stack_from_config": "declared.build",
    "render_stack": "views.manifests",
    "RULES": "catalogue",
    "Rule": "core.rules",
    "Finding": "core.model",
    "Location": "core.model",
    "Severity": "core.model",
    "Pool": "core.model",
    "PoolSpec": "core.model",
    "Binding": "core.model",
    "NodeGroup": "core.model",
    "ClusterSettings": "core.model",
    "Stack": "core.model",
    "has_errors": "core.model",
    "InputError": "core.errors",
    "UsageError": "core.errors",
    "ClusterError": "core.errors",
}

__all__ = sorted(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ipam_model' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
