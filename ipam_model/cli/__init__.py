"""``calico-ipam``: the command-line shell over the planning core."""
from .app import main

__all__ = ["main"]
