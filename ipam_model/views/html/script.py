"""The page's script, inlined: tooltips, keyboard navigation and zoom.

No network, no storage, no dependency. It reads only the cells' ``data-*``
attributes and the node-to-group map in ``<script id="node-groups">``:

* hover or focus on a cell shows the tooltip (``role=tooltip``, referenced by
  the focused cell's ``aria-describedby``) and gives the cell its label;
* each grid is one tab stop; the arrow keys, Home/End (Ctrl: first/last
  cell) and PageUp/PageDown move the focus, the tooltip follows it;
* Enter, Space or a click on a range cell zooms into it (its grid comes from
  the ``<template>`` named by ``data-zoom``); Escape or the trail's buttons
  zoom out again, back to the cell the user came from.
"""
from __future__ import annotations

SCRIPT = r"""
(function () {
  "use strict";
  var tip = document.getElementById("tip");
  var groupsEl = document.getElementById("node-groups");
  var groups = groupsEl ? JSON.parse(groupsEl.textContent || "{}") : {};
  var shown = null;

  function big(text) {
    if (!text || text.length < 13) { return Number(text).toLocaleString("en-US"); }
    var n = BigInt(text);
    if ((n & (n - 1n)) === 0n) { return "2^" + (n.toString(2).length - 1); }
    return "\u2248" + Number(text).toPrecision(3);
  }

  function lines(cell) {
    var d = cell.dataset, out = [];
    if (d.cidr !== undefined) {
      out.push(["block", d.cidr]);
      var node = d.node ? d.node + (groups[d.node] ? " (" + groups[d.node] + ")" : "")
                        : (d.affinity || "no affinity");
      out.push(["node", node]);
      out.push(["allocated", big(d.allocated) + " of " + big(d.size)]);
      out.push(["pods", d.pods || "none"]);
    } else if (d.range !== undefined) {
      out.push(["range", d.range]);
      out.push(["blocks", big(d.claimed) + " of " + big(d.slots) + " claimed"]);
      out.push(["allocated", big(d.used) + " of " + big(d.capacity)]);
      if (d.nodes) { out.push(["nodes", d.nodes]); }
      if (d.pods) { out.push(["pods", d.pods]); }
    } else if (d.slot !== undefined) {
      out.push(["block", d.slot]);
      out.push(["", "not claimed by any node"]);
    }
    if (d.borrowed) { out.push(["borrowed", big(d.borrowed) + " addresses held by other nodes"]); }
    if (d.tunnel) { out.push(["tunnel", d.tunnel]); }
    if (d.reserved) { out.push(["reserved", d.reserved]); }
    if (d.deleted) { out.push(["state", "being deleted"]); }
    return out;
  }

  function label(cell) {
    return lines(cell).map(function (l) { return l[0] ? l[0] + " " + l[1] : l[1]; })
      .join("; ") + (cell.dataset.zoom ? "; press Enter to zoom in" : "");
  }

  function show(cell) {
    tip.replaceChildren();
    lines(cell).forEach(function (l) {
      var row = document.createElement("div");
      var key = document.createElement("b");
      key.textContent = l[0];
      var value = document.createElement("span");
      value.textContent = l[1];
      row.append(key, value);
      tip.append(row);
    });
    if (cell.dataset.zoom) {
      var hint = document.createElement("p");
      hint.className = "hint";
      hint.textContent = "Click or press Enter to zoom in";
      tip.append(hint);
    }
    tip.hidden = false;
    // Below the cell (above it near the bottom of the window), never off screen.
    var r = cell.getBoundingClientRect();
    var view = document.documentElement;
    var left = Math.min(r.left, view.clientWidth - tip.offsetWidth - 8);
    var top = r.bottom + 8;
    if (top + tip.offsetHeight > view.clientHeight && r.top - 8 - tip.offsetHeight > 0) {
      top = r.top - 8 - tip.offsetHeight;
    }
    tip.style.left = (Math.max(4, left) + window.scrollX) + "px";
    tip.style.top = (top + window.scrollY) + "px";
    if (shown && shown !== cell) { shown.removeAttribute("aria-describedby"); }
    cell.setAttribute("aria-describedby", "tip");
    shown = cell;
  }

  function hide() {
    tip.hidden = true;
    if (shown) { shown.removeAttribute("aria-describedby"); }
    shown = null;
  }

  function cellOf(node) {
    return node && node.closest ? node.closest("[role=gridcell]") : null;
  }

  function cellsOf(grid) {
    var cells = grid.querySelectorAll(":scope > [role=row] > [role=gridcell]");
    return Array.prototype.slice.call(cells);
  }

  function rove(to) {
    var grid = to.closest("[role=grid]");
    grid.querySelectorAll(":scope > [role=row] > [tabindex='0']").forEach(function (c) {
      if (c !== to) { c.tabIndex = -1; }
    });
    to.tabIndex = 0;
  }

  function focusCell(to) {
    rove(to);
    to.focus();
  }

  function target(cells, i, cols, e) {
    var row = i - (i % cols);
    switch (e.key) {
      case "ArrowRight": return i + 1;
      case "ArrowLeft": return i - 1;
      case "ArrowDown": return i + cols;
      case "ArrowUp": return i - cols;
      case "PageDown": return Math.min(cells.length - 1, i + cols * 8);
      case "PageUp": return Math.max(0, i - cols * 8);
      case "Home": return e.ctrlKey ? 0 : row;
      case "End": return e.ctrlKey ? cells.length - 1 : Math.min(cells.length - 1, row + cols - 1);
      default: return null;
    }
  }

  function levels(map) {
    return Array.prototype.slice.call(map.querySelectorAll(":scope > .level"));
  }

  function drawTrail(map) {
    var trail = map.querySelector(":scope > .crumbs");
    var all = levels(map);
    trail.replaceChildren();
    trail.hidden = all.length < 2;
    all.forEach(function (level, depth) {
      if (depth) {
        var sep = document.createElement("span");
        sep.textContent = "\u203a";
        trail.append(sep);
      }
      var b = document.createElement("button");
      b.type = "button";
      b.dataset.depth = String(depth);
      b.textContent = depth ? level.dataset.range : "whole pool";
      if (depth === all.length - 1) { b.setAttribute("aria-current", "location"); }
      trail.append(b);
    });
  }

  function zoomIn(cell) {
    var map = cell.closest(".map");
    var template = document.getElementById(cell.dataset.zoom);
    if (!map || !template) { return; }
    hide();
    var all = levels(map);
    all[all.length - 1].hidden = true;
    var level = document.createElement("div");
    level.className = "level";
    level.dataset.range = cell.dataset.range;
    level.origin = cell;
    level.append(template.content.cloneNode(true));
    map.append(level);
    drawTrail(map);
    var first = level.querySelector("[role=gridcell][tabindex='0']");
    if (first) { first.focus(); }
  }

  function zoomOut(map, depth) {
    var all = levels(map);
    if (depth >= all.length - 1) { return; }
    hide();
    var back = all[depth + 1].origin;
    for (var i = all.length - 1; i > depth; i--) { all[i].remove(); }
    all[depth].hidden = false;
    drawTrail(map);
    if (back) { focusCell(back); }
  }

  document.addEventListener("focusin", function (e) {
    var cell = cellOf(e.target);
    if (cell) {
      cell.setAttribute("aria-label", label(cell));
      show(cell);
    }
  });
  document.addEventListener("focusout", function (e) {
    if (cellOf(e.target) === shown) { hide(); }
  });
  document.addEventListener("mouseover", function (e) {
    var cell = cellOf(e.target);
    if (cell) { show(cell); }
  });
  document.addEventListener("mouseout", function (e) {
    var cell = cellOf(e.target);
    if (!cell || cell.contains(e.relatedTarget)) { return; }
    var focused = cellOf(document.activeElement);
    if (focused) { show(focused); } else { hide(); }
  });
  document.addEventListener("click", function (e) {
    var crumb = e.target.closest ? e.target.closest(".crumbs button") : null;
    if (crumb) {
      zoomOut(crumb.closest(".map"), Number(crumb.dataset.depth));
      return;
    }
    var cell = cellOf(e.target);
    if (!cell) { return; }
    rove(cell);
    if (cell.dataset.zoom) { zoomIn(cell); }
  });
  document.addEventListener("keydown", function (e) {
    var cell = cellOf(e.target);
    if (!cell) { return; }
    var map = cell.closest(".map");
    if (e.key === "Escape") {
      if (map && levels(map).length > 1) {
        zoomOut(map, levels(map).length - 2);
        e.preventDefault();
      } else { hide(); }
      return;
    }
    if ((e.key === "Enter" || e.key === " ") && cell.dataset.zoom) {
      zoomIn(cell);
      e.preventDefault();
      return;
    }
    var grid = cell.closest("[role=grid]");
    var cells = cellsOf(grid);
    var i = cells.indexOf(cell);
    var j = target(cells, i, Number(grid.dataset.cols) || 1, e);
    if (j === null) { return; }
    e.preventDefault();
    if (j >= 0 && j < cells.length && j !== i) { focusCell(cells[j]); }
  });
  window.addEventListener("resize", function () { if (shown) { show(shown); } });
})();
"""
