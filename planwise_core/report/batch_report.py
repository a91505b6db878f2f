"""A self-contained HTML report of a batch of runs, read from its ``batch.duckdb`` (see batch.store).

The page says what each scenario is (its description and overrides, from the scenario file), compares
the scenarios side by side and against the baseline scenario year by year, and, for every scenario run
with several seeds, shows the luck of the draw as fan charts: the P10–P90 band, the median and the extremes.

The baseline is the scenario named ``baseline`` when the file has one, else the file's first scenario
(the first by name for a batch database without ``batch_scenarios``). Its line is drawn last, thick and
dashed, so it stays visible where another scenario's line coincides with it.
It is ``templates/batch_report.html`` on the same layout, macros, stylesheet and script as the run
report; every chart carries the table of its numbers.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from typing import Callable

import duckdb

from planwise_core.database import table_exists
from planwise_core.database.sql import dicts, open_read_only
from planwise_core.errors import PlanwiseError
from planwise_core.outputs import bridge as cost_bridge
from planwise_core.outputs.metrics import (BAND_METRICS, BATCH_METRICS, BY_KEY, COUNT, FRACTION, METRIC_LABELS, MONEY,
                                           PLAN_METRICS)
from planwise_core.outputs.provenance import flatten
from planwise_core.report.batch_ndt import ndt_side_by_side
from planwise_core.report.charts import PALETTE, Band, Figure, Line, line_chart
from planwise_core.report.formatting import fmt_dollars, fmt_int, fmt_money, fmt_rate, half_up, num, scalar_text
from planwise_core.report.page import render, write_page
from planwise_core.report.tables import Column, Table, bridge_table, by_columns

BATCH_TABLES = ("batch_info", "batch_runs", "batch_run_years", "batch_scenario_summary", "batch_bands")
BASELINE_NAME, BASELINE_COLOR = "baseline", "#1f2d3d"
# The plan's cost comes first: comparing plan designs is what a batch is mostly for.
PAGE_METRICS = PLAN_METRICS + BATCH_METRICS
UNITS = {m: BY_KEY[m].unit for m in BAND_METRICS}  # outputs/metrics.py: fractions become percentages here
FORMATS: dict[str, Callable[[float], str]] = {
    m: {COUNT: fmt_int, MONEY: fmt_money, FRACTION: lambda v: f"{100 * v:.2f}%"}[u] for m, u in UNITS.items()}
# The tables under the charts give the numbers in full (the axes and tooltips round them).
TABLE_FORMATS = {m: {COUNT: fmt_int, MONEY: fmt_dollars, FRACTION: fmt_rate}[u] for m, u in UNITS.items()}
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
    con = open_read_only(database, "run a batch first, or pass the batch.duckdb a batch wrote.")
    try:
        missing = [t for t in BATCH_TABLES if not table_exists(con, t)]
        if missing:
            raise PlanwiseError(f"{database} is not a batch database (missing tables: {', '.join(missing)}): "
                                "pass the batch.duckdb a batch wrote.")
        yield con
    finally:
        con.close()


def collect_batch(con) -> dict:
    """Everything the page shows, as plain Python values."""
    info = dicts(con, "select * from batch_info order by created_at desc limit 1")
    runs = dicts(con, "select * from batch_runs order by scenario, seed, run_id")
    summary: dict = {}
    for r in dicts(con, "select * from batch_scenario_summary order by scenario, simulation_year"):
        summary.setdefault(r["scenario"], {})[r["simulation_year"]] = r
    bands: dict = {}
    for r in dicts(con, "select * from batch_bands order by scenario, metric, simulation_year"):
        bands.setdefault((r["scenario"], r["metric"]), {})[r["simulation_year"]] = r
    described = {}
    if table_exists(con, "batch_scenarios"):
        described = {r["scenario"]: r for r in dicts(con, "select * from batch_scenarios order by position")}
    for r in runs:  # older batch databases: the overrides each run recorded
        described.setdefault(r["scenario"], {"scenario": r["scenario"], "position": None, "description": "",
                                             "overrides_json": r.get("overrides_json") or "{}"})
    names = {r["scenario"] for r in runs} | set(summary) | set(described)
    order = sorted(names, key=lambda s: (described.get(s, {}).get("position") is None,
                                         described.get(s, {}).get("position") or 0, s))
    data = {"info": info[0] if info else {}, "runs": runs, "summary": summary, "bands": bands, "scenarios": order,
            "described": described, "years": sorted({y for by_year in summary.values() for y in by_year})}
    data["baseline"] = baseline_scenario(data)
    return data


def baseline_scenario(data: dict) -> str | None:
    """The scenario named ``baseline``, else the first of the file (the first by name without positions)."""
    if not data["scenarios"]:
        return None
    return BASELINE_NAME if BASELINE_NAME in data["scenarios"] else data["scenarios"][0]


# --------------------------------------------------------------------------- charts, each with its numbers


def axis_labels(metric: str) -> Callable[[list[float]], list[str]]:
    """Tick labels with just enough decimals to tell round ticks apart ($2.25M, not $2.2M)."""
    prefix, suffix, scale = "", "", 1.0
    if UNITS[metric] == MONEY:
        prefix = "$"
    elif UNITS[metric] == FRACTION:
        suffix, scale = "%", 0.01

    def labels(ticks: list[float]) -> list[str]:
        unit, unit_scale = "", scale
        top = max(abs(t) for t in ticks)
        if UNITS[metric] == MONEY and top >= 1_000:
            unit, unit_scale = ("M", 1e6) if top >= 1_000_000 else ("k", 1e3)
        values = [t / unit_scale for t in ticks]
        decimals = next((d for d in range(6) if all(abs(v - round(v, d)) < 1e-6 for v in values)), 6)
        return [f"{prefix}{v:,.{decimals}f}{unit}{suffix}" for v in values]
    return labels


def _range(band: dict | None, fmt) -> str:
    return f"P10–P90 {fmt(band['p10'])} – {fmt(band['p90'])}" if band and band["runs"] > 1 else ""


def _mean_tip(scenario: str, year: int, row: dict, metric: str, band: dict | None) -> str:
    runs, spread = row["runs"], _range(band, FORMATS[metric])
    return (f"{scenario} · {year}: {FORMATS[metric](num(row[metric]))} (mean of {runs} run{'s' * (runs != 1)}"
            f"{'; ' + spread if spread else ''})")


def scenario_charts(data: dict) -> list[Figure]:
    """One chart per metric: a line per scenario, the mean over its runs, the baseline's drawn last (thick,
    dashed) so a scenario that coincides with it cannot hide it; its table has a column per scenario."""
    years, colors, base = data["years"], scenario_colors(data), data["baseline"]
    out = []
    for metric in charted_metrics(data):
        lines = []
        for s in colors:
            rows = [data["summary"][s].get(y) for y in years]
            bands = data["bands"].get((s, metric), {})
            tips = [_mean_tip(s, y, r, metric, bands.get(y)) if r else "" for y, r in zip(years, rows)]
            lines.append(Line(s, [None if r is None else r[metric] for r in rows], colors[s], tips,
                              css="baseline" if s == base else ""))
        table = by_columns([Column("year", years, numeric=False),
                            *(Column(line.name, line.values, TABLE_FORMATS[metric]) for line in lines)])
        drawn = [line for line in lines if line.name != base] + [line for line in lines if line.name == base]
        legend = [(s if s != base else f"{s} (dashed)" if s == BASELINE_NAME else f"{s} (baseline, dashed)", c)
                  for s, c in colors.items()]
        out.append(Figure(f"scenarios-{metric}", f"{METRIC_LABELS[metric]} by scenario (mean over runs)",
                          line_chart(years, drawn, labels=axis_labels(metric)), legend, table=table))
    return out


def fan_charts(data: dict, scenario: str) -> list[Figure]:
    """One chart per metric: the P10–P90 band, the P50 line and the min/max lines over the scenario's seeds."""
    color, out = scenario_colors(data)[scenario], []
    for metric in charted_metrics(data):
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
        table = by_columns([Column("year", years, numeric=False), Column("seeds", [r["runs"] for r in rows], str),
                            *(Column(header, [r[k] for r in rows], TABLE_FORMATS[metric]) for k, header in
                              (("min", "min"), ("p10", "P10"), ("p50", "P50"), ("p90", "P90"), ("max", "max"),
                               ("mean", "mean")))])
        out.append(Figure(f"fan-{scenario}-{metric}",
                          f"{scenario}: {METRIC_LABELS[metric]} — P10/P50/P90 over {seeds} seeds", svg,
                          [("P10–P90", f"{color}55"), ("P50", color), ("min/max", MINMAX_COLOR)], table=table))
    return out


