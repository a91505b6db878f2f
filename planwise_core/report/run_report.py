"""A self-contained HTML report of a finished simulation: charts as inline SVG, assumptions, performance.

Per-year numbers come from the ``fct_year_summary`` mart (``outputs.summary.year_summary``); only the
distributions (pay, pay by level, deferral rates) are read from the snapshot. The page is
``templates/run_report.html``; every chart carries the table of its numbers.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from planwise_core.database import table_exists
from planwise_core.errors import PlanwiseError
from planwise_core.outputs.summary import year_summary
from planwise_core.report.charts import PALETTE, Figure, bar_chart, histogram, shades
from planwise_core.report.formatting import (fmt_dollars, fmt_int, fmt_money, fmt_pct, fmt_pct2, fmt_rate,
                                             fmt_seconds, num, or_dash)
from planwise_core.report.page import connect_read_only, render, write_page
from planwise_core.report.tables import Column, Table, by_columns

REQUIRED_TABLES = ("fct_yearly_events", "fct_workforce_snapshot", "int_workforce_requirements", "fct_year_summary")
# Event type -> its count column in fct_year_summary, in chart order.
EVENT_COLUMNS = (("hire", "hires"), ("termination", "terminations"), ("promotion", "promotions"),
                 ("raise", "raises"), ("eligibility", "eligibility_events"), ("enrollment", "enrollments"),
                 ("opt_out", "opt_outs"))
# Everyone employed in the year by status: (fct_year_summary column, label, colour).
STATUSES = (("continuing_actives", "continuing active", "#4e79a7"), ("new_hire_actives", "new hire, active", "#76b7b2"),
            ("experienced_terminations", "experienced termination", "#e15759"),
            ("new_hire_terminations", "new hire, terminated", "#f28e2b"))
SUMMARY_COLUMNS = (("simulation_year", "year", str), ("start_headcount", "start", fmt_int),
                   ("hires", "hires", fmt_int), ("experienced_terminations", "exp. terms", fmt_int),
                   ("new_hire_terminations", "new-hire terms", fmt_int), ("end_headcount", "end", fmt_int),
                   ("target_end_headcount", "target end", fmt_int), ("growth_pct", "growth %", lambda v: f"{v:.2f}"),
                   ("target_growth_pct", "target %", lambda v: f"{float(v):.2f}"),
                   ("promotions", "promotions", fmt_int), ("raises", "raises", fmt_int),
                   ("enrollments", "enrollments", fmt_int), ("opt_outs", "opt-outs", fmt_int),
                   ("participation_pct", "participation %", lambda v: f"{v:.2f}"),
                   ("payroll", "payroll", fmt_dollars), ("average_deferral_rate", "avg deferral", fmt_rate))


# --------------------------------------------------------------------------- the database


@contextlib.contextmanager
def open_results(database: Path | str):
    """A read-only connection to a database that holds simulation results, or a PlanwiseError saying why not."""
    database = Path(database)
    con = connect_read_only(database, f"run `planwise run --database {database}` first, "
                                      "or pass --database with the file a run wrote.")
    try:
        missing = [t for t in REQUIRED_TABLES if not table_exists(con, t)]
        if missing or not con.execute("select count(*) from fct_workforce_snapshot").fetchone()[0]:
            raise PlanwiseError(f"{database} holds no simulation results (missing: "
                                f"{', '.join(missing) or 'rows in fct_workforce_snapshot'}): "
                                f"run `planwise run --database {database}` first.")
        yield con
    finally:
        con.close()


def _dicts(con, sql: str, params=()) -> list[dict]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def collect(con) -> dict:
    """Everything the page shows, as plain Python values."""
    years = [r[0] for r in con.execute("select distinct simulation_year from fct_workforce_snapshot order by 1")
             .fetchall()]
    last = years[-1]
    summary = year_summary(con, years[0], last)
    data: dict = {"years": years, "last_year": last, "summary": summary,
                  "by_year": {r["simulation_year"]: r for r in summary}}
    actives = "from fct_workforce_snapshot where employment_status = 'active'"
    data["pay"] = [float(r[0]) for r in con.execute(
        f"select current_compensation {actives} and simulation_year = ? and current_compensation is not null",
        [last]).fetchall()]
    levels = con.execute(f"select level_id, simulation_year, avg(current_compensation), count(*) {actives} "
                         "group by all order by 1, 2").fetchall()
    data["pay_by_level"] = {(lvl, y): (float(avg), n) for lvl, y, avg, n in levels}
    data["levels"] = sorted({lvl for lvl, _, _, _ in levels}, key=lambda v: (v is None, v))
    data["deferrals"] = [float(r[0]) for r in con.execute(
        f"select deferral_rate {actives} and simulation_year = ? and is_enrolled and deferral_rate is not null",
        [last]).fetchall()]
    data["run"] = None
    if table_exists(con, "planwise_run_log"):
        runs = _dicts(con, "select * from planwise_run_log order by started_at desc nulls last limit 1")
        data["run"] = runs[0] if runs else None
    data["year_log"] = []
    if table_exists(con, "planwise_year_log"):
        # The row that produced each year's current data: the latest one per year (a resumed run
        # logs only the years it ran; the earlier ones keep the interrupted run's row).
        data["year_log"] = _dicts(con, """
            select run_id, simulation_year, plugin, optimization_level, seconds, rows_written, dbt_invocations,
                   attempts, completed_at
            from planwise_year_log where simulation_year in (select distinct simulation_year from fct_workforce_snapshot)
            qualify row_number() over (partition by simulation_year order by completed_at desc) = 1
            order by simulation_year""")
    return data


# --------------------------------------------------------------------------- charts, each with its numbers


def _metric(data: dict, key: str) -> list:
    """One value per simulated year from fct_year_summary (None for a year the mart lacks)."""
    return [data["by_year"].get(y, {}).get(key) for y in data["years"]]


def headcount_figure(data: dict) -> Figure:
    years = [str(y) for y in data["years"]]
    series = [(label, [num(v) for v in _metric(data, key)], color) for key, label, color in STATUSES]
    totals = [sum(vals[i] for _, vals, _ in series) for i in range(len(years))]
    table = by_columns([Column("year", years, numeric=False),
                        *(Column(label, vals, fmt_int) for label, vals, _ in series), Column("total", totals, fmt_int)])
    return Figure("headcount", "Head count by year and status (everyone employed during the year)",
                  bar_chart(years, series, stacked=True), [(s[0], s[2]) for s in series], table=table)


def events_figure(data: dict) -> Figure:
    years = [str(y) for y in data["years"]]
    counts = [(kind, [num(v) for v in _metric(data, key)]) for kind, key in EVENT_COLUMNS]
    present = [(kind, vals) for kind, vals in counts if any(vals)]
    series = [(kind, vals, PALETTE[i % len(PALETTE)]) for i, (kind, vals) in enumerate(present)]
    table = by_columns([Column("year", years, numeric=False), *(Column(k, v, fmt_int) for k, v, _ in series)])
    return Figure("events", "Events by type and year", bar_chart(years, series, gap=0.2) if series else None,
                  [(s[0], s[2]) for s in series], table=table if series else None)


def growth_figure(data: dict) -> Figure:
    years = [str(y) for y in data["years"]]
    growth, target = [num(v) for v in _metric(data, "growth_pct")], [num(v) for v in _metric(data, "target_growth_pct")]
    start, end, target_end = (_metric(data, k) for k in ("start_headcount", "end_headcount", "target_end_headcount"))
    tips = [[f"{y}: {g:.2f}% (active {fmt_int(num(s))} → {fmt_int(num(e))}, target {fmt_int(num(t))})"
             for y, g, s, e, t in zip(years, growth, start, end, target_end)]]
    table = by_columns([Column("year", years, numeric=False), Column("actives at start", start, fmt_int),
                        Column("actives at end", end, fmt_int), Column("target end", target_end, fmt_int),
                        Column("growth", growth, fmt_pct2), Column("target growth", target, fmt_pct2)])
    return Figure("growth", "Head-count growth against target (% of start-of-year actives)",
                  bar_chart(years, [("actual growth", growth, "#4e79a7")], fmt=fmt_pct,
                            lines=[("target growth", target, "#e15759")], tips=tips),
                  [("actual growth", "#4e79a7"), ("target growth", "#e15759")], table=table)


def pay_figure(data: dict) -> Figure:
    pay, title = data["pay"], f"Pay distribution of active employees on Dec 31, {data['last_year']}"
    if not pay:
        return Figure("pay-distribution", title, None)
    starts, width, counts = histogram(pay)
    ranges = [f"{fmt_money(s)} – {fmt_money(s + width)}" for s in starts]
    tips = [[f"{r}: {c} employees" for r, c in zip(ranges, counts)]]
    table = by_columns([Column("pay", ranges, numeric=False), Column("employees", counts, fmt_int)])
    return Figure("pay-distribution", title, bar_chart([fmt_money(s) for s in starts],
                                                       [("employees", counts, "#59a14f")], gap=0.0, tips=tips),
                  note=f"{len(pay):,} actives; bins of {fmt_money(width)}", table=table)


def pay_by_level_figure(data: dict) -> Figure:
    years, levels = data["years"], data["levels"]
    colors = shades(len(years))
    cell = {key: avg for key, (avg, _) in data["pay_by_level"].items()}
    series = [(str(y), [cell.get((lvl, y), 0.0) for lvl in levels], c) for y, c in zip(years, colors)]
    tips = [[f"level {lvl}, {y}: average {fmt_money(cell.get((lvl, y), 0.0))} "
             f"({data['pay_by_level'].get((lvl, y), (0.0, 0))[1]} actives)" for lvl in levels] for y in years]
    table = by_columns([Column("level", levels, numeric=False),
                        *(Column(f"average {y}", [cell.get((lvl, y)) for lvl in levels], fmt_dollars) for y in years)])
    return Figure("pay-by-level", "Average pay of active employees by level and year",
                  bar_chart([f"level {lvl}" for lvl in levels], series, fmt=fmt_money, tips=tips) if levels else None,
                  [(str(y), c) for y, c in zip(years, colors)], table=table if levels else None)


def participation_figure(data: dict) -> Figure:
    years = [str(y) for y in data["years"]]
    pct, enrolled, actives = (_metric(data, k) for k in ("participation_pct", "enrolled_actives", "end_headcount"))
    pct = [num(p) for p in pct]
    tips = [[f"{y}: {p:.2f}% ({num(e):,.0f} of {num(a):,.0f} actives enrolled)"
             for y, p, e, a in zip(years, pct, enrolled, actives)]]
    table = by_columns([Column("year", years, numeric=False), Column("enrolled actives", enrolled, fmt_int),
                        Column("actives", actives, fmt_int), Column("participation", pct, fmt_pct2)])
    return Figure("participation", "Plan participation of active employees on Dec 31",
                  bar_chart(years, [("participation", pct, "#76b7b2")], fmt=fmt_pct, fixed_max=100, tips=tips),
                  [("enrolled actives / actives", "#76b7b2")], table=table)


def deferral_figure(data: dict) -> Figure:
    rates, title = data["deferrals"], f"Deferral rates of enrolled actives on Dec 31, {data['last_year']}"
    if not rates:
        return Figure("deferral-distribution", title, None)
    distinct = sorted({round(r * 100, 2) for r in rates})
    if len(distinct) <= 30:
        counts = [sum(1 for r in rates if round(r * 100, 2) == d) for d in distinct]
        cats = [f"{d:g}%" for d in distinct]
    else:
        starts, width, counts = histogram([r * 100 for r in rates])
        cats = [f"{s:g}%" for s in starts]
    tips = [[f"{c}: {n:,} participants" for c, n in zip(cats, counts)]]
    table = by_columns([Column("deferral rate", cats, numeric=False), Column("participants", counts, fmt_int),
                        Column("share", [100 * n / len(rates) for n in counts], fmt_pct2)])
    return Figure("deferral-distribution", title, bar_chart(cats, [("participants", counts, "#b07aa1")], tips=tips),
                  note=f"{len(rates):,} participants, average {100 * sum(rates) / len(rates):.2f}%", table=table)


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
    return {"workforce": [headcount_figure(data), events_figure(data), growth_figure(data)],
            "compensation": [pay_figure(data), pay_by_level_figure(data)],
            "plan": [participation_figure(data), deferral_figure(data)],
            "performance": [performance_figure(data)]}


# --------------------------------------------------------------------------- tables and the page


def summary_table(rows: list[dict]) -> Table:
    table = [[or_dash(r.get(k), f) for k, _, f in SUMMARY_COLUMNS] for r in rows]
    return Table([label for _, label, _ in SUMMARY_COLUMNS], table, range(1, len(SUMMARY_COLUMNS)))


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
    return [("run", run.get("run_id")), ("status", run.get("status")), ("started", run.get("started_at")),
            ("finished", run.get("finished_at")), ("years", f"{run.get('start_year')}–{run.get('end_year')}"),
            ("census", run.get("census_path")), ("engine", run.get("plugin"))]


def configuration(run: dict | None) -> tuple[dict | None, str | None]:
    """(the effective configuration, or None; the raw config_json when it is not JSON)."""
    if run is None:
        return None, None
    try:
        return json.loads(run.get("config_json") or "{}"), None
    except ValueError:
        return None, run.get("config_json")


def key_figures(data: dict) -> list[tuple[str, str]]:
    s = data["summary"]
    if not s:
        return []
    first, last, n = s[0], s[-1], len(s)
    start, end = num(first["start_headcount"]), num(last["end_headcount"])
    cagr = 100 * ((end / start) ** (1 / n) - 1) if start else 0.0
    return [("years simulated", f"{n} ({first['simulation_year']}–{last['simulation_year']})"),
            ("head count", f"{fmt_int(start)} → {fmt_int(end)}"), ("average growth", f"{cagr:.2f}% a year"),
            ("hires", fmt_int(sum(num(r["hires"]) for r in s))),
            (f"participation {last['simulation_year']}", fmt_pct2(num(last["participation_pct"]))),
            (f"payroll {last['simulation_year']}", fmt_money(num(last["payroll"])))]


def render_report(data: dict, database: Path) -> str:
    figs = figures(data)
    years = data["years"]
    config, config_text = configuration(data["run"])
    return render("run_report.html", title=f"PlanWise simulation report — {years[0]}–{years[-1]}",
                  subtitle=database,
                  charts_total=sum(len(f) for f in figs.values()), figs=figs, key_figures=key_figures(data),
                  summary=summary_table(data["summary"]), run_facts=run_facts(data["run"]), config=config,
                  config_text=config_text, performance=performance_table(data["year_log"]))


def write_report(database: Path | str, out: Path | str) -> Path:
    """Write the HTML report of ``database`` to ``out`` (replaced atomically); returns ``out``."""
    database, out = Path(database), Path(out)
    if out.is_dir():
        raise PlanwiseError(f"{out} is a folder: pass --out with a file name such as {out / 'report.html'}.")
    with open_results(database) as con:
        data = collect(con)
    return write_page(out, render_report(data, database))
