"""YAML paths: how they are written in messages, and the line of the longest known prefix."""
from __future__ import annotations

from functools import lru_cache
from typing import Mapping

YamlPath = tuple  # tuple of str keys and int list indices
Position = tuple  # (line, column), 1-based


def format_yaml_path(path: YamlPath) -> str:
    """Render ('config', 'calico-ipam:pools', 'a.b', 'cidr') as
    ``config.calico-ipam:pools."a.b".cidr`` and list indices as ``[0]``."""
    path = tuple(path)
    # The types are part of the key: True == 1 but renders as [True], not [1].
    return _format(path, tuple(map(type, path)))


@lru_cache(maxsize=1 << 16)  # reports write the same few paths for thousands of findings
def _format(path: tuple, types: tuple) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        text = str(part)
        if text == "" or any(c in text for c in '. []"'):
            text = '"' + text.replace('"', '\\"') + '"'
        out += ("." if out else "") + text
    return out


def position_of(source: Mapping[YamlPath, Position], path: YamlPath,
                default: Position = (None, None)) -> Position:
    """(line, column) of *path*, or of its longest prefix the source map knows:
    a value the loader did not record (a defaulted key) points at its parent."""
    probe = tuple(path)
    while probe:
        if probe in source:
            return source[probe]
        probe = probe[:-1]
    return default
