"""A self-contained HTML report of a finished simulation: what an analyst reads, section by section.

Headline per year (head count, payroll, employer plan cost, cost % of payroll, participation) and its change
over the horizon; workforce (status, events, growth, age and tenure bands, level mix, retirements); pay;
the retirement plan (participation by band, deferral rates, employer cost when the money layer ran); the
baseline census profile; the assumptions (configuration and parameter tables); performance. Every chart
carries the table of its numbers (run_data collects, workforce_figures / plan_figures draw, assumptions
tabulates); the page is ``templates/run_report.html``.
"""

from __future__ import annotations


import json
from pathlib import Path
from typing import Mapping

from planwise_core.errors import PlanwiseError, option
from planwise_core.outputs import bridge as cost_bridge
from planwise_core.outputs import headline as hl
from planwise_core.outputs.results import REQUIRED_TABLES, open_results
from planwise_core.report.assumptions import default_census_profile, parameter_tables, profile_blocks
from planwise_core.report.charts import Figure, bar_chart
from planwise_core.outputs.metrics import BY_KEY, COUNT, FRACTION, METRIC_LABELS, MONEY
from planwise_core.report.formatting import fmt_dollars, fmt_int, fmt_rate, fmt_seconds, num, or_dash
from planwise_core.report.page import render, write_page
from planwise_core.report.ndt_figures import NO_NDT, ndt_figures, top_heavy_table
from planwise_core.report.plan_figures import NO_PLAN, plan_figures, plan_table
from planwise_core.report.plan_sentence import plan_sentence
from planwise_core.report.drift import level_drift, pay_drift
from planwise_core.report.run_data import collect
from planwise_core.report.tables import Column, Table, bridge_table, by_columns
from planwise_core.report.workforce_figures import pay_figures, workforce_figures

__all__ = ["REQUIRED_TABLES", "open_results", "write_report"]  # open_results lives in outputs/results.py
# The per-year table: these fct_year_summary columns, labelled and formatted by their unit (outputs/metrics.py).
SUMMARY_COLUMNS = ("start_headcount", "hires", "experienced_terminations", "new_hire_terminations", "end_headcount",
                   "target_end_headcount", "growth_rate", "target_growth_rate", "promotions", "raises", "enrollments",
                   "opt_outs", "enrolled_share_of_actives", "payroll", "average_deferral_rate")
UNIT_FORMATS = {COUNT: fmt_int, MONEY: fmt_dollars, FRACTION: fmt_rate}
# The headline block: these metrics (outputs.headline) when the database holds them, in this order.
HEADLINE = ("end_headcount", "payroll", "total_employer_gross", "employer_cost_pct_payroll",
            "enrolled_share_of_actives", "participation_rate", "net_employer_cost", "retirements")


# --------------------------------------------------------------------------- the database


# --------------------------------------------------------------------------- charts and tables


def performance_figure(data: dict) -> Figure:
    log = data["year_log"]
    if not log:
        return Figure("performance", "Seconds per simulated year", None)
    tips = [[f"{r['simulation_year']}: {r['seconds']:.2f}s ({r['plugin']}/{r['optimization_level']}, "
             f"{r['dbt_invocations']} dbt invocations)" for r in log]]
    years, seconds = [str(r["simulation_year"]) for r in log], [num(r["seconds"]) for r in log]
    table = by_columns([Column("year", years, numeric=False), Column("seconds", seconds, lambda v: f"{v:.2f}")])
    return Figure("performance", "Seconds per simulated year",
                  bar_chart(years, [("seconds", seconds, "#9c755f")], fmt=fmt_seconds, tips=tips),
                  [("seconds", "#9c755f")], table=table)


def figures(data: dict) -> dict[str, list[Figure]]:
    """The charts of each section, in page order."""
    return {"workforce": workforce_figures(data), "pay": pay_figures(data), "plan": plan_figures(data),
            "ndt": ndt_figures(data),
            "performance": [performance_figure(data)]}


