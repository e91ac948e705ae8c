"""Escaping and number formatting for the page.

Every text from a stack file or a cluster (pool, node and namespace names,
messages) goes through ``text`` or ``attr``: a name such as
``<img src=x onerror=...>`` stays a name. JSON inside ``<script>`` goes
through ``script_json``, which cannot close the element.
"""
from __future__ import annotations

import html
import json
from typing import Any, Mapping

PODS_SHOWN = 6                 # namespaces named in a tooltip, the rest counted


def text(value: Any) -> str:
    """Text content."""
    return html.escape(str(value), quote=False)


def attr(value: Any) -> str:
    """A double-quoted attribute value."""
    return html.escape(str(value), quote=True)


def script_json(value: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``."""
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def count(n: int) -> str:
    """``1,234``; an IPv6-sized count as a power of two (``2^64``) or ``≈1.2e+21``."""
    if n < 10 ** 12:
        return f"{n:,}"
    if n & (n - 1) == 0:
        return f"2^{n.bit_length() - 1}"
    return f"≈{n:.3g}"


def share(part: int, whole: int) -> str:
    """*part* of *whole* as a CSS percentage for the fill (``37.5%``)."""
    if not whole or not part:
        return "0%"
    return f"{min(100.0, 100 * part / whole):.4g}%"


def tally(counts: Mapping[str, int], limit: int = PODS_SHOWN, unit: str = "") -> str:
    """``web 10, db 2, 3 more``: largest first, then by name."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    parts = [f"{name} {n:,}{unit}" for name, n in items[:limit]]
    if len(items) > limit:
        parts.append(f"{len(items) - limit} more")
    return ", ".join(parts)
