"""Values and names as a message shows them to the user."""
from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from typing import Any, Iterable

_KIND_NOUN = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
              (Mapping, "mapping"), ((list, tuple), "list"))


def show(value: Any, limit: int | None = 80) -> str:
    """A value as the user would write it in YAML/JSON (strings quoted), cut at *limit*."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    if limit is None or len(text) <= limit:
        return text
    return text[:limit - 1] + "…"


def kind(value: Any) -> str:
    """What the user wrote, as a noun: "boolean", "integer", "mapping", "null"..."""
    if value is None:
        return "null"
    for types, noun in _KIND_NOUN:
        if isinstance(value, types):
            return noun
    return type(value).__name__


def a_kind(value: Any) -> str:
    """``kind`` with its article: "a boolean", "an integer", "null (empty)"."""
    if value is None:
        return "null (empty)"
    noun = kind(value)
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The intended choice for a misspelt or mis-cased *word*, if one is close."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered:
        return lowered[word.lower()]
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return close[0]
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """'; did you mean "blockSize"?' or ''."""
    hint = closest(word, choices) if isinstance(word, str) else None
    return f'; did you mean "{hint}"?' if hint else ""


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 pod``, ``3 pods``; *many* for irregular plurals (``addresses``)."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def name_label(name: Any) -> str:
    """A pool or namespace name as messages show it: bare when it is a plain
    name, quoted (and cut) when it holds anything odd."""
    if isinstance(name, str) and name and re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        return name if len(name) <= 80 else name[:79] + "…"
    return show(name)


def severity_counts(errors: int, warnings: int, notes: int) -> str:
    """``1 error, 0 warnings, 2 notes``: the counts every report prints."""
    return f"{plural(errors, 'error')}, {plural(warnings, 'warning')}, {plural(notes, 'note')}"
