"""The format registry: a report package's formats are the modules in it.

A format module declares ``NAME`` (the ``--format`` value), ``ORDER`` (its
place in the choices) and ``render(view) -> str``; other modules of the
package (the report object, helpers) declare no ``NAME`` and are skipped.
Adding a format is adding one module, as checkov discovers its checks by
package (checkov/terraform/checks/resource/aws/__init__.py) and the CLI its
commands.
"""
from __future__ import annotations

import importlib
import pkgutil
from types import MappingProxyType
from typing import Callable, Iterable, Mapping


def formats(package: str, path: Iterable[str], helpers: Iterable[str] = ()
            ) -> Mapping[str, Callable[..., str]]:
    """Name -> render function of every format module of *package* (its
    ``__name__`` and ``__path__``), in ``ORDER``; read-only. *helpers* names
    modules of the package that are not formats, which are then not imported
    only to find that out (every command's start-up pays for what ``--format``
    imports; tests/views/test_registry.py keeps the list true)."""
    modules = []
    skip = frozenset(helpers)
    for info in pkgutil.iter_modules(path):
        if info.name.startswith("_") or info.name in skip:
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "render"):
            modules.append(module)
    modules.sort(key=lambda m: (m.ORDER, m.NAME))
    return MappingProxyType({m.NAME: m.render for m in modules})
