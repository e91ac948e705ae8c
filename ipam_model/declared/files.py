"""Stacks: from a Pulumi stack file (or a config mapping) to a ``Stack``.

A stack file is ``stacks/Pulumi.<env>.yaml``. Only its ``calico-ipam:*``
config keys belong to this tool; other namespaces (``kubernetes:context``,
``aws:region``) are left alone. The same ``stack_from_config`` serves the
CLI (which reads the file) and the Pulumi program (which reads
``pulumi.Config``), so both see identical stacks.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterable

from ..core.errors import InputError, UsageError
from ..core.gc import paused_gc
from ..core.model import CONFIG_NAMESPACE, Stack
from .build import CONFIG_KEYS, stack_from_config
from .schema import kind_of, suggest
from .yaml import load_yaml_file

# Top-level keys Pulumi itself writes into stack files.
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")
_STACK_FILE_RE = re.compile(r"^Pulumi\.(?P<name>[^/]+)\.ya?ml$")


def list_stack_files(stacks_dir: str | os.PathLike) -> list[tuple[str, Path]]:
    """(stack name, path) of every Pulumi.<name>.yaml in the directory, by name."""
    directory = Path(stacks_dir)
    if not directory.is_dir():
        raise UsageError(f"stacks directory {os.fspath(stacks_dir)} does not exist")
    found = []
    for entry in directory.iterdir():
        match = _STACK_FILE_RE.match(entry.name)
        if match and entry.is_file():
            found.append((match.group("name"), entry))
    return sorted(found)


def find_stack_file(stacks_dir: str | os.PathLike, name: str) -> Path:
    """The file of stack *name*, or a UsageError listing the stacks that exist."""
    stacks = dict(list_stack_files(stacks_dir))
    if name in stacks:
        return stacks[name]
    known = ", ".join(stacks) or "none"
    hint = suggest(name, stacks)
    raise UsageError(f"no stack {name!r} in {os.fspath(stacks_dir)} (expected "
                     f"Pulumi.{name}.yaml){hint}{' S' if hint else '; s'}tacks there: {known}")


def _display(path: Path) -> str:
    """Paths relative to the working directory read best in CI annotations."""
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        return os.fspath(path)


def load_stack(path: str | os.PathLike, name: str | None = None) -> Stack:
    """Load and schema-check one stack file. Raises InputError on bad input."""
    with paused_gc():  # see stackfile.paused_gc: loading allocates a lot, nothing cyclic
        return _load_stack(path, name)


def _load_stack(path: str | os.PathLike, name: str | None) -> Stack:
    path = Path(path)
    display = _display(path)
    if name is None:
        match = _STACK_FILE_RE.match(path.name)
        name = match.group("name") if match else path.stem
    doc = load_yaml_file(path, display=display)
    data = doc.data
    if not isinstance(data, dict):
        raise InputError(f"a stack file is a mapping with a config: key, not {kind_of(data)}",
                         file=display, line=1, rule="CIP002")
    for key in data:
        if key not in STACK_FILE_KEYS:
            line, col = doc.position((key,))
            raise InputError(f'unknown top-level key "{key}"{suggest(key, STACK_FILE_KEYS)} '
                             f"(a Pulumi stack file has: {', '.join(STACK_FILE_KEYS)})",
                             file=display, path=(key,), line=line, column=col, rule="CIP002")
    config = data.get("config")
    if not isinstance(config, dict):
        line, col = doc.position(("config",))
        what = "missing" if config is None else f"{kind_of(config)}, not a mapping"
        raise InputError(f"config is {what}; declare calico-ipam:pools under config:",
                         file=display, path=("config",), line=line or 1, column=col,
                         rule="CIP002")
    ours: dict[str, Any] = {}
    prefix = CONFIG_NAMESPACE + ":"
    for key, value in config.items():
        if not key.startswith(prefix):
            # Pulumi's own spelling errors in our namespace are still ours to catch.
            if key.split(":", 1)[0].replace("_", "-") in ("calico-ipam", "calicoipam", "calico"):
                line, col = doc.position(("config", key))
                raise InputError(f'unknown config key "{key}"; calico-ipam keys are '
                                 f"{', '.join(prefix + k for k in CONFIG_KEYS)}",
                                 file=display, path=("config", key), line=line, column=col,
                                 rule="CIP002")
            continue
        short = key[len(prefix):]
        if short not in CONFIG_KEYS:
            line, col = doc.position(("config", key))
            raise InputError(f'unknown config key "{key}"'
                             f'{suggest(key, [prefix + k for k in CONFIG_KEYS])}',
                             file=display, path=("config", key), line=line, column=col,
                             rule="CIP002")
        ours[short] = value
    if "pools" not in ours:
        line, col = doc.position(("config",))
        raise InputError(f'config has no "{prefix}pools": declare at least the pools of '
                         "this stack", file=display, path=("config",), line=line, column=col,
                         rule="CIP002")
    return stack_from_config(name, ours, file=display, source=doc.source)


def load_stacks(stacks_dir: str | os.PathLike, names: Iterable[str] = ()) -> list[Stack]:
    """The named stacks (all stacks in the directory when none are named)."""
    names = list(names)
    if names:
        return [load_stack(find_stack_file(stacks_dir, n), n) for n in names]
    files = list_stack_files(stacks_dir)
    if not files:
        raise UsageError(f"no Pulumi.<stack>.yaml files in {os.fspath(stacks_dir)}")
    return [load_stack(path, name) for name, path in files]
