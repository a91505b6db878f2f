"""A self-contained HTML report of a batch of runs, read from its ``batch.duckdb`` (see batch_store).

The page compares scenarios (plan designs) side by side and, for every scenario run with several
seeds, shows the luck of the draw as fan charts: the P10–P90 band, the median and the extremes.
It is built like the single-run report (planwise_core.report) and reuses its helpers: inline SVG,
one inline script that counts the rendered charts, nothing loaded from the network.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Callable, NamedTuple

from planwise_core.batch.store import METRIC_LABELS, METRICS
from planwise_core.database import table_exists
from planwise_core.errors import PlanwiseError
from planwise_core.report.run_report import (CSP, CSS, H, MB, ML, MR, MT, PALETTE, SCRIPT, W, _num, connect_read_only, data_table, esc,
                     figure, fmt_int, fmt_money, nice_ticks, scalar_text, write_page)

BATCH_TABLES = ("batch_info", "batch_runs", "batch_run_years", "batch_scenario_summary", "batch_bands")
FORMATS: dict[str, Callable[[float], str]] = {
    "headcount": fmt_int, "hires": fmt_int, "terminations": fmt_int, "payroll": fmt_money,
    "participation_pct": lambda v: f"{v:.1f}%", "average_deferral_rate": lambda v: f"{100 * v:.2f}%"}
MINMAX_COLOR = "#8a8f98"
PERCENTILE_NOTE = ("P10, P50 and P90 are taken over the seeds' values for each year by linear interpolation "
                   "between the sorted values: quantile q sits at position q × (n − 1) among n values "
                   "(numpy's default, Excel's PERCENTILE.INC). With few seeds the P10–P90 band lies close to "
                   "min and max.")


# --------------------------------------------------------------------------- the database


@contextlib.contextmanager
def open_batch(database: Path | str):
    """A read-only connection to a batch database, or a PlanwiseError naming the file and saying why not."""
    database = Path(database)
    con = connect_read_only(database, "run a batch first, or pass the batch.duckdb a batch wrote.")
    try:
        missing = [t for t in BATCH_TABLES if not table_exists(con, t)]
        if missing:
            raise PlanwiseError(f"{database} is not a batch database (missing tables: {', '.join(missing)}): "
                                "pass the batch.duckdb a batch wrote.")
        yield con
    finally:
        con.close()


def _dicts(con, sql: str) -> list[dict]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def collect_batch(con) -> dict:
    """Everything the page shows, as plain Python values."""
    info = _dicts(con, "select * from batch_info order by created_at desc limit 1")
    runs = _dicts(con, "select * from batch_runs order by scenario, seed, run_id")
    summary: dict = {}
    for r in _dicts(con, "select * from batch_scenario_summary order by scenario, simulation_year"):
        summary.setdefault(r["scenario"], {})[r["simulation_year"]] = r
    bands: dict = {}
    for r in _dicts(con, "select * from batch_bands order by scenario, metric, simulation_year"):
        bands.setdefault((r["scenario"], r["metric"]), {})[r["simulation_year"]] = r
    return {
        "info": info[0] if info else {}, "runs": runs, "summary": summary, "bands": bands,
        "scenarios": sorted({r["scenario"] for r in runs} | set(summary)),
        "years": sorted({y for by_year in summary.values() for y in by_year}),
    }


# --------------------------------------------------------------------------- SVG charts


class Line(NamedTuple):
    name: str
    values: list  # one value (or None) per year
    color: str
    tips: list[str] | None = None  # a point with this tooltip per year; None: no points
    dashed: bool = False


class Band(NamedTuple):
    name: str
    low: list
    high: list
    color: str


def axis_labels(metric: str) -> Callable[[list[float]], list[str]]:
    """Tick labels with just enough decimals to tell round ticks apart ($2.25M, not $2.2M)."""
    prefix, suffix, scale = "", "", 1.0
    if metric == "payroll":
        prefix = "$"
    elif metric == "participation_pct":
        suffix = "%"
    elif metric == "average_deferral_rate":
        suffix, scale = "%", 0.01

    def labels(ticks: list[float]) -> list[str]:
        unit, unit_scale = "", scale
        top = max(abs(t) for t in ticks)
        if metric == "payroll" and top >= 1_000:
            unit, unit_scale = ("M", 1e6) if top >= 1_000_000 else ("k", 1e3)
        values = [t / unit_scale for t in ticks]
        decimals = next((d for d in range(6) if all(abs(v - round(v, d)) < 1e-6 for v in values)), 6)
        return [f"{prefix}{v:,.{decimals}f}{unit}{suffix}" for v in values]
    return labels


def _path(points: list[tuple[float, float] | None]) -> str:
    """An SVG path through the points; None breaks the line."""
    d, pen = [], "M"
    for p in points:
        if p is None:
            pen = "M"
            continue
        d.append(f"{pen}{p[0]:.1f},{p[1]:.1f}")
        pen = "L"
    return " ".join(d)


def line_chart(years: list[int], lines: list[Line], bands: list[Band] = (), *,
               labels: Callable[[list[float]], list[str]]) -> str | None:
    """Lines over the years, optional translucent bands between two series beneath them; returns an <svg>,
    or None when there is no value to draw (figure() then says "No data.").

    The y axis covers the data (not necessarily zero): the charts are about differences.
    """
    plot_w, plot_h = W - ML - MR, H - MT - MB
    values = [v for s in lines for v in s.values if v is not None]
    values += [v for b in bands for v in (*b.low, *b.high) if v is not None]
    if not values:
        return None
    lo, hi = min(values), max(values)
    pad = max((hi - lo) * 0.08, abs(hi) * 0.01) or 1.0  # a flat line sits mid-chart
    ticks = nice_ticks(max(lo - pad, 0.0) if lo >= 0 else lo - pad, hi + pad)
    y0, y1 = ticks[0], ticks[-1]

    def x(i: int) -> float:
        return ML + plot_w / 2 if len(years) == 1 else ML + 24 + i * (plot_w - 48) / (len(years) - 1)

    def y(v: float) -> float:
        return MT + plot_h * (1 - (v - y0) / (y1 - y0))

    parts = [f'<svg viewBox="0 0 {W} {H}" role="img" preserveAspectRatio="xMidYMid meet">']
    for t, label in zip(ticks, labels(ticks)):
        parts.append(f'<line class="grid" x1="{ML}" x2="{W - MR}" y1="{y(t):.1f}" y2="{y(t):.1f}"/>'
                     f'<text class="tick" x="{ML - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{esc(label)}</text>')
    every = max(1, math.ceil(len(years) / 12))
    for i, year in enumerate(years):
        if i % every == 0:
            parts.append(f'<text class="label" x="{x(i):.1f}" y="{H - MB + 16}" text-anchor="middle">{year}</text>')
    parts.append(f'<line class="axis" x1="{ML}" x2="{W - MR}" y1="{MT + plot_h}" y2="{MT + plot_h}"/>')
    for b in bands:
        pairs = [(i, lo_v, hi_v) for i, (lo_v, hi_v) in enumerate(zip(b.low, b.high))
                 if lo_v is not None and hi_v is not None]
        outline = [(x(i), y(h)) for i, _, h in pairs] + [(x(i), y(lo_v)) for i, lo_v, _ in reversed(pairs)]
        parts.append(f'<path class="mark band" d="{_path(outline)} Z" fill="{b.color}">'
                     f'<title>{esc(b.name)}</title></path>')
    for s in lines:
        points = [None if v is None else (x(i), y(v)) for i, v in enumerate(s.values)]
        parts.append(f'<path class="mark line{" dashed" if s.dashed else ""}" d="{_path(points)}" '
                     f'stroke="{s.color}"/>')
        for p, tip in zip(points, s.tips or []):
            if p is not None:
                parts.append(f'<circle class="mark" cx="{p[0]:.1f}" cy="{p[1]:.1f}" r="3.5" fill="{s.color}">'
                             f'<title>{esc(tip)}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def _range(band: dict | None, fmt) -> str:
    return f"P10–P90 {fmt(band['p10'])} – {fmt(band['p90'])}" if band and band["runs"] > 1 else ""


def _mean_tip(scenario: str, year: int, row: dict, metric: str, band: dict | None) -> str:
    runs, spread = row["runs"], _range(band, FORMATS[metric])
    return (f"{scenario} · {year}: {FORMATS[metric](_num(row[metric]))} (mean of {runs} run{'s' * (runs != 1)}"
            f"{'; ' + spread if spread else ''})")


def scenario_charts(data: dict) -> list[str]:
    """One chart per metric: a line per scenario, the mean over its runs."""
    years, colors = data["years"], scenario_colors(data)
    scenarios = [s for s in data["scenarios"] if s in data["summary"]]
    out = []
    for metric in METRICS:
        lines = []
        for s in scenarios:
            rows = [data["summary"][s].get(y) for y in years]
            values = [None if r is None else r[metric] for r in rows]
            bands = data["bands"].get((s, metric), {})
            tips = [_mean_tip(s, y, r, metric, bands.get(y)) if r else "" for y, r in zip(years, rows)]
            lines.append(Line(s, values, colors[s], tips))
        out.append(figure(f"scenarios-{metric}", f"{METRIC_LABELS[metric]} by scenario (mean over runs)",
                          line_chart(years, lines, labels=axis_labels(metric)), [(s, colors[s]) for s in scenarios]))
    return out


def fan_charts(data: dict, scenario: str) -> list[str]:
    """One chart per metric: the P10–P90 band, the P50 line and the min/max lines over the scenario's seeds."""
    color, out = scenario_colors(data)[scenario], []
    for metric in METRICS:
        fmt, by_year = FORMATS[metric], data["bands"].get((scenario, metric), {})
        years = sorted(by_year)
        if not years:
            continue
        rows = [by_year[y] for y in years]
        seeds = max(r["runs"] for r in rows)
        tips = [f"{y}: P50 {fmt(r['p50'])}; P10–P90 {fmt(r['p10'])} – {fmt(r['p90'])}; "
                f"min–max {fmt(r['min'])} – {fmt(r['max'])}; mean {fmt(r['mean'])} ({r['runs']} seeds)"
                for y, r in zip(years, rows)]
        svg = line_chart(years, [Line("min", [r["min"] for r in rows], MINMAX_COLOR, dashed=True),
                                 Line("max", [r["max"] for r in rows], MINMAX_COLOR, dashed=True),
                                 Line("P50", [r["p50"] for r in rows], color, tips)],
                         [Band("P10–P90", [r["p10"] for r in rows], [r["p90"] for r in rows], color)],
                         labels=axis_labels(metric))
        out.append(figure(f"fan-{scenario}-{metric}",
                          f"{scenario}: {METRIC_LABELS[metric]} — P10/P50/P90 over {seeds} seeds", svg,
                          [("P10–P90", f"{color}55"), ("P50", color), ("min/max", MINMAX_COLOR)]))
    return out


