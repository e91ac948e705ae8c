"""Where command output goes: standard output, or a file written atomically; colour."""
from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import UsageError


def use_color(stream) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")


def write_output(path: str, text: str) -> None:
    """Write all of *text* or nothing: a half-written SARIF file fails the upload."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
