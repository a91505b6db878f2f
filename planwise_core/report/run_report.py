"""A self-contained HTML report of a finished simulation: charts as inline SVG, assumptions, performance.

The page loads nothing from the network (a Content-Security-Policy forbids it): every chart is SVG
drawn here, in Python, and the one inline script only counts the charts the browser rendered
(``body[data-charts-rendered]``) and records any script error (``body[data-script-error]``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import json
import math
from pathlib import Path

import duckdb

from planwise_core.database import table_exists
from planwise_core.database.runlog import check_lineage
from planwise_core.database.workspace import MARKER_TABLE
from planwise_core.errors import PlanwiseError
from planwise_core.fileio import atomic_write_text
from planwise_core.outputs.summary import year_summary

REQUIRED_TABLES = ("fct_yearly_events", "fct_workforce_snapshot", "int_workforce_requirements")
EVENT_TYPES = ("hire", "termination", "promotion", "raise", "eligibility", "enrollment", "opt_out")
STATUSES = (("continuous_active", "continuing active"), ("new_hire_active", "new hire, active"),
            ("experienced_termination", "experienced termination"),
            ("new_hire_termination", "new hire, terminated"))
PALETTE = ("#4e79a7", "#59a14f", "#f28e2b", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#bab0ac")
STATUS_COLORS = ("#4e79a7", "#76b7b2", "#e15759", "#f28e2b")


def esc(value) -> str:
    return html.escape(str(value), quote=True)


# --------------------------------------------------------------------------- the database


def connect_read_only(database: Path, missing_hint: str):
    """A read-only connection to an existing DuckDB file, or a PlanwiseError saying why not."""
    if not database.exists():
        raise PlanwiseError(f"Database {database} does not exist: {missing_hint}")
    if database.is_dir():
        raise PlanwiseError(f"{database} is a folder, not a DuckDB database: pass --database with a .duckdb file.")
    try:
        con = duckdb.connect(str(database), read_only=True)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise PlanwiseError(f"Database {database} is open in another process (a running simulation?): "
                                "wait for it to finish and try again.") from None
        raise PlanwiseError(f"{database} cannot be opened as a DuckDB database ({exc}).") from None
    except duckdb.Error as exc:
        raise PlanwiseError(f"{database} cannot be opened as a DuckDB database ({exc}).") from None
    return con


@contextlib.contextmanager
def open_results(database: Path | str):
    """A read-only connection to a database that holds simulation results, or a PlanwiseError saying why not."""
    database = Path(database)
    con = connect_read_only(database, f"run `planwise run --database {database}` first, "
                                      "or pass --database with the file a run wrote.")
    try:
        if not table_exists(con, MARKER_TABLE):
            raise PlanwiseError(f"{database} was not written by PlanWise (no {MARKER_TABLE} table): pass "
                                "--database with a file `planwise run` wrote.")
        missing = [t for t in REQUIRED_TABLES if not table_exists(con, t)]
        if missing or not con.execute("select count(*) from fct_workforce_snapshot").fetchone()[0]:
            raise PlanwiseError(f"{database} holds no simulation results (missing: "
                                f"{', '.join(missing) or 'rows in fct_workforce_snapshot'}): "
                                f"run `planwise run --database {database}` first.")
        check_lineage(con, database)
        yield con
    finally:
        con.close()


def _num(value) -> float:
    return 0.0 if value is None else float(value)


def _rows(con, sql: str, params=None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def collect(con) -> dict:
    """Everything the page shows, as plain Python values."""
    years = [r[0] for r in _rows(con, "select distinct simulation_year from fct_workforce_snapshot order by 1")]
    last = years[-1]
    data: dict = {"years": years, "last_year": last, "summary": year_summary(con, years[0], last)}

    counts = {(y, s): n for y, s, n in _rows(con, """
        select simulation_year, detailed_status_code, count(*) from fct_workforce_snapshot group by all""")}
    data["headcount"] = {code: [counts.get((y, code), 0) for y in years] for code, _ in STATUSES}

    events = {(y, t): n for y, t, n in _rows(con, """
        select simulation_year, event_type, count(*) from fct_yearly_events group by all""")}
    types = list(EVENT_TYPES) + sorted({t for _, t in events} - set(EVENT_TYPES))
    data["events"] = {t: [events.get((y, t), 0) for y in years] for t in types if any((y, t) in events for y in years)}

    pay = _rows(con, """select current_compensation from fct_workforce_snapshot
                        where simulation_year = ? and employment_status = 'active'""", [last])
    data["pay"] = [float(p[0]) for p in pay if p[0] is not None]

    levels = _rows(con, """select level_id, simulation_year, avg(current_compensation), count(*)
                           from fct_workforce_snapshot where employment_status = 'active'
                           group by all order by 1, 2""")
    data["pay_by_level"] = {(lvl, y): (float(avg), n) for lvl, y, avg, n in levels}
    data["levels"] = sorted({lvl for lvl, _, _, _ in levels}, key=lambda v: (v is None, v))

    data["participation"] = {y: (e, a) for y, e, a in _rows(con, """
        select simulation_year, count(*) filter (where is_enrolled), count(*)
        from fct_workforce_snapshot where employment_status = 'active' group by 1""")}
    data["deferrals"] = [float(r[0]) for r in _rows(con, """
        select deferral_rate from fct_workforce_snapshot
        where simulation_year = ? and employment_status = 'active' and is_enrolled and deferral_rate is not null""",
        [last])]

    data["run"] = None
    if table_exists(con, "planwise_run_log"):
        # The run that produced the results (its last year), not a later attempt that failed and changed nothing.
        producer = ("(select run_id from planwise_year_log where simulation_year = ? "
                    "order by completed_at desc limit 1)") if table_exists(con, "planwise_year_log") else "null"
        cur = con.execute(f"""select * from planwise_run_log
                              order by run_id = {producer} desc nulls last, status = 'completed' desc,
                                       started_at desc nulls last limit 1""", [last] if "?" in producer else [])
        row = cur.fetchone()
        if row is not None:
            data["run"] = dict(zip([d[0] for d in cur.description], row))
    data["year_log"] = []
    if table_exists(con, "planwise_year_log"):
        # The row that produced each year's current data: the latest one per year (a resumed run
        # logs only the years it ran; the earlier ones keep the interrupted run's row).
        cur = con.execute("""
            select run_id, simulation_year, plugin, optimization_level, seconds, rows_written, dbt_invocations,
                   attempts, completed_at
            from planwise_year_log where simulation_year in (select distinct simulation_year from fct_workforce_snapshot)
            qualify row_number() over (partition by simulation_year order by completed_at desc) = 1
            order by simulation_year""")
        data["year_log"] = [dict(zip([d[0] for d in cur.description], r)) for r in cur.fetchall()]
    return data


# --------------------------------------------------------------------------- SVG charts


def fmt_int(v) -> str:
    return f"{v:,.0f}"


def fmt_money(v) -> str:
    a = abs(v)
    if a >= 1_000_000:
        return f"${v / 1_000_000:,.1f}M"
    if a >= 1_000:
        return f"${v / 1_000:,.0f}k"
    return f"${v:,.0f}"


def fmt_pct(v) -> str:
    return f"{v:.1f}%" if abs(v) < 10 and v != int(v) else f"{v:.0f}%"


def fmt_seconds(v) -> str:
    return f"{v:.1f}s" if v < 100 else f"{v:.0f}s"


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
    out = []
    for i in range(n):
        t = i / (n - 1)
        out.append("#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(start, end)))
    return out


W, H = 640, 300
ML, MR, MT, MB = 64, 16, 14, 46


def bar_chart(categories: list[str], series: list[tuple[str, list[float], str]], *, fmt=fmt_int,
              stacked: bool = False, gap: float = 0.25, lines: list[tuple[str, list[float], str]] = (),
              fixed_max: float | None = None, tips: list[list[str]] | None = None) -> str:
    """Grouped (or stacked) bars per category, optional overlaid lines with points; returns an <svg>."""
    plot_w, plot_h = W - ML - MR, H - MT - MB
    values = [v for _, vals, _ in series for v in vals] + [v for _, vals, _ in lines for v in vals]
    if stacked:
        values += [sum(vals[i] for _, vals, _ in series) for i in range(len(categories))]
    lo, hi = min([0.0, *values]), max([0.0, *values])
    if fixed_max is not None:
        hi = max(hi, fixed_max)
    ticks = nice_ticks(lo, hi)
    y0, y1 = ticks[0], ticks[-1]

    def y(v: float) -> float:
        return MT + plot_h * (1 - (v - y0) / (y1 - y0))

    parts = [f'<svg viewBox="0 0 {W} {H}" role="img" preserveAspectRatio="xMidYMid meet">']
    for t in ticks:
        parts.append(f'<line class="grid" x1="{ML}" x2="{W - MR}" y1="{y(t):.1f}" y2="{y(t):.1f}"/>'
                     f'<text class="tick" x="{ML - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{esc(fmt(t))}</text>')
    band = plot_w / max(len(categories), 1)
    inner = band * (1 - gap)
    bar_w = inner if stacked else inner / max(len(series), 1)
    every = max(1, math.ceil(len(categories) / 12))
    for i, cat in enumerate(categories):
        left = ML + i * band + (band - inner) / 2
        base = 0.0
        for j, (name, vals, color) in enumerate(series):
            v = _num(vals[i])
            if stacked:
                top, bottom = y(base + v), y(base)
                x = left
                base += v
            else:
                top, bottom = (y(v), y(0)) if v >= 0 else (y(0), y(v))
                x = left + j * bar_w
            tip = tips[j][i] if tips else f"{cat} · {name}: {fmt(v)}"
            parts.append(f'<rect class="mark" x="{x:.1f}" y="{top:.1f}" width="{max(bar_w - (0 if gap == 0 else 1), 0.5):.1f}" '
                         f'height="{max(bottom - top, 0):.1f}" fill="{color}"><title>{esc(tip)}</title></rect>')
        if i % every == 0:
            parts.append(f'<text class="label" x="{ML + (i + 0.5) * band:.1f}" y="{H - MB + 16}" '
                         f'text-anchor="middle">{esc(cat)}</text>')
    for name, vals, color in lines:
        pts = [(ML + (i + 0.5) * band, y(_num(v))) for i, v in enumerate(vals)]
        d = " ".join(f"{'M' if k == 0 else 'L'}{px:.1f},{py:.1f}" for k, (px, py) in enumerate(pts))
        parts.append(f'<path class="mark line" d="{d}" stroke="{color}"/>')
        for (px, py), cat, v in zip(pts, categories, vals):
            parts.append(f'<circle class="mark" cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{color}">'
                         f'<title>{esc(f"{cat} · {name}: {fmt(_num(v))}")}</title></circle>')
    parts.append(f'<line class="axis" x1="{ML}" x2="{W - MR}" y1="{y(0):.1f}" y2="{y(0):.1f}"/>')
    parts.append("</svg>")
    return "".join(parts)


def figure(name: str, title: str, svg: str | None, legend: list[tuple[str, str]] = (), note: str = "") -> str:
    keys = "".join(f'<span class="key"><i style="background:{c}"></i>{esc(n)}</span>' for n, c in legend)
    body = svg if svg else '<p class="empty">No data.</p>'
    return (f'<figure class="chart" data-chart="{esc(name)}"><figcaption>{esc(title)}</figcaption>'
            f'{f"<div class=legend>{keys}</div>" if keys else ""}{body}'
            f'{f"<p class=note>{esc(note)}</p>" if note else ""}</figure>')


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


def charts(data: dict) -> list[str]:
    years = [str(y) for y in data["years"]]
    last = data["last_year"]
    out = []

    series = [(label, data["headcount"][code], color) for (code, label), color in zip(STATUSES, STATUS_COLORS)]
    out.append(figure("headcount", "Head count by year and status (everyone employed during the year)",
                      bar_chart(years, series, stacked=True), [(s[0], s[2]) for s in series]))

    ev = [(t, v, PALETTE[i % len(PALETTE)]) for i, (t, v) in enumerate(data["events"].items())]
    out.append(figure("events", "Events by type and year",
                      bar_chart(years, ev, gap=0.2) if ev else None, [(s[0], s[2]) for s in ev]))

    summ = {r["simulation_year"]: r for r in data["summary"]}
    growth = [_num(summ.get(y, {}).get("growth_pct")) for y in data["years"]]
    target = [_num(summ.get(y, {}).get("target_growth_pct")) for y in data["years"]]
    tips = [[f"{y}: {g:.2f}% (active {fmt_int(_num(summ.get(y, {}).get('start_headcount')))} → "
             f"{fmt_int(_num(summ.get(y, {}).get('end_headcount')))}, target "
             f"{fmt_int(_num(summ.get(y, {}).get('target_end_headcount')))})" for y, g in zip(data["years"], growth)]]
    out.append(figure("growth", "Head-count growth against target (% of start-of-year actives)",
                      bar_chart(years, [("actual growth", growth, "#4e79a7")], fmt=fmt_pct,
                                lines=[("target growth", target, "#e15759")], tips=tips),
                      [("actual growth", "#4e79a7"), ("target growth", "#e15759")]))

    pay = data["pay"]
    if pay:
        starts, width, counts = histogram(pay)
        cats = [fmt_money(s) for s in starts]
        tips = [[f"{fmt_money(s)} – {fmt_money(s + width)}: {c} employees" for s, c in zip(starts, counts)]]
        svg = bar_chart(cats, [("employees", counts, "#59a14f")], gap=0.0, tips=tips)
    else:
        svg = None
    out.append(figure("pay-distribution", f"Pay distribution of active employees on Dec 31, {last}", svg,
                      note=f"{len(pay):,} actives; bins of {fmt_money(width)}" if pay else ""))

    colors = shades(len(years))
    by_level = [(y, [data["pay_by_level"].get((lvl, int(y)), (0.0, 0))[0] for lvl in data["levels"]], c)
                for y, c in zip(years, colors)]
    tips = [[f"level {lvl}, {y}: average {fmt_money(data['pay_by_level'].get((lvl, int(y)), (0.0, 0))[0])} "
             f"({data['pay_by_level'].get((lvl, int(y)), (0.0, 0))[1]} actives)" for lvl in data["levels"]]
            for y in years]
    out.append(figure("pay-by-level", "Average pay of active employees by level and year",
                      bar_chart([f"level {lvl}" for lvl in data["levels"]], by_level, fmt=fmt_money, tips=tips)
                      if data["levels"] else None, [(y, c) for y, c in zip(years, colors)]))

    part = [data["participation"].get(y, (0, 0)) for y in data["years"]]
    pct = [100.0 * e / a if a else 0.0 for e, a in part]
    tips = [[f"{y}: {p:.1f}% ({e:,} of {a:,} actives enrolled)" for y, p, (e, a) in zip(years, pct, part)]]
    out.append(figure("participation", "Plan participation of active employees on Dec 31",
                      bar_chart(years, [("participation", pct, "#76b7b2")], fmt=fmt_pct, fixed_max=100, tips=tips),
                      [("enrolled actives / actives", "#76b7b2")]))

    rates = data["deferrals"]
    if rates:
        distinct = sorted({round(r * 100, 2) for r in rates})
        if len(distinct) <= 30:
            counts = [sum(1 for r in rates if round(r * 100, 2) == d) for d in distinct]
            cats = [f"{d:g}%" for d in distinct]
        else:
            starts, width, counts = histogram([r * 100 for r in rates])
            cats = [f"{s:g}%" for s in starts]
        tips = [[f"{c}: {n:,} participants" for c, n in zip(cats, counts)]]
        svg = bar_chart(cats, [("participants", counts, "#b07aa1")], tips=tips)
    else:
        svg = None
    out.append(figure("deferral-distribution", f"Deferral rates of enrolled actives on Dec 31, {last}", svg,
                      note=f"{len(rates):,} participants, average {100 * sum(rates) / len(rates):.2f}%" if rates else ""))

    log = data["year_log"]
    if log:
        tips = [[f"{r['simulation_year']}: {r['seconds']:.2f}s ({r['plugin']}/{r['optimization_level']}, "
                 f"{r['dbt_invocations']} dbt invocations)" for r in log]]
        svg = bar_chart([str(r["simulation_year"]) for r in log],
                        [("seconds", [_num(r["seconds"]) for r in log], "#9c755f")], fmt=fmt_seconds, tips=tips)
    else:
        svg = None
    out.append(figure("performance", "Seconds per simulated year", svg, [("seconds", "#9c755f")] if log else []))
    return out


# --------------------------------------------------------------------------- tables


def scalar_text(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return str(value)


def nested_table(value) -> str:
    """A dict as a two-column table, nested dicts as nested tables; lists as comma-separated values."""
    if isinstance(value, dict):
        if not value:
            return '<span class="muted">(empty)</span>'
        rows = "".join(f'<tr><th scope="row">{esc(k)}</th><td>{nested_table(v)}</td></tr>' for k, v in value.items())
        return f'<table class="config">{rows}</table>'
    if isinstance(value, list):
        return esc(", ".join(scalar_text(v) for v in value)) if value else '<span class="muted">[]</span>'
    return esc(scalar_text(value))


def data_table(headers: list[str], rows: list[list], numeric: set[int] = frozenset(),
               row_classes: list[str] | None = None) -> str:
    """``row_classes``: a CSS class per row ("" for none)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    classes = row_classes or [""] * len(rows)
    body = "".join((f'<tr class="{esc(k)}">' if k else "<tr>")
                   + "".join(f'<td{" class=num" if i in numeric else ""}>{esc(c)}</td>' for i, c in enumerate(r))
                   + "</tr>" for r, k in zip(rows, classes))
    return f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