def scenario_colors(data: dict) -> dict[str, str]:
    """A palette colour per scenario with results (the ones charted), in name order."""
    charted = [s for s in data["scenarios"] if s in data["summary"]]
    return {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(charted)}


def ensembles(data: dict) -> list[str]:
    """The scenarios with more than one completed run in some year."""
    return [s for s, by_year in data["summary"].items() if max(r["runs"] for r in by_year.values()) > 1]


# --------------------------------------------------------------------------- tables and the page


def key_figures(data: dict) -> str:
    info, runs, years = data["info"], data["runs"], data["years"]
    count = {s: sum(r["status"] == s for r in runs) for s in ("completed", "failed", "invalid")}
    items = [("planned runs", info.get("planned_runs", len(runs))),
             ("completed", info.get("completed_runs", count["completed"])),
             ("failed", info.get("failed_runs", count["failed"])),
             ("invalid", info.get("invalid_runs", count["invalid"])),
             ("scenarios", len(data["scenarios"])),
             ("years", f"{years[0]}–{years[-1]}" if years else "–"),
             ("total run seconds", f"{sum(_num(r['seconds']) for r in runs):,.1f}s")]
    return "<div class=cards>" + "".join(f"<div class=card><span>{esc(k)}</span><b>{esc(v)}</b></div>"
                                         for k, v in items) + "</div>"


