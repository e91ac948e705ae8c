"""Stack files and IPPool manifests: the bounded read and the one YAML loader.

The loading itself (safe, bounded, with line numbers) is ``core.yaml_doc``,
shared with the snapshot and kubeconfig readers; the file is read through
``core.input_file``, which refuses what is not a regular file and reads at
most ``STACK_FILE_BYTES`` whatever the file system says its size is.
"""
from __future__ import annotations

import os

from ..core.errors import CIP001
from ..core.input_file import printable_path, read_input
from ..core.limits import STACK_FILE_BYTES, STACK_VALUES
from ..core.yaml_doc import (
    SAFE_TAGS,
    Loader,
    YamlDocument,
    load_yaml_documents,
    load_yaml_text,
)

MAX_FILE_BYTES = STACK_FILE_BYTES.value
MAX_NODES = STACK_VALUES.value

__all__ = ["MAX_FILE_BYTES", "MAX_NODES", "SAFE_TAGS", "Loader", "YamlDocument",
           "load_yaml_documents", "load_yaml_file", "load_yaml_text", "read_yaml_bytes"]


def read_yaml_bytes(path: str | os.PathLike, *, display: str | None = None,
                    pipe: bool = False) -> bytes:
    """The bytes of a YAML file, refusing missing, unreadable, oversized and
    irregular files (directories, devices, dangling links, and FIFOs unless
    *pipe*: manifests may come from ``kubectl ... | calico-ipam import
    --manifests /dev/stdin``)."""
    return read_input(path, limit=STACK_FILE_BYTES, display=display, pipe=pipe, rule=CIP001)


def load_yaml_file(path: str | os.PathLike, *, display: str | None = None) -> YamlDocument:
    """Load one YAML document safely, or raise InputError naming the file and line."""
    file = display or printable_path(path)
    return load_yaml_text(read_yaml_bytes(path, display=file), file=file)
