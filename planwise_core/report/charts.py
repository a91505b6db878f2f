"""The charts of both pages as geometry: bar charts (grouped, stacked, with lines) and line charts with bands.

Python works out where every mark goes; the ``svg`` macro of ``templates/macros.html`` writes the markup
(autoescaped, like every other text on the page). A :class:`Figure` is a chart with its title, legend,
note and the table of its numbers.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import attrs

from planwise_core.report.formatting import fmt_int, num
from planwise_core.report.tables import Table

PALETTE = ("#4e79a7", "#59a14f", "#f28e2b", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#bab0ac")
W, H = 640, 300
ML, MR, MT, MB = 64, 16, 14, 46
PLOT_W, PLOT_H = W - ML - MR, H - MT - MB


class Mark(NamedTuple):
    """One SVG element the browser check counts (class ``mark``): tag, extra classes, attributes, tooltip."""
    tag: str
    css: str
    attrs: tuple[tuple[str, str], ...]
    tip: str | None = None


class Tick(NamedTuple):
    y: str
    label: str


class XLabel(NamedTuple):
    x: str
    label: str


@attrs.frozen
class Plot:
    ticks: tuple[Tick, ...]
    x_labels: tuple[XLabel, ...]
    marks: tuple[Mark, ...]
    axis_y: str
    width: int = W
    height: int = H
    left: int = ML
    right: int = W - MR
    label_y: int = H - MB + 16


@attrs.frozen
class Figure:
    name: str  # the data-chart attribute
    title: str
    plot: Plot | None  # None: "No data."
    legend: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=tuple)  # (label, colour)
    note: str = ""
    table: Table | None = None


class Line(NamedTuple):
    name: str
    values: list  # one value (or None) per category
    color: str
    tips: list[str] | None = None  # a point with this tooltip per category; None: no points
    dashed: bool = False
    css: str = ""  # extra classes of the line (e.g. "baseline": drawn thicker, see report.css)


class Band(NamedTuple):
    name: str
    low: list
    high: list
    color: str


def coord(v: float) -> str:
    """A coordinate as SVG text."""
    return f"{v:.1f}"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (lo <= 0 <= hi is the caller's business)."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    last = math.ceil(hi / step) * step
    n = int(round((last - first) / step))
    return [round(first + i * step, 10) for i in range(n + 1)]


def shades(n: int, start=(0xc6, 0xdb, 0xef), end=(0x08, 0x30, 0x6b)) -> list[str]:
    """``n`` colours from light to dark blue (for years, which may be many)."""
    if n == 1:
        return ["#4e79a7"]
    return ["#" + "".join(f"{round(a + (b - a) * i / (n - 1)):02x}" for a, b in zip(start, end)) for i in range(n)]


def histogram(values: list[float], bins: int = 20) -> tuple[list[float], float, list[int]]:
    """Edges' lower bounds, the bin width and the counts of ``values`` over round bins."""
    lo, hi = min(values), max(values)
    step = nice_ticks(lo, hi, bins)
    width = step[1] - step[0] if len(step) > 1 else 1.0
    start = math.floor(lo / width) * width
    n = max(1, math.floor((hi - start) / width) + 1)
    counts = [0] * n
    for v in values:
        counts[min(int((v - start) // width), n - 1)] += 1
    return [start + i * width for i in range(n)], width, counts


def _scale(ticks: list[float]) -> Callable[[float], float]:
    y0, y1 = ticks[0], ticks[-1]
    return lambda v: MT + PLOT_H * (1 - (v - y0) / (y1 - y0))


def _path(points: list[tuple[float, float] | None]) -> str:
    """An SVG path through the points; None breaks the line."""
    d, pen = [], "M"
    for p in points:
        if p is None:
            pen = "M"
            continue
        d.append(f"{pen}{coord(p[0])},{coord(p[1])}")
        pen = "L"
    return " ".join(d)


def _x_labels(xs: list[float], labels: list[str]) -> tuple[XLabel, ...]:
    every = max(1, math.ceil(len(labels) / 12))  # at most about a dozen labels on the axis
    return tuple(XLabel(coord(x), str(label)) for i, (x, label) in enumerate(zip(xs, labels)) if i % every == 0)


def _points(line: Line, xs: list[float], y, r: float, tips: list[str]) -> list[Mark]:
    return [Mark("circle", "", (("cx", coord(x)), ("cy", coord(y(v))), ("r", f"{r:g}"), ("fill", line.color)), tip)
            for x, v, tip in zip(xs, line.values, tips) if v is not None]


def bar_chart(categories: list[str], series: list[tuple[str, list[float], str]], *, fmt=fmt_int,
              stacked: bool = False, gap: float = 0.25, lines: list[tuple[str, list[float], str]] = (),
              fixed_max: float | None = None, tips: list[list[str]] | None = None) -> Plot:
    """Grouped (or stacked) bars per category, optional overlaid lines with points."""
    values = [v for _, vals, _ in series for v in vals] + [v for _, vals, _ in lines for v in vals]
    if stacked:
        values += [sum(vals[i] for _, vals, _ in series) for i in range(len(categories))]
    hi = max([0.0, *values] + ([fixed_max] if fixed_max is not None else []))
    ticks = nice_ticks(min([0.0, *values]), hi)
    y = _scale(ticks)
    band = PLOT_W / max(len(categories), 1)
    inner = band * (1 - gap)
    bar_w = inner if stacked else inner / max(len(series), 1)
    marks = []
    for i, cat in enumerate(categories):
        left, base = ML + i * band + (band - inner) / 2, 0.0
        for j, (name, vals, color) in enumerate(series):
            v = num(vals[i])
            if stacked:
                top, bottom, x = y(base + v), y(base), left
                base += v
            else:
                top, bottom = (y(v), y(0)) if v >= 0 else (y(0), y(v))
                x = left + j * bar_w
            size = (("x", coord(x)), ("y", coord(top)), ("width", coord(max(bar_w - (0 if gap == 0 else 1), 0.5))),
                    ("height", coord(max(bottom - top, 0))), ("fill", color))
            marks.append(Mark("rect", "", size, tips[j][i] if tips else f"{cat} · {name}: {fmt(v)}"))
    xs = [ML + (i + 0.5) * band for i in range(len(categories))]
    for name, vals, color in lines:
        line = Line(name, [num(v) for v in vals], color)
        marks.append(Mark("path", "line", (("d", _path([(x, y(v)) for x, v in zip(xs, line.values)])),
                                           ("stroke", color))))
        marks += _points(line, xs, y, 4, [f"{cat} · {name}: {fmt(v)}" for cat, v in zip(categories, line.values)])
    return Plot(tuple(Tick(coord(y(t)), fmt(t)) for t in ticks), _x_labels(xs, categories), tuple(marks), coord(y(0)))


def line_chart(categories: list, lines: list[Line], bands: list[Band] = (), *,
               labels: Callable[[list[float]], list[str]]) -> Plot | None:
    """Lines over the categories (years), optional translucent bands between two series beneath them;
    None when there is no value to draw.

    The y axis covers the data (not necessarily zero): the charts are about differences.
    """
    values = [v for s in lines for v in s.values if v is not None]
    values += [v for b in bands for v in (*b.low, *b.high) if v is not None]
    if not values:
        return None
    lo, hi = min(values), max(values)
    pad = max((hi - lo) * 0.08, abs(hi) * 0.01) or 1.0  # a flat line sits mid-chart
    ticks = nice_ticks(max(lo - pad, 0.0) if lo >= 0 else lo - pad, hi + pad)
    y = _scale(ticks)
    n = len(categories)
    xs = [ML + PLOT_W / 2] if n == 1 else [ML + 24 + i * (PLOT_W - 48) / (n - 1) for i in range(n)]
    marks = []
    for b in bands:
        pairs = [(x, lo_v, hi_v) for x, lo_v, hi_v in zip(xs, b.low, b.high) if lo_v is not None and hi_v is not None]
        outline = [(x, y(h)) for x, _, h in pairs] + [(x, y(lo_v)) for x, lo_v, _ in reversed(pairs)]
        marks.append(Mark("path", "band", (("d", f"{_path(outline)} Z"), ("fill", b.color)), b.name))
    for s in lines:
        points = [None if v is None else (x, y(v)) for x, v in zip(xs, s.values)]
        css = " ".join(c for c in ("line", "dashed" if s.dashed else "", s.css) if c)
        marks.append(Mark("path", css, (("d", _path(points)), ("stroke", s.color))))
        marks += _points(s, xs, y, 3.5, s.tips or [])
    return Plot(tuple(Tick(coord(y(t)), label) for t, label in zip(ticks, labels(ticks))), _x_labels(xs, categories),
                tuple(marks), coord(MT + PLOT_H))