def runs_table(runs: list[dict]) -> str:
    if not runs:
        return '<p class="empty">This batch has no runs.</p>'
    rows = [[r["scenario"], r["seed"], r["status"], "–" if r["seconds"] is None else f"{r['seconds']:.2f}",
             "–" if r["completed_years"] is None else r["completed_years"], "yes" if r["reused"] else "no",
             r["worker"] or "", r["error"] or ""] for r in runs]
    # completed: unmarked; invalid (refused before running): its own colour; anything else did not finish.
    classes = ["" if r["status"] == "completed" else "invalid" if r["status"] == "invalid" else "failed"
               for r in runs]
    return data_table(["scenario", "seed", "status", "seconds", "completed years", "reused", "worker", "error"],
                      rows, {1, 3, 4}, classes)


def side_by_side_table(data: dict) -> str:
    last = data["years"][-1]
    planned = {s: sum(r["scenario"] == s for r in data["runs"]) for s in data["scenarios"]}
    rows = []
    for s in data["scenarios"]:
        row = data["summary"].get(s, {}).get(last)
        cells = []
        for metric in METRICS:
            if row is None or row[metric] is None:
                cells.append("–")
                continue
            spread = _range(data["bands"].get((s, metric), {}).get(last), FORMATS[metric])
            cells.append(FORMATS[metric](row[metric]) + (f"\n{spread}" if spread else ""))
        rows.append([s, row["runs"] if row else 0, planned[s], *cells])
    return data_table(["scenario", f"runs in {last}", "planned", *(METRIC_LABELS[m] for m in METRICS)],
                      rows, set(range(1, 3 + len(METRICS))))


