"""The address space as one self-contained HTML page: ``simulate --format html``
and ``plan --format html``.

Per pool a grid with one cell per IPAM block in CIDR order, coloured by the
node holding it and filled by the share of its addresses allocated; a bar of
used, stranded, reserved and free addresses; the forecast; for a plan the
change Terraform-style, gates and migrations. Every block cell carries
``data-cidr``, ``data-node``, ``data-allocated`` and ``data-size`` (the
``blocks`` of ``simulate --format json``, the snapshot's IPAMBlocks for a
plan). Inline CSS, SVG and script; the page requests nothing.

``model`` (the page as data), ``simulation`` and ``plan`` (the builders),
``page`` (the document), ``grid`` (a pool's cells, ranges and zoom),
``colours``, ``nodes`` (node groups), ``pools``, ``markup``, ``style``,
``script``. Pure: the CLI writes the text.
"""
from __future__ import annotations

from .model import IpamShown, Page, Reservation, reservations_of
from .nodes import NodeGroups
from .page import render_page
from .simulation import simulation_model, simulation_page

__all__ = ["IpamShown", "NodeGroups", "Page", "Reservation", "render_page",
           "reservations_of", "simulation_model", "simulation_page"]