SUMMARY_COLUMNS = (("simulation_year", "year", str), ("start_headcount", "start", fmt_int),
                   ("hires", "hires", fmt_int), ("experienced_terminations", "exp. terms", fmt_int),
                   ("new_hire_terminations", "new-hire terms", fmt_int), ("end_headcount", "end", fmt_int),
                   ("target_end_headcount", "target end", fmt_int), ("growth_pct", "growth %", lambda v: f"{v:.2f}"),
                   ("target_growth_pct", "target %", lambda v: f"{float(v):.2f}"),
                   ("promotions", "promotions", fmt_int), ("raises", "raises", fmt_int),
                   ("enrollments", "enrollments", fmt_int), ("opt_outs", "opt-outs", fmt_int),
                   ("participation_pct", "participation %", lambda v: f"{v:.2f}"),
                   ("payroll", "payroll", lambda v: f"${v:,.0f}"),
                   ("average_deferral_rate", "avg deferral", lambda v: f"{100 * v:.2f}%"))


def summary_table(rows: list[dict]) -> str:
    table = [[("–" if r.get(k) is None else f(r[k])) for k, _, f in SUMMARY_COLUMNS] for r in rows]
    return data_table([label for _, label, _ in SUMMARY_COLUMNS], table, set(range(1, len(SUMMARY_COLUMNS))))


