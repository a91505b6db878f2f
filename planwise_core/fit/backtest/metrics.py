"""One definition per backtest metric, applied to both sides (docs/fit.md, "Backtest: metrics").

Each side is first turned into the same ``people`` table for year Y (one row per person employed at some point in
the year: active at the start and at the end, hired in the year, levels, pay and deferral at both ends); every
metric is then the same SQL over it.
"""

from __future__ import annotations

from datetime import date

ACTIVE = "(term IS NULL OR term > {d})"
PEOPLE = ("employee_id", "birth", "hire", "active_start", "active_end", "hired_in_year", "left_in_year",
          "level_start", "level_end", "salary_start", "salary_end", "deferral_end")


def actual_people(con, k_start: int, d0: date, d1: date) -> str:
    """SQL of the people table from snapshots k_start (D_{Y-1}) and k_start + 1 (D_Y) of the history table."""
    return f"""SELECT coalesce(s1.employee_id, s0.employee_id) AS employee_id, coalesce(s0.birth, s1.birth) AS birth,
        coalesce(s0.hire, s1.hire) AS hire,
        s0.employee_id IS NOT NULL AND (s0.term IS NULL OR s0.term > DATE '{d0}') AS active_start,
        s1.employee_id IS NOT NULL AND (s1.term IS NULL OR s1.term > DATE '{d1}') AS active_end,
        s1.hire > DATE '{d0}' AS hired_in_year,
        s1.term > DATE '{d0}' AND s1.term <= DATE '{d1}' AND s1.hire > DATE '{d0}' AS left_in_year,
        s0.level_id AS level_start, s1.level_id AS level_end, s0.salary AS salary_start, s1.salary AS salary_end,
        s1.deferral AS deferral_end
        FROM (SELECT * FROM snap WHERE k = {k_start}) s0
        FULL OUTER JOIN (SELECT * FROM snap WHERE k = {k_start + 1}) s1 USING (employee_id)"""


def simulated_people(year: int, first_year: int) -> str:
    """SQL of the people table from a run database's fct_workforce_snapshot of ``year`` (and its start)."""
    if year == first_year:
        start = """SELECT employee_id, employee_gross_compensation AS salary, level_id FROM raw.census"""
    else:
        start = f"""SELECT employee_id, current_compensation AS salary, level_id FROM fct_workforce_snapshot
                    WHERE simulation_year = {year - 1} AND employment_status = 'active'"""
    return f"""SELECT w.employee_id, w.employee_birth_date AS birth, w.employee_hire_date AS hire,
        w.detailed_status_code IN ('continuous_active', 'experienced_termination') AS active_start,
        w.employment_status = 'active' AS active_end,
        w.detailed_status_code IN ('new_hire_active', 'new_hire_termination') AS hired_in_year,
        w.detailed_status_code = 'new_hire_termination' AS left_in_year,
        s.level_id AS level_start, w.level_id AS level_end, s.salary AS salary_start,
        w.current_compensation AS salary_end, w.deferral_rate AS deferral_end
        FROM fct_workforce_snapshot w LEFT JOIN ({start}) s USING (employee_id)
        WHERE w.simulation_year = {year}"""


def _years(start: str, on: str) -> str:
    return (f"(year({on}) - year({start}) - CASE WHEN month({on}) * 100 + day({on}) "
            f"< month({start}) * 100 + day({start}) THEN 1 ELSE 0 END)")