def headline_table(data: dict) -> Table:
    """One row per year of the headline metrics, then the change from the first year to the last (absolute, %)."""
    metrics = [hl.BY_KEY[k] for k in HEADLINE if hl.BY_KEY[k] in data["metrics"]]
    if hl.BY_KEY["participation_rate"] in metrics:  # one participation figure: enrolled / eligible (dc_plan)
        metrics.remove(hl.BY_KEY["enrolled_share_of_actives"])
    values, years = data["headline"], [y for y in data["years"] if y in data["headline"]]
    rows = [[str(y), *(hl.fmt_value(values[y][m.key], m.unit) for m in metrics)] for y in years]
    classes = [""] * len(rows)
    if len(years) > 1:
        first, last = years[0], years[-1]
        changes = [hl.change(values[first][m.key], values[last][m.key]) for m in metrics]
        rows.append([f"change {first}–{last}", *(hl.fmt_value(d, m.unit, signed=True)
                                                  for m, (d, _) in zip(metrics, changes))])
        rows.append([f"change {first}–{last}, %", *("–" if p is None else f"{p:+.2f}%" for _, p in changes)])
        classes += ["change", "change"]
    return Table(["year", *(m.label for m in metrics)], rows, range(1, len(metrics) + 1), classes)


# --------------------------------------------------------------------------- tables and the page


def summary_table(rows: list[dict]) -> Table:
    formats = [UNIT_FORMATS[BY_KEY[k].unit] for k in SUMMARY_COLUMNS]
    table = [[str(r["simulation_year"]), *(or_dash(r.get(k), f) for k, f in zip(SUMMARY_COLUMNS, formats))]
             for r in rows]
    return Table(["year", *(METRIC_LABELS[k] for k in SUMMARY_COLUMNS)], table, range(1, len(SUMMARY_COLUMNS) + 1))


def performance_table(log: list[dict]) -> Table | None:
    if not log:
        return None
    rows = [[r["simulation_year"], r["plugin"], r["optimization_level"], f"{num(r['seconds']):.2f}",
             fmt_int(num(r["rows_written"])), r["dbt_invocations"], r["attempts"], r["run_id"]] for r in log]
    rows.append(["total", "", "", f"{sum(num(r['seconds']) for r in log):.2f}",
                 fmt_int(sum(num(r["rows_written"]) for r in log)),
                 sum(int(num(r["dbt_invocations"])) for r in log), "", ""])
    return Table(["year", "plugin", "level", "seconds", "rows", "dbt invocations", "attempts", "run"],
                 rows, {3, 4, 5, 6})


def run_facts(run: dict | None) -> list[tuple[str, object]]:
    if run is None:
        return []
    facts = [("run", run.get("run_id")), ("status", run.get("status")), ("started", run.get("started_at")),
             ("finished", run.get("finished_at")), ("years", f"{run.get('start_year')}–{run.get('end_year')}"),
             ("seed", (run.get("config") or {}).get("random_seed")), ("census", run.get("census_path"))]
    if run.get("census_sha256"):
        facts.append(("census sha256", run["census_sha256"]))
    facts += [("engine", run.get("plugin")), ("planwise version", run.get("planwise_version") or "not recorded")]
    try:
        tables = json.loads(run.get("assumptions_json") or "null")
    except ValueError:
        tables = None
    if tables:
        replaced = [name for name, t in tables.items() if t.get("replaced")]
        facts.append(("parameter tables", f"replaced: {', '.join(replaced)}" if replaced else "all built-in"))
    return facts


def _recorded_tables(run: dict | None) -> dict:
    try:
        return json.loads((run or {}).get("assumptions_json") or "null") or {}
    except ValueError:
        return {}


