"""Charts drawn on the server as inline SVG: they print, they need no JavaScript, and each
carries its text equivalent (<title> and <desc>; the page puts the table beside it).
Series differ by shape and pattern as well as colour."""
from __future__ import annotations

from datetime import date

from markupsafe import Markup, escape

WIDTH = 640
INK, MUTED, GRID = "#1a1a1a", "#555555", "#d0d0d0"
BLUE, ORANGE, GREEN, GREY = "#0b5394", "#b45309", "#2e7d32", "#757575"


def _open(chart_id: str, height: int, title: str, desc: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}" viewBox="0 0 {WIDTH} {height}" '
            f'width="100%" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
            f'font-family="DejaVu Sans, Arial, sans-serif" font-size="12">',
            f'<title id="{chart_id}-title">{escape(title)}</title>',
            f'<desc id="{chart_id}-desc">{escape(desc)}</desc>']


def _clip(text: str, limit: int = 26) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def rate_bars(chart_id: str, title: str, items: list[tuple[str, int | None, int, int]], desc_intro: str) -> Markup:
    """Horizontal bars, highest first: (label, percent, count, of) per unit."""
    items = sorted(items, key=lambda i: (-(i[1] if i[1] is not None else -1), i[0]))
    bar_h, gap, left, right, top = 18, 8, 190, 110, 24
    height = top + len(items) * (bar_h + gap) + 24
    span = WIDTH - left - right
    desc = desc_intro + " " + "; ".join(
        f"{label}: {'—' if pct is None else f'{pct}%'} ({count}/{of})" for label, pct, count, of in items)
    out = _open(chart_id, height, title, desc)
    for p in (0, 25, 50, 75, 100):
        x = left + span * p / 100
        out.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 20}" stroke="{GRID}"/>')
        out.append(f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle" fill="{MUTED}">{p}%</text>')
    for i, (label, pct, count, of) in enumerate(items):
        y = top + i * (bar_h + gap)
        out.append(f'<text x="{left - 8}" y="{y + bar_h - 5}" text-anchor="end" fill="{INK}">'
                   f'{escape(_clip(label))}</text>')
        w = span * (pct or 0) / 100
        out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{BLUE}"/>')
        out.append(f'<text x="{left + w + 6:.1f}" y="{y + bar_h - 5}" fill="{INK}">'
                   f'{"—" if pct is None else f"{pct}%"} ({count}/{of})</text>')
    out.append("</svg>")
    return Markup("".join(out))


def progress_lines(chart_id: str, title: str, points: list[tuple[date, int, int]], labels: tuple[str, str],
                   date_format, desc_intro: str) -> Markup:
    """Two cumulative lines over the weeks: (day, completed, certified) per point. Completed is
    a solid line with round markers, certified a dashed line with square markers."""
    height, left, right, top, bottom = 260, 48, 16, 34, 40
    span_x, span_y = WIDTH - left - right, height - top - bottom
    peak = max([max(c, k) for _d, c, k in points] + [1])
    step = max(1, -(-peak // 4))
    ymax = step * 4
    n = len(points)

    def x(i: int) -> float:
        return left + (span_x * i / (n - 1) if n > 1 else span_x / 2)

    def y(v: int) -> float:
        return top + span_y - span_y * v / ymax

    last = points[-1] if points else None
    desc = desc_intro + (
        f" {labels[0]}: {last[1]}; {labels[1]}: {last[2]} ({date_format(last[0])})." if last else "")
    out = _open(chart_id, height, title, desc)
    for k in range(5):
        v = step * k
        out.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{WIDTH - right}" y2="{y(v):.1f}" stroke="{GRID}"/>')
        out.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" fill="{MUTED}">{v}</text>')
    every = max(1, -(-n // 6))
    for i, (day, _c, _k) in enumerate(points):
        if i % every == 0 or i == n - 1:
            out.append(f'<text x="{x(i):.1f}" y="{height - bottom + 16}" text-anchor="middle" fill="{MUTED}">'
                       f'{escape(date_format(day))}</text>')
    for series, (colour, dash) in enumerate(((BLUE, ""), (ORANGE, ' stroke-dasharray="6 4"'))):
        coords = " ".join(f"{x(i):.1f},{y(p[series + 1]):.1f}" for i, p in enumerate(points))
        out.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2.5"{dash}/>')
        for i, p in enumerate(points):
            cx, cy = x(i), y(p[series + 1])
            if series == 0:
                out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.5" fill="{colour}"/>')
            else:
                out.append(f'<rect x="{cx - 3.5:.1f}" y="{cy - 3.5:.1f}" width="7" height="7" fill="{colour}"/>')
    # Legend, top left.
    out.append(f'<line x1="{left}" y1="14" x2="{left + 26}" y2="14" stroke="{BLUE}" stroke-width="2.5"/>'
               f'<circle cx="{left + 13}" cy="14" r="3.5" fill="{BLUE}"/>'
               f'<text x="{left + 32}" y="18" fill="{INK}">{escape(labels[0])}</text>')
    lx = left + 40 + 7 * len(labels[0])
    out.append(f'<line x1="{lx}" y1="14" x2="{lx + 26}" y2="14" stroke="{ORANGE}" stroke-width="2.5" '
               f'stroke-dasharray="6 4"/><rect x="{lx + 9.5}" y="10.5" width="7" height="7" fill="{ORANGE}"/>'
               f'<text x="{lx + 32}" y="18" fill="{INK}">{escape(labels[1])}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def stacked_bars(chart_id: str, title: str, rows: list[tuple[str, list[int]]], legend: list[str],
                 desc_intro: str) -> Markup:
    """One bar per session, split by mark; every segment's count is written on it or beside
    the bar, and the segments carry patterns, not colour alone."""
    colours = [GREEN, BLUE, ORANGE, GREY]
    patterns = ["", "url(#dots)", "url(#hatch)", "url(#cross)"]
    bar_h, gap, left, top = 22, 12, 190, 40
    height = top + len(rows) * (bar_h + gap) + 8
    span = WIDTH - left - 20
    widest = max([sum(v) for _l, v in rows] + [1])
    desc = desc_intro + " " + "; ".join(
        f"{label}: " + ", ".join(f"{name} {n}" for name, n in zip(legend, values)) for label, values in rows)
    out = _open(chart_id, height, title, desc)
    out.append(
        '<defs>'
        f'<pattern id="{chart_id}-dots" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" fill="{BLUE}"/><circle cx="3" cy="3" r="1.2" fill="#fff"/></pattern>'
        f'<pattern id="{chart_id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="{ORANGE}"/><line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="1.5"/></pattern>'
        f'<pattern id="{chart_id}-cross" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" fill="{GREY}"/><path d="M0 0L6 6M6 0L0 6" stroke="#fff" stroke-width="1"/></pattern>'
        '</defs>')
    fills = [colours[0]] + [p.replace("#", f"#{chart_id}-") for p in patterns[1:]]
    lx = 0
    for name, fill in zip(legend, fills):
        out.append(f'<rect x="{lx}" y="6" width="14" height="14" fill="{fill}"/>'
                   f'<text x="{lx + 18}" y="18" fill="{INK}">{escape(name)}</text>')
        lx += 30 + 7 * len(name)
    for i, (label, values) in enumerate(rows):
        y = top + i * (bar_h + gap)
        out.append(f'<text x="{left - 8}" y="{y + bar_h - 6}" text-anchor="end" fill="{INK}">'
                   f'{escape(_clip(label))}</text>')
        cx = left
        for n, fill in zip(values, fills):
            w = span * n / widest
            if n:
                out.append(f'<rect x="{cx:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{fill}" '
                           f'stroke="#fff"/>')
                if w >= 22:
                    out.append(f'<text x="{cx + w / 2:.1f}" y="{y + bar_h - 6}" text-anchor="middle" '
                               f'fill="#fff" font-weight="bold" stroke="{INK}" stroke-width="2.5" '
                               f'paint-order="stroke">{n}</text>')
            cx += w
    out.append("</svg>")
    return Markup("".join(out))