def render_batch(data: dict, database: Path) -> str:
    info = data["info"]
    title = f"PlanWise batch report — {info.get('source') or Path(database).name}"
    subtitle = " · ".join(str(v) for v in (database, info.get("batch_id") and f"batch {info['batch_id']}",
                                           info.get("kind"), info.get("created_at") and
                                           f"created {scalar_text(info['created_at'])}") if v)
    figs: list[str] = []
    if data["years"]:
        last = data["years"][-1]
        scenario_figs = scenario_charts(data)
        figs += scenario_figs
        compare = (f'<p class="note">Mean over each scenario\'s completed runs in {last}; for scenarios run '
                   f'with several seeds, the P10–P90 range across seeds.</p><div class="scroll">'
                   f'{side_by_side_table(data)}</div><div class="grid2">{"".join(scenario_figs)}</div>')
        fans = []
        for s in ensembles(data):
            scenario_fans = fan_charts(data, s)
            figs += scenario_fans
            fans.append(f'<h3>{esc(s)}</h3><div class="grid2">{"".join(scenario_fans)}</div>')
        spread = (f'<p class="note">{esc(PERCENTILE_NOTE)}</p>{"".join(fans)}' if fans else
                  '<p class="empty">No scenario was run with more than one seed.</p>')
    else:
        compare = ('<p class="empty no-runs">No completed runs in this batch: there is nothing to compare or '
                   'chart. The runs table above says why each run did not complete.</p>')
        spread = '<p class="empty">No completed runs: no spread to show.</p>'
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>{CSS}{BATCH_CSS}</style>
</head>
<body data-charts-total="{len(figs)}">
<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header>
<main>
<section id="overview"><h2>Overview</h2>{key_figures(data)}</section>
<section id="runs"><h2>Runs</h2><div class="scroll runs">{runs_table(data["runs"])}</div></section>
<section id="scenarios"><h2>Scenarios side by side</h2>{compare}</section>
<section id="seeds"><h2>Luck of the draw: spread over seeds</h2>{spread}</section>
</main>
<script>{SCRIPT}</script>
</body>
</html>
"""


BATCH_CSS = """
tr.failed td{background:#fdecea}tr.invalid td{background:#fff4e0}
#scenarios td{white-space:pre}
.runs td:last-child{white-space:pre-wrap;word-break:break-word;min-width:24ch;max-width:70ch}
svg .band{stroke:none;fill-opacity:.22}svg .dashed{stroke-width:1;stroke-dasharray:4 3}
"""


def write_batch_report(batch_database: Path | str, out: Path | str) -> Path:
    """Write the HTML report of ``batch_database`` to ``out`` (replaced atomically); returns ``out``."""
    database, out = Path(batch_database), Path(out)
    if out.is_dir():
        raise PlanwiseError(f"{out} is a folder: pass a file name such as {out / 'batch-report.html'}.")
    with open_batch(database) as con:
        data = collect_batch(con)
    return write_page(out, render_batch(data, database))