def charted_metrics(data: dict) -> tuple[str, ...]:
    """The page's metrics, the plan's cost first; a plan metric no scenario has (plan.enabled false) is left out."""
    held = {m for by_year in data["summary"].values() for r in by_year.values() for m in PLAN_METRICS
            if r.get(m) is not None}
    return tuple(m for m in PAGE_METRICS if m in BATCH_METRICS or m in held)


def scenario_colors(data: dict) -> dict[str, str]:
    """A colour per scenario with results (the ones charted), in scenario order: the baseline's dark, the
    others from the palette."""
    charted = [s for s in data["scenarios"] if s in data["summary"]]
    others = iter(PALETTE * (len(charted) // len(PALETTE) + 1))
    return {s: BASELINE_COLOR if s == data.get("baseline") else next(others) for s in charted}


def ensembles(data: dict) -> list[str]:
    """The scenarios with more than one completed run in some year."""
    return [s for s, by_year in data["summary"].items() if max(r["runs"] for r in by_year.values()) > 1]


# --------------------------------------------------------------------------- tables and the page


def key_figures(data: dict) -> list[tuple[str, object]]:
    info, runs, years = data["info"], data["runs"], data["years"]
    count = {s: sum(r["status"] == s for r in runs) for s in ("completed", "failed", "invalid")}
    return [("planned runs", info.get("planned_runs", len(runs))),
            ("completed", info.get("completed_runs", count["completed"])),
            ("failed", info.get("failed_runs", count["failed"])),
            ("invalid", info.get("invalid_runs", count["invalid"])),
            ("scenarios", len(data["scenarios"])),
            ("years", f"{years[0]}–{years[-1]}" if years else "–"),
            ("total run seconds", f"{sum(num(r['seconds']) for r in runs):,.1f}s")]


def runs_table(runs: list[dict]) -> Table | None:
    if not runs:
        return None
    rows = [[r["scenario"], r["seed"], r["status"], "–" if r["seconds"] is None else f"{r['seconds']:.2f}",
             "–" if r["completed_years"] is None else r["completed_years"], "yes" if r["reused"] else "no",
             r["worker"] or "", r["error"] or ""] for r in runs]
    # completed: unmarked; invalid (refused before running): its own colour; anything else did not finish.
    classes = ["" if r["status"] == "completed" else "invalid" if r["status"] == "invalid" else "failed"
               for r in runs]
    return Table(["scenario", "seed", "status", "seconds", "completed years", "reused", "worker", "error"],
                 rows, {1, 3, 4}, classes)


def overrides_text(overrides_json: str | None) -> str:
    """A scenario's overrides as written, one ``dotted.key: value`` a line; the base configuration when none."""
    try:
        overrides = json.loads(overrides_json or "{}")
    except ValueError:
        return overrides_json or ""
    if not overrides:
        return "none: the base configuration"
    return "\n".join(f"{key}: {json.dumps(value, default=str)}" for key, value in flatten(overrides).items())


def scenarios_table(data: dict) -> Table:
    """What each scenario is: its role, description, overrides and completed / planned runs."""
    planned = {s: sum(r["scenario"] == s for r in data["runs"]) for s in data["scenarios"]}
    done = {s: sum(r["scenario"] == s and r["status"] == "completed" for r in data["runs"]) for s in data["scenarios"]}
    rows = []
    for s in data["scenarios"]:
        info = data["described"].get(s, {})
        replaced = info.get("replaced_tables")
        tables = "not recorded" if replaced is None else (", ".join(replaced) or "all built-in")
        rows.append([s, "baseline" if s == data["baseline"] else "", info.get("description") or "",
                     overrides_text(info.get("overrides_json")), tables, f"{done[s]} / {planned[s]}"])
    return Table(["scenario", "role", "description", "overrides", "parameter tables replaced",
                  "completed / planned runs"], rows, {5},
                 ["baseline" if s == data["baseline"] else "" for s in data["scenarios"]])


SIGNED_BY_UNIT = {COUNT: lambda d: f"{half_up(d, 0):+,}", MONEY: lambda d: ("-" if d < 0 else "+") + fmt_dollars(abs(d)),
                  FRACTION: lambda d: f"{half_up(100 * d, 2):+} pp"}
SIGNED = {m: SIGNED_BY_UNIT[u] for m, u in UNITS.items()}


def _delta_cell(metric: str, value, base) -> str:
    if value is None or base is None:
        return "–"
    delta = float(value) - float(base)
    signed = SIGNED.get(metric, lambda d: f"{d:+,.2f}")
    pct = f"{half_up(100 * delta / float(base), 2):+}%" if base else "–"
    return f"{signed(delta)}\n{pct}"


def differences_table(data: dict) -> tuple[Table | None, str]:
    """Per scenario (but the baseline) and year: each metric's mean minus the baseline's, and in percent of it;
    or (None, why there is no such table)."""
    base, metrics = data["baseline"], charted_metrics(data)
    if base not in data["summary"]:
        return None, (f"The baseline scenario {base} has no completed run: there is nothing to measure the other "
                      "scenarios against.")
    rows = []
    for s in data["scenarios"]:
        if s == base or s not in data["summary"]:
            continue
        for year in data["years"]:
            mine, theirs = data["summary"][s].get(year), data["summary"][base].get(year)
            rows.append([s, year, *(_delta_cell(m, (mine or {}).get(m), (theirs or {}).get(m)) for m in metrics)])
    if not rows:
        return None, "No other scenario has completed runs to compare with the baseline."
    return Table(["scenario", "year", *(METRIC_LABELS[m] for m in metrics)], rows, range(1, 2 + len(metrics))), ""


def side_by_side_table(data: dict) -> Table:
    last = data["years"][-1]
    planned = {s: sum(r["scenario"] == s for r in data["runs"]) for s in data["scenarios"]}
    rows, metrics = [], charted_metrics(data)
    for s in data["scenarios"]:
        row = data["summary"].get(s, {}).get(last)
        cells = []
        for metric in metrics:
            if row is None or row[metric] is None:
                cells.append("–")
                continue
            spread = _range(data["bands"].get((s, metric), {}).get(last), FORMATS[metric])
            cells.append(FORMATS[metric](row[metric]) + (f"\n{spread}" if spread else ""))
        rows.append([s, row["runs"] if row else 0, planned[s], *cells])
    return Table(["scenario", f"runs in {last}", "planned", *(METRIC_LABELS[m] for m in metrics)],
                 rows, range(1, 3 + len(metrics)))


def _run_states(database: str | None) -> dict:
    """A run's cost states (outputs.bridge), read from its own database; {} when it is gone or unreadable."""
    if not database or not Path(database).is_file():
        return {}
    try:
        with contextlib.closing(duckdb.connect(database, read_only=True)) as con:
            return cost_bridge.cost_states(con)
    except duckdb.Error:
        return {}


def cost_bridges(data: dict) -> tuple[Table | None, str]:
    """Each scenario's net employer cost against the baseline's, year by year, split by driver
    (docs/cost_bridge.md), exactly, from the runs' own databases: the lowest seed both completed."""
    base, out = data["baseline"], []
    done = {(r["scenario"], r["seed"]): r["database"] for r in data["runs"] if r["status"] == "completed"}
    for s in data["scenarios"]:
        seeds = sorted(seed for (name, seed) in done if name == s and (base, seed) in done)
        if s == base or not seeds:
            continue
        first, second = _run_states(done[(base, seeds[0])]), _run_states(done[(s, seeds[0])])
        out += [{**b, "year": f"{s} {b['year']} (seed {seeds[0]})"} for b in cost_bridge.between(first, second)]
    if not out:
        return None, ("No scenario has a completed run with the plan's money layer sharing a seed with the "
                      "baseline's (or the runs' databases are gone): no cost bridge.")
    return bridge_table(out, "scenario, year"), ""


def render_batch(data: dict, database: Path) -> str:
    info = data["info"]
    subtitle = " · ".join(str(v) for v in (database, info.get("batch_id") and f"batch {info['batch_id']}",
                                           info.get("kind"), info.get("created_at") and
                                           f"created {scalar_text(info['created_at'])}") if v)
    years = data["years"]
    scenario_figures = scenario_charts(data) if years else []
    fans = [(s, fan_charts(data, s)) for s in ensembles(data)] if years else []
    return render("batch_report.html", title=f"PlanWise batch report — {info.get('source') or Path(database).name}",
                  subtitle=subtitle, charts_total=len(scenario_figures) + sum(len(f) for _, f in fans),
                  key_figures=key_figures(data), runs=runs_table(data["runs"]), baseline=data["baseline"],
                  scenarios=scenarios_table(data) if data["scenarios"] else None,
                  differences=differences_table(data) if years else (None, "No completed runs: no differences to show."),
                  last_year=years[-1] if years else None, side_by_side=side_by_side_table(data) if years else None,
                  scenario_figures=scenario_figures, fans=fans, percentile_note=PERCENTILE_NOTE,
                  bridge=cost_bridges(data) if years else (None, ""), ndt=data.get("ndt"))


def write_batch_report(batch_database: Path | str, out: Path | str) -> Path:
    """Write the HTML report of ``batch_database`` to ``out`` (replaced atomically); returns ``out``."""
    database, out = Path(batch_database), Path(out)
    if out.is_dir():
        raise PlanwiseError(f"{out} is a folder: pass a file name such as {out / 'batch-report.html'}.")
    with open_batch(database) as con:
        data = collect_batch(con)
        data["ndt"] = ndt_side_by_side(con, data["scenarios"])
    return write_page(out, render_batch(data, database))