def configuration(run: dict | None) -> tuple[dict | None, str | None]:
    """(the effective configuration, or None; the raw config_json when it is not JSON)."""
    if run is None:
        return None, None
    if run.get("config") is None and run.get("config_json"):
        return None, run["config_json"]
    return run.get("config") or {}, None


def key_figures(data: dict) -> list[tuple[str, str]]:
    s = data["summary"]
    if not s:
        return []
    first, last, n = s[0], s[-1], len(s)
    start, end = num(first["start_headcount"]), num(last["end_headcount"])
    cagr = 100 * ((end / start) ** (1 / n) - 1) if start else 0.0
    year = last["simulation_year"]
    cards = [("years simulated", f"{n} ({first['simulation_year']}–{year})"),
             ("head count", f"{fmt_int(start)} → {fmt_int(end)}"), ("average growth", f"{cagr:.2f}% a year"),
             ("hires", fmt_int(sum(num(r["hires"]) for r in s))),
             participation_card(last, year),
             (f"payroll {year}", fmt_dollars(num(last["payroll"])))]
    if last.get("total_employer_gross") is not None:
        cards += [(f"employer plan cost {year}", fmt_dollars(num(last["total_employer_gross"]))),
                  (f"cost, share of plan compensation {year}", fmt_rate(num(last.get("employer_cost_pct_payroll"))))]
    return cards


def participation_card(row: dict, year: int) -> tuple[str, str]:
    """The one participation figure: enrolled / eligible when the plan layer ran, else enrolled / actives."""
    if row.get("participation_rate") is not None:
        return f"participation {year} (enrolled / eligible)", fmt_rate(num(row["participation_rate"]))
    return f"participation {year} (enrolled / actives)", fmt_rate(num(row["enrolled_share_of_actives"]))


def render_report(data: dict, database: Path, census_profile: Mapping | None = None) -> str:
    figs = figures(data)
    years = data["years"]
    config, config_text = configuration(data["run"])
    profile_facts, profile_tables = profile_blocks(census_profile) if census_profile else ([], [])
    return render("run_report.html", title=f"PlanWise simulation report — {years[0]}–{years[-1]}",
                  subtitle=database, charts_total=sum(len(f) for f in figs.values()), figs=figs,
                  key_figures=key_figures(data), headline=headline_table(data), plan_table=plan_table(data),
                  design=plan_sentence(config), no_plan=None if data["plan"] else NO_PLAN, bridge=bridge_table(data.get("cost_bridge") or ()),
                  pay_drift=data.get("pay_drift"), drift_notes=data.get("drift_notes") or [], summary=summary_table(data["summary"]),
                  top_heavy=top_heavy_table(data), no_ndt=None if data.get("ndt") else NO_NDT,
                  has_profile=census_profile is not None, profile_facts=profile_facts, profile_tables=profile_tables,
                  run_facts=run_facts(data["run"]), config=config, config_text=config_text,
                  parameter_tables=parameter_tables(data["parameter_tables"], _recorded_tables(data["run"])), performance=performance_table(data["year_log"]))


def write_report(database: Path | str, out: Path | str, census_profile: Mapping | None = None) -> Path:
    """Write the HTML report of ``database`` to ``out`` (replaced atomically); returns ``out``.

    ``census_profile``: the baseline section's census profile (a JSON-like mapping); by default the one
    ``planwise_core.census.profile`` makes, when that module exists (report.assumptions).
    """
    database, out = Path(database), Path(out)
    if out.is_dir():
        raise PlanwiseError(f"{out} is a folder: pass {option('out')} a file name such as {out / 'report.html'}.")
    with open_results(database) as con:
        data = collect(con)
        data["cost_bridge"] = cost_bridge.year_over_year(cost_bridge.cost_states(con))
        data["pay_drift"], notes = pay_drift(con)
        data["drift_notes"] = notes + level_drift(con)
        if census_profile is None:
            census_profile = default_census_profile(con)
    return write_page(out, render_report(data, database, census_profile))
