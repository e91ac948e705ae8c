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
from typing import Any, Callable, Iterable

from ..core.errors import CIP001, CIP002, InputError, UsageError
from ..core.gc import paused_gc
from ..core.input_file import printable_path
from ..core.model import CONFIG_NAMESPACE, Stack
from ..core.words import a_kind, did_you_mean
from .build import CONFIG_KEYS, stack_from_config
from .yaml import YamlDocument, load_yaml_file

# Top-level keys Pulumi itself writes into stack files.
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")
_STACK_FILE_RE = re.compile(r"^Pulumi\.(?P<name>[^/]+)\.ya?ml$")


def list_stack_files(stacks_dir: str | os.PathLike) -> list[tuple[str, Path]]:
    """(stack name, path) of every Pulumi.<name>.yaml (or .yml) in the directory,
    by name.

    Whatever is named like a stack file is listed, whether or not it is a
    readable file: a dangling link, a directory or a FIFO there is a mistake
    that ``load_stack`` reports, never a stack silently left out of a check.
    A name with both a .yaml and a .yml file is listed once; loading it
    reports both.
    """
    directory = Path(stacks_dir)
    if not directory.is_dir():
        raise UsageError(f"stacks directory {printable_path(stacks_dir)} does not exist")
    found: dict[str, Path] = {}
    for entry in sorted(directory.iterdir()):
        match = _STACK_FILE_RE.match(entry.name)
        if match:
            found.setdefault(match.group("name"), entry)
    return sorted(found.items())


def _check_stack_file_name(path: Path, display: str) -> None:
    """A stack file's name must be text, and name one file: both
    Pulumi.<name>.yaml and Pulumi.<name>.yml is a stack declared twice."""
    if printable_path(path.name) != path.name:
        raise InputError("the file name is not UTF-8 text; name stack files "
                         "Pulumi.<stack>.yaml with a stack name of letters, digits, '-', "
                         "'_' and '.'", file=display, rule=CIP001)
    stem, suffix = os.path.splitext(path.name)
    if suffix in (".yaml", ".yml"):
        other = path.with_name(stem + (".yml" if suffix == ".yaml" else ".yaml"))
        if os.path.lexists(other):
            raise InputError(f"{_display(other)} declares the same stack; keep one of the two "
                             "files (which one Pulumi reads is not obvious to a reviewer)",
                             file=display, rule=CIP001)


def find_stack_file(stacks_dir: str | os.PathLike, name: str) -> Path:
    """The file of stack *name*, or a UsageError listing the stacks that exist."""
    stacks = dict(list_stack_files(stacks_dir))
    if name in stacks:
        return stacks[name]
    known = ", ".join(stacks) or "none"
    hint = did_you_mean(name, stacks)
    raise UsageError(f"no stack {name!r} in {printable_path(stacks_dir)} (expected "
                     f"Pulumi.{name}.yaml){hint}{' S' if hint else '; s'}tacks there: {known}")


def _display(path: Path) -> str:
    """Paths relative to the working directory read best in CI annotations;
    bytes that are not UTF-8 are shown escaped, so any name can be printed."""
    try:
        return printable_path(os.path.relpath(path))
    except ValueError:  # pragma: no cover - other drive on Windows
        return printable_path(path)


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
    _check_stack_file_name(path, display)
    ours, doc = read_stack_config(path, display)
    return stack_from_config(name, ours, file=display, source=doc.source)