def performance_table(log: list[dict]) -> str:
    if not log:
        return '<p class="empty">No year log (planwise_year_log) in this database.</p>'
    rows = [[r["simulation_year"], r["plugin"], r["optimization_level"], f"{_num(r['seconds']):.2f}",
             fmt_int(_num(r["rows_written"])), r["dbt_invocations"], r["attempts"], r["run_id"]] for r in log]
    total = sum(_num(r["seconds"]) for r in log)
    rows.append(["total", "", "", f"{total:.2f}", fmt_int(sum(_num(r["rows_written"]) for r in log)),
                 sum(int(_num(r["dbt_invocations"])) for r in log), "", ""])
    return data_table(["year", "plugin", "level", "seconds", "rows", "dbt invocations", "attempts", "run"],
                      rows, {3, 4, 5, 6})


def run_section(run: dict | None) -> tuple[str, str]:
    """(run facts, assumptions) HTML."""
    if run is None:
        return ('<p class="empty">No run log (planwise_run_log) in this database.</p>',
                '<p class="empty">The configuration is recorded by `planwise run`; none was found.</p>')
    facts = [("run", run.get("run_id")), ("status", run.get("status")), ("started", run.get("started_at")),
             ("finished", run.get("finished_at")), ("years", f"{run.get('start_year')}–{run.get('end_year')}"),
             ("census", run.get("census_path")), ("engine", run.get("plugin"))]
    facts_html = "<dl class=facts>" + "".join(f"<dt>{esc(k)}</dt><dd>{esc(scalar_text(v))}</dd>"
                                                for k, v in facts) + "</dl>"
    try:
        config = json.loads(run.get("config_json") or "{}")
        assumptions = nested_table(config)
    except ValueError:
        assumptions = f"<pre>{esc(run.get('config_json'))}</pre>"
    return facts_html, assumptions


