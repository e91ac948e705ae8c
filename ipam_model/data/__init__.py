"""Data files shipped with the package (JSON Schema, Go's math/rand seed table).

Layer contract: the only reader of package data; imports nothing of ipam_model.
"""
from __future__ import annotations

import functools
import json
from importlib import resources


@functools.lru_cache(maxsize=None)
def load_json(name: str):
    """A JSON file of this package, parsed once. Callers must not change it."""
    with resources.files(__name__).joinpath(name).open("rb") as fh:
        return json.load(fh)