def read_stack_config(path: str | os.PathLike, display: str | None = None
                      ) -> tuple[dict[str, Any], YamlDocument]:
    """The ``calico-ipam:*`` config of a stack file (keys without the prefix) and
    the loaded document; InputError for anything that is not a stack file."""
    display = display or _display(Path(path))
    doc = load_yaml_file(path, display=display)
    data = doc.data
    if not isinstance(data, dict):
        raise InputError(f"a stack file is a mapping with a config: key, not {a_kind(data)}",
                         file=display, line=1, rule=CIP002)
    for key in data:
        if key not in STACK_FILE_KEYS:
            line, col = doc.position((key,))
            raise InputError(f'unknown top-level key "{key}"{did_you_mean(key, STACK_FILE_KEYS)} '
                             f"(a Pulumi stack file has: {', '.join(STACK_FILE_KEYS)})",
                             file=display, path=(key,), line=line, column=col, rule=CIP002)
    config = data.get("config")
    if not isinstance(config, dict):
        line, col = doc.position(("config",))
        what = "missing" if config is None else f"{a_kind(config)}, not a mapping"
        raise InputError(f"config is {what}; declare calico-ipam:pools under config:",
                         file=display, path=("config",), line=line or 1, column=col,
                         rule=CIP002)
    ours = {_our_key(key, doc, display): value for key, value in config.items()
            if _is_ours(key, doc, display)}
    if "pools" not in ours:
        line, col = doc.position(("config",))
        raise InputError(f'config has no "{_PREFIX}pools": declare at least the pools of '
                         "this stack", file=display, path=("config",), line=line, column=col,
                         rule=CIP002)
    return ours, doc


_PREFIX = CONFIG_NAMESPACE + ":"


def _is_ours(key: str, doc: YamlDocument, display: str) -> bool:
    """Whether a config key is calico-ipam's; Pulumi's own spelling errors in our
    namespace are still ours to catch."""
    if key.startswith(_PREFIX):
        return True
    if key.split(":", 1)[0].replace("_", "-") in ("calico-ipam", "calicoipam", "calico"):
        line, col = doc.position(("config", key))
        raise InputError(f'unknown config key "{key}"; calico-ipam keys are '
                         f"{', '.join(_PREFIX + k for k in CONFIG_KEYS)}",
                         file=display, path=("config", key), line=line, column=col,
                         rule=CIP002)
    return False


def _our_key(key: str, doc: YamlDocument, display: str) -> str:
    short = key[len(_PREFIX):]
    if short not in CONFIG_KEYS:
        line, col = doc.position(("config", key))
        raise InputError(f'unknown config key "{key}"'
                         f'{did_you_mean(key, [_PREFIX + k for k in CONFIG_KEYS])}',
                         file=display, path=("config", key), line=line, column=col,
                         rule=CIP002)
    return short


def load_stacks(stacks_dir: str | os.PathLike, names: Iterable[str] = ()) -> list[Stack]:
    """The named stacks (all stacks in the directory when none are named)."""
    names = list(names)
    if names:
        return [load_stack(find_stack_file(stacks_dir, n), n) for n in names]
    files = list_stack_files(stacks_dir)
    if not files:
        raise UsageError(f"no Pulumi.<stack>.yaml files in {printable_path(stacks_dir)}")
    return [load_stack(path, name) for name, path in files]


def load_siblings(stacks_dir: str | os.PathLike, exclude: Iterable[str], *,
                  domain: str | None = None,
                  on_unreadable: Callable[[str, InputError], None] | None = None
                  ) -> list[Stack]:
    """The directory's other stacks (all but *exclude*), for routing-domain overlaps.

    With *domain*, only the stacks of that routing domain. A sibling that does
    not load raises its InputError, unless *on_unreadable* takes it: the CLI
    names it and goes on, while the Pulumi program and the policy pack refuse,
    since an overlap with it (CIP202) would otherwise pass unchecked.
    """
    skip = set(exclude)
    out = []
    for name, path in list_stack_files(stacks_dir):
        if name in skip:
            continue
        try:
            sibling = load_stack(path, name)
        except InputError as exc:
            if on_unreadable is None:
                raise
            on_unreadable(name, exc)
            continue
        if domain is None or sibling.cluster.routing_domain == domain:
            out.append(sibling)
    return out


def stacks_dir(project_dir: str | os.PathLike) -> Path:
    """``stackConfigDir`` of the project's Pulumi.yaml (Pulumi's default is the
    project directory itself)."""
    project = Path(project_dir)
    data = load_yaml_file(project / "Pulumi.yaml", display="Pulumi.yaml").data
    configured = data.get("stackConfigDir") if isinstance(data, dict) else None
    return project / (configured if isinstance(configured, str) and configured else ".")
