"""The page shell: one self-contained HTML document for a ``Page``.

Inline CSS, SVG and script; a Content-Security-Policy that forbids every
request (``default-src 'none'``), so even a browser that follows a stray
reference fetches nothing; system fonts. The output depends only on the
``Page``: no clock, no random ids.
"""
from __future__ import annotations

from typing import Sequence

from ...core.words import plural
from ..utilisation import Utilisation
from .colours import Palette
from .grid import loose_grid, pool_map
from .markup import attr, count, script_json, text
from .model import ChangeMark, Notice, Page, PoolPicture, Section
from .script import SCRIPT
from .style import CSS

# Inline style and script only; nothing may be fetched, framed or submitted.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
       "img-src 'none'; font-src 'none'; connect-src 'none'; base-uri 'none'; "
       "form-action 'none'")
BAR_UNITS = 1000       # the bar's viewBox width
BAR_MIN = 4            # a share that exists is never thinner than this


def render_page(page: Page) -> str:
    palette = Palette(page.nodes)
    body = [_header(page), '<main>', _legend(page, palette)]
    body += [_section(s) for s in page.sections]
    body += [_pool(p, palette, f"p{i}") for i, p in enumerate(page.pools)]
    if page.loose_blocks:
        body.append(_loose(page, palette))
    body += ['</main>', _footer(), '<div id="tip" role="tooltip" hidden></div>',
             '<script type="application/json" id="node-groups">'
             + script_json({n: g for n, g in palette.nodes if g}) + '</script>',
             f'<script>{SCRIPT}</script>']
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="color-scheme" content="light dark">\n'
            f'<title>{text(page.title)}</title>\n'
            f'<style>{CSS}{palette.stylesheet()}</style>\n</head>\n<body>\n'
            + "\n".join(body) + '\n</body>\n</html>\n')


def _header(page: Page) -> str:
    facts = "".join(f'<div><dt>{text(k)}</dt><dd>{text(v)}</dd></div>' for k, v in page.facts)
    if page.ipam is not None:
        ipam = page.ipam
        default = ("" if ipam.max_blocks_per_host
                   else f" (Calico default {ipam.effective_max_blocks})")
        facts += (f'<div><dt>IPAM configuration</dt><dd>strictAffinity '
                  f'{str(ipam.strict_affinity).lower()}, maxBlocksPerHost '
                  f'{ipam.max_blocks_per_host}{default}'
                  f' <span class="muted">({text(ipam.source)})</span></dd></div>')
    summary = "".join(f'<p class="summary">{text(line)}</p>' for line in page.summary)
    return (f'<header>\n<h1>{text(page.heading)}</h1>\n{summary}\n'
            f'<dl class="facts">{facts}</dl>\n</header>')


def _legend(page: Page, palette: Palette) -> str:
    groups = []
    for g in palette.legend():
        nodes = "".join(f'<li><span class="sw {cls}"></span>{text(n)}</li>' for n, cls in g.nodes)
        size = palette.group_size(g.name)
        head = (f'<span class="sw" style="{g.swatch.css()}"></span><b>{text(g.name)}</b> '
                f'<span class="muted">{size:,} {"node" if size == 1 else "nodes"}'
                f'{"; a shade per node" if size > 1 and not g.nodes else ""}</span>')
        listed = f"<ul>{nodes}</ul>" if nodes else ""
        groups.append(f'<div><div class="group">{head}</div>{listed}</div>')
    if not groups:
        groups.append('<div class="muted">No node holds a block.</div>')
    markers = ('<ul>'
               '<li><span class="sw b nx" style="--f:50%"></span>block, filled by its share '
               'allocated</li>'
               '<li><span class="sw e"></span>not claimed</li>'
               '<li><span class="sw b nx bw" style="--f:30%"></span>addresses borrowed by '
               'other nodes</li>'
               '<li><span class="sw b nx tu" style="--f:30%"></span>tunnel address</li>'
               '<li><span class="sw b nx rs" style="--f:30%"></span>reserved '
               '(IPReservation)</li>'
               '<li><span class="sw a nx" style="--f:30%"></span>a range of blocks '
               '(zoomable)</li></ul>')
    return (f'<section class="box legend" aria-label="Legend"><div><h3>Nodes by node group</h3>'
            f'<div class="legend">{"".join(groups)}</div></div>'
            f'<div><h3>Cells</h3>{markers}</div></section>')


def _section(s: Section) -> str:
    items = "".join(f"<li>{text(i)}</li>" for i in s.items)
    return (f'<section class="box section-{attr(s.kind)}"><h2>{text(s.title)}</h2>'
            f'<ul class="items">{items}</ul></section>')