def metric_values(con, people_sql: str, d0: date, d1: date, tenure_bands: list, observable: dict) -> dict:
    """{metric: value or None} for one side and one year; ``observable``: which optional inputs exist."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE people AS {people_sql}")
    one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
    values = {
        "headcount.total": one("SELECT count(*) FILTER (WHERE active_end) FROM people"),
        "flows.experienced_terminations": one("SELECT count(*) FILTER (WHERE active_start AND NOT active_end) "
                                              "FROM people"),
        "flows.hires_active": one("SELECT count(*) FILTER (WHERE hired_in_year AND active_end) FROM people"),
        "pay.payroll": float(one("SELECT coalesce(sum(salary_end) FILTER (WHERE active_end), 0) FROM people")),
        "pay.continuing_increase": float(one("SELECT sum(salary_end) / sum(salary_start) - 1 FROM people "
                                             "WHERE active_start AND active_end") or 0),
        "_stayer_pay_end": float(one("SELECT coalesce(sum(salary_end), 0) FROM people "
                                     "WHERE active_start AND active_end")),
        "_stayer_pay_start": float(one("SELECT coalesce(sum(salary_start), 0) FROM people "
                                       "WHERE active_start AND active_end")),
        "pay.new_hire_average_salary": _float(one("SELECT avg(salary_end) FROM people "
                                                  "WHERE hired_in_year AND active_end")),
    }
    values["pay.average_salary"] = values["pay.payroll"] / values["headcount.total"] if values["headcount.total"] \
        else None
    values["flows.promotions"] = one("SELECT count(*) FILTER (WHERE level_end > level_start) FROM people "
                                     "WHERE active_start AND active_end") if observable["level"] else None
    values["flows.new_hire_terminations"] = one("SELECT count(*) FILTER (WHERE left_in_year) FROM people") \
        if observable["leaver_rows"] else None
    values["plan.participation"] = _float(one("SELECT avg(CASE WHEN deferral_end > 0 THEN 1.0 ELSE 0.0 END) "
                                              "FROM people WHERE active_end")) if observable["deferral"] else None
    tenure_start = _years("hire", f"DATE '{d0}'")
    tenure_end = _years("hire", f"DATE '{d1}'")
    for label, low, high in tenure_bands:
        values[f"headcount.tenure_band.{label}"] = one(
            f"SELECT count(*) FROM people WHERE active_end AND {tenure_end} >= {low} AND {tenure_end} < {high}")
        values[f"flows.experienced_terminations.tenure_band.{label}"] = one(
            f"SELECT count(*) FROM people WHERE active_start AND NOT active_end AND {tenure_start} >= {low} "
            f"AND {tenure_start} < {high}")
    return values


def pooled(by_year: dict) -> dict:
    """The ``all`` period of several held-out years: flows summed, stocks at the last year, rates over the pooled
    counts (the continuing increase over the stayers' pooled pay, the hires' average over the pooled hires)."""
    years = sorted(by_year)
    last = by_year[years[-1]]
    out = {}
    for metric, value in last.items():
        values = [by_year[y].get(metric) for y in years]
        if metric.startswith("_"):
            continue
        if value is None or any(v is None for v in values):
            out[metric] = None
        elif metric.startswith("flows."):
            out[metric] = sum(values)
        else:
            out[metric] = value
    end = sum(by_year[y]["_stayer_pay_end"] for y in years)
    start = sum(by_year[y]["_stayer_pay_start"] for y in years)
    out["pay.continuing_increase"] = end / start - 1 if start else 0.0
    hires = [(by_year[y]["flows.hires_active"], by_year[y]["pay.new_hire_average_salary"]) for y in years]
    count = sum(n for n, _ in hires)
    out["pay.new_hire_average_salary"] = (sum(n * a for n, a in hires if n) / count) if count else None
    return out


def with_all(by_year: dict) -> dict:
    """Per-year values without the helper components, plus ``all`` when more than one year is held out."""
    periods = dict(by_year)
    if len(by_year) > 1:
        periods["all"] = pooled(by_year)
    return {p: {m: v for m, v in values.items() if not m.startswith("_")} for p, values in periods.items()}


def period_order(period) -> tuple:
    return (1, 0) if period == "all" else (0, int(period))


def _float(value):
    return None if value is None else float(value)


def family(metric: str) -> str:
    return metric.split(".", 1)[0]
