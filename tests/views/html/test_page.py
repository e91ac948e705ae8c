"""The page shell: one self-contained document that requests nothing.

Checked on every bundled stack's simulate page and on the plan page: no
``src``/``href`` pointing anywhere but inside the page, no ``url()``, no
``@import``/``@font-face``, no element that loads (``link``, ``img``,
``iframe``, ...), a Content-Security-Policy of ``default-src 'none'``, both
colour schemes, and the same bytes for the same input.
"""
from __future__ import annotations

import json
import re

import pytest
from html_helpers import parse, plan_every_change, run_cli

from ipam_model.views.html.model import Page
from ipam_model.views.html.page import bar_widths, render_page
from ipam_model.views.plan import PlanView, render

LOADING = {"link", "img", "iframe", "frame", "embed", "object", "video", "audio", "source",
           "track", "image", "use", "base", "form", "input"}


def pages(capsys):
    for stack in ("dev", "staging", "prod"):
        yield f"simulate {stack}", run_cli(capsys, "simulate", "--stack", stack,
                                           "--format", "html")[1]
    declared, live, plan = plan_every_change()
    yield "plan", render(PlanView(plan, live=live, stack=declared), "html")


def test_no_network_request_no_external_reference(capsys):
    for name, page in pages(capsys):
        tree = parse(page)
        tags = {e.tag for e in tree.iter() if isinstance(e.tag, str)}
        assert not tags & LOADING, name
        for e in tree.iter():
            for key in ("src", "href", "xlink:href", "srcset", "action", "poster", "data"):
                value = e.get(key)
                assert value is None or value.startswith("#"), (name, e.tag, key, value)
        styles = " ".join([e.text or "" for e in tree.iter("style")]
                          + [e.get("style") or "" for e in tree.iter()])
        assert "url(" not in styles and "@import" not in styles and "@font-face" not in styles
        scripts = [e for e in tree.iter("script")]
        assert all(s.get("src") is None for s in scripts)
        code = " ".join(s.text or "" for s in scripts)
        assert not re.search(r"\b(fetch|XMLHttpRequest|WebSocket|EventSource|import\s*\()", code)
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}", page, re.I), name


def test_the_policy_forbids_every_request_and_both_colour_schemes_are_styled(capsys):
    _, page = next(pages(capsys))
    head = parse(page).find("head")
    csp = next(m.get("content") for m in head.iter("meta")
               if m.get("http-equiv") == "Content-Security-Policy")
    assert csp.startswith("default-src 'none';") and "connect-src 'none'" in csp
    assert any(m.get("name") == "color-scheme" and m.get("content") == "light dark"
               for m in head.iter("meta"))
    assert "@media (prefers-color-scheme:dark)" in head.find("style").text


def test_the_same_input_gives_the_same_bytes(capsys):
    first = [p for _, p in pages(capsys)]
    assert first == [p for _, p in pages(capsys)]


def test_the_node_group_map_cannot_close_its_script_element():
    hostile = "x</script><script>alert(1)</script>"
    page = render_page(Page(title="t", heading="t", summary=(), facts=(), pools=(),
                            nodes=((hostile, hostile + "<!--"),)))
    scripts = list(parse(page).iter("script"))
    assert len(scripts) == 2  # the node-group map and the page's script, nothing injected
    assert json.loads(scripts[0].text) == {hostile: hostile + "<!--"}


@pytest.mark.parametrize("values,total", [([5, 10, 0, 85], 100), ([1, 0, 0, 10 ** 9], 10 ** 9),
                                          ([0, 0, 0, 0], 0), ([1, 1, 1, 1], 4)])
def test_bar_shares_fill_the_bar_and_a_sliver_stays_visible(values, total):
    widths = bar_widths(values, total)
    if total:
        assert abs(sum(widths) - 1000) < 1e-6
        assert all(w >= 4 for v, w in zip(values, widths) if v)
    assert all(w == 0 for v, w in zip(values, widths) if not v)