def _pool(p: PoolPicture, palette: Palette, key: str) -> str:
    tag = _tag(p)
    geometry = (f'/{p.block_size} blocks of {count(p.block_addresses)} '
                f'address{"es" if p.block_addresses != 1 else ""}')
    out = [f'<section class="box pool{" greyed" if p.greyed else ""}" '
           f'aria-labelledby="{key}-h" id="pool-{attr(p.name)}">',
           f'<h2 id="{key}-h">{tag}<span>pool {text(p.name)}</span> <code>{text(p.cidr.text)}'
           f'</code> <span class="muted">{geometry}</span></h2>']
    if p.facts:
        out.append(f'<p class="muted">{" · ".join(text(f) for f in p.facts)}</p>')
    if p.change is not None and p.change.lines:
        out.append('<ul class="changes">' + "".join(f"<li>{text(line)}</li>"
                                                   for line in p.change.lines) + "</ul>")
    out.append(_usage(p.utilisation, p.name))
    if p.reserved:
        out.append('<p>Reserved: ' + ", ".join(f'<code>{text(c.text)}</code> ({text(n)})'
                                               for n, c in p.reserved) + '</p>')
    if p.outlook:
        out.append('<h3>Forecast of the declared load</h3><ul class="outlook">'
                   + "".join(f"<li>{text(line)}</li>" for line in p.outlook) + "</ul>")
    out += [_notice(n) for n in p.notices]
    out += [pool_map(p, palette, key), '</section>']
    return "\n".join(out)


def _tag(p: PoolPicture) -> str:
    if p.greyed:
        return '<span class="tag unmanaged">not managed by this stack</span>'
    mark: ChangeMark | None = p.change
    if mark is None:
        return ""
    symbol = mark.action.symbol.strip()  # Terraform's +, ~, -/+, -; none for no change
    sym = f'<span class="sym">{text(symbol)}</span> ' if symbol else ""
    return f'<span class="tag {mark.action.value}">{sym}{text(mark.word)}</span>'


def _usage(u: Utilisation, name: str) -> str:
    """The used / stranded / reserved / free bar and its numbers."""
    parts = [("u", "used", u.used), ("s", "stranded", u.stranded),
             ("r", "reserved", u.reserved), ("f", "free", u.free)]
    widths = bar_widths([n for _, _, n in parts], u.capacity)
    x, rects = 0.0, []
    for (cls, _, n), w in zip(parts, widths):
        if w:
            rects.append(f'<rect class="{cls}" x="{x:.1f}" y="0" width="{w:.1f}" height="14"/>')
            x += w
    words = [f'{label} {count(n)} ({u.percent(n)})' for _, label, n in parts]
    aria = (f"pool {name}: " + ", ".join(words) + f" of {count(u.capacity)} addresses")
    counts = "".join(f'<span class="{cls}">{text(w)}</span>'
                     for (cls, _, n), w in zip(parts, words) if n or cls in "uf")
    counts += (f'<span>{count(u.blocks_claimed)} of {count(u.blocks_total)} blocks claimed'
               f'</span>')
    if u.borrowed:
        counts += (f'<span>{count(u.borrowed)} borrowed '
                   f'address{"es" if u.borrowed != 1 else ""}</span>')
    return (f'<div class="usage"><svg class="bar" viewBox="0 0 {BAR_UNITS} 14" '
            f'preserveAspectRatio="none" role="img" aria-label="{attr(aria)}">'
            f'<title>{text(aria)}</title>{"".join(rects)}</svg>'
            f'<div class="counts">{counts}</div></div>')


def bar_widths(values: Sequence[int], total: int) -> list[float]:
    """Proportional widths summing to the bar; a non-zero share gets at least BAR_MIN."""
    if not total:
        return [0.0] * len(values)
    raw = [BAR_UNITS * v / total for v in values]
    widths = [max(BAR_MIN, w) if v else 0.0 for v, w in zip(values, raw)]
    excess = sum(widths) - BAR_UNITS
    if excess > 0:  # take the minimums' extra from the widest share
        widest = widths.index(max(widths))
        widths[widest] = max(BAR_MIN, widths[widest] - excess)
    return widths


def _notice(n: Notice) -> str:
    body = f'<b>{text(n.title)}</b>{text(n.text)}'
    if n.steps:
        steps = "".join(
            f'<li>{text(step)}' + "".join(f"<pre>{text(c)}</pre>" for c in commands) + "</li>"
            for step, commands in n.steps)
        body += (f'<details><summary>{text(n.steps_title or "Steps")}</summary>'
                 f'<ol>{steps}</ol></details>')
    return f'<div class="notice {attr(n.kind)}" role="note">{body}</div>'


def _loose(page: Page, palette: Palette) -> str:
    n = len(page.loose_blocks)
    return (f'<section class="box pool" aria-labelledby="loose-h"><h2 id="loose-h">'
            f'{plural(n, "block")} inside no pool</h2><p class="muted">calicoctl ipam show '
            'lists them as orphaned allocation blocks: their pool was deleted or changed '
            'while addresses were allocated.</p><div class="map">'
            + loose_grid(page.loose_blocks, palette, f"{plural(n, 'block')} inside no pool")
            + '</div></section>')


def _footer() -> str:
    return ('<footer>Made by calico-ipam. One self-contained file: it makes no network '
            'request. Every block cell carries <code>data-cidr</code>, <code>data-node</code>, '
            '<code>data-allocated</code> and <code>data-size</code>; the cells of a pool too '
            'large to draw whole wait in <code>&lt;template&gt;</code> elements, one per '
            'range.</footer>')