def key_figures(data: dict) -> str:
    s = data["summary"]
    if not s:
        return ""
    first, last = s[0], s[-1]
    n = len(s)
    start, end = _num(first["start_headcount"]), _num(last["end_headcount"])
    cagr = 100 * ((end / start) ** (1 / n) - 1) if start else 0.0
    items = [("years simulated", f"{n} ({first['simulation_year']}–{last['simulation_year']})"),
             ("head count", f"{fmt_int(start)} → {fmt_int(end)}"), ("average growth", f"{cagr:.2f}% a year"),
             ("hires", fmt_int(sum(_num(r["hires"]) for r in s))),
             (f"participation {last['simulation_year']}", f"{_num(last['participation_pct']):.1f}%"),
             (f"payroll {last['simulation_year']}", fmt_money(_num(last["payroll"])))]
    return "<div class=cards>" + "".join(f"<div class=card><span>{esc(k)}</span><b>{esc(v)}</b></div>"
                                         for k, v in items) + "</div>"


# --------------------------------------------------------------------------- the page

CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#222;background:#f5f6f8}
header{background:#1f2d3d;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#c9d3de}
main{padding:20px 28px;max-width:1400px;margin:0 auto}
section{margin-bottom:28px}
h2{font-size:18px;border-bottom:2px solid #dde2e8;padding-bottom:4px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #dde2e8;border-radius:6px;padding:10px 14px;min-width:160px}
.card span{display:block;color:#667;font-size:12px}.card b{font-size:18px}
.grid2{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:16px}
figure.chart{background:#fff;border:1px solid #dde2e8;border-radius:6px;margin:0;padding:12px}
figcaption{font-weight:600;margin-bottom:4px}
figure svg{width:100%;height:auto;display:block}
.legend{font-size:12px;color:#444;margin:2px 0 4px}
.key{margin-right:12px;white-space:nowrap}.key i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
svg .grid{stroke:#e6e9ee;stroke-width:1}svg .axis{stroke:#556;stroke-width:1}
svg text{font-size:11px;fill:#556}
svg .line{fill:none;stroke-width:2}
.note,.empty,.muted{color:#778;font-size:12px}
table{border-collapse:collapse;background:#fff}
table.data{font-size:13px}table.data th,table.data td{border:1px solid #dde2e8;padding:4px 8px}
table.data th{background:#eef1f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
table.config{font-size:13px;margin:0}table.config th,table.config td{border:1px solid #dde2e8;padding:3px 8px;vertical-align:top;text-align:left}
table.config th{background:#f3f5f8;font-weight:600}
.scroll{overflow-x:auto}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0}
dl.facts dt{color:#667}dl.facts dd{margin:0}
"""

SCRIPT = """
(function () {
  function fail(message) {
    if (document.body) { document.body.setAttribute("data-script-error", String(message)); }
  }
  window.onerror = function (message, source, line) { fail(message + " (line " + line + ")"); };
  function count() {
    try {
      var charts = document.querySelectorAll(".chart"), rendered = 0;
      for (var i = 0; i < charts.length; i++) {
        var marks = charts[i].querySelectorAll("svg rect.mark, svg path.mark, svg circle.mark");
        for (var j = 0; j < marks.length; j++) {
          var box = marks[j].getBBox();
          if (box.width > 0 || box.height > 0) { rendered++; break; }
        }
      }
      document.body.dataset.chartsTotal = String(charts.length);
      document.body.dataset.chartsRendered = String(rendered);
    } catch (e) {
      fail((e && e.message) || e);
    }
  }
  if (document.readyState === "complete") { count(); } else { window.addEventListener("load", count); }
})();
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def render(data: dict, database: Path) -> str:
    facts, assumptions = run_section(data["run"])
    figs = charts(data)
    workforce, pay, plan, perf = figs[:3], figs[3:5], figs[5:7], figs[7:]
    years = data["years"]
    title = f"PlanWise simulation report — {years[0]}–{years[-1]}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>{CSS}</style>
</head>
<body data-charts-total="{len(figs)}">
<header><h1>{esc(title)}</h1><p>{esc(database)}</p></header>
<main>
<section id="overview"><h2>Overview</h2>{key_figures(data)}</section>
<section id="summary"><h2>Per-year summary</h2><div class="scroll">{summary_table(data["summary"])}</div></section>
<section id="workforce"><h2>Workforce</h2><div class="grid2">{"".join(workforce)}</div></section>
<section id="compensation"><h2>Compensation</h2><div class="grid2">{"".join(pay)}</div></section>
<section id="plan"><h2>Retirement plan</h2><div class="grid2">{"".join(plan)}</div></section>
<section id="assumptions"><h2>Assumptions</h2>{facts}<h3>Effective configuration</h3><div class="scroll">{assumptions}</div></section>
<section id="performance"><h2>Performance</h2><div class="grid2">{"".join(perf)}</div>
<h3>Years</h3><div class="scroll">{performance_table(data["year_log"])}</div></section>
</main>
<script>{SCRIPT}</script>
</body>
</html>
"""


def write_report(database: Path | str, out: Path | str) -> Path:
    """Write the HTML report of ``database`` to ``out`` (replaced atomically); returns ``out``."""
    database, out = Path(database), Path(out)
    if out.is_dir():
        raise PlanwiseError(f"{out} is a folder: pass --out with a file name such as {out / 'report.html'}.")
    with open_results(database) as con:
        data = collect(con)
    return write_page(out, render(data, database))


def write_page(out: Path, page: str) -> Path:
    """Replace ``out`` with ``page`` atomically (a reader never sees half a page); returns ``out``."""
    return atomic_write_text(out, page)
