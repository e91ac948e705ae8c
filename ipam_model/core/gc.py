"""The cyclic garbage collector held off while loading."""
from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def paused_gc():
    """Hold off the cyclic garbage collector while loading.

    Loading allocates hundreds of thousands of short-lived, acyclic objects
    (nodes, marks, paths); each allocation burst triggered collections that
    re-scanned everything already loaded, which cost more than the loading
    itself on a fleet of stacks. Nothing loaded is cyclic, so nothing is
    lost: reference counting frees it, and the collector resumes afterwards.
    Nested use leaves the collector as the outermost caller found it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
