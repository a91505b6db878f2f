"""Linking consecutive snapshots (docs/fit.md, "Linking"): start actives and their outcome and exposure, hires,
reappearances and id-change candidates, each as a DuckDB table of the history's connection.

Exposure is kept exactly, in half days (a vanished leaver counts half a year), and divided by the year's length
only in Python, in a fixed order.
"""

from __future__ import annotations

from planwise_core.fit.history import History

MAX_IDS = 5


def completed_years(start: str, on: str) -> str:
    """Completed years from ``start`` to ``on``, as the simulator's completed_years macro counts them."""
    return (f"(year({on}) - year({start}) - CASE WHEN month({on}) * 100 + day({on}) "
            f"< month({start}) * 100 + day({start}) THEN 1 ELSE 0 END)")


def study_years(history: History) -> list[tuple[int, str, str, int]]:
    dates = history.dates
    return [(k, dates[k - 1].isoformat(), dates[k].isoformat(), (dates[k] - dates[k - 1]).days)
            for k in range(1, len(dates))]


def build_links(history: History, retirement_multiplier: float, retirement_enabled: bool) -> None:
    """Create ``years``, ``link`` (start actives), ``hires``, ``reappear`` and ``idchange`` in the history's DB."""
    con = history.con
    values = ", ".join(f"({k}, DATE '{d0}', DATE '{d1}', {days})" for k, d0, d1, days in study_years(history))
    con.execute(f"CREATE OR REPLACE TABLE years AS SELECT * FROM (VALUES {values}) t(k, d0, d1, L)")
    mult = f"CAST({float(retirement_multiplier)!r} AS DECIMAL(18, 9))" if retirement_enabled else "0"
    con.execute(f"""CREATE OR REPLACE TABLE link AS
    WITH p AS (
        SELECT y.k, y.d0, y.d1, y.L, s.employee_id, s.birth, s.hire, s.term, s.salary, s.deferral, s.level_id
        FROM snap s JOIN years y ON s.k = y.k - 1 WHERE s.term IS NULL OR s.term > y.d0
    ), j AS (
        SELECT p.*, c.employee_id IS NOT NULL AS has_next, c.hire AS hire1, c.term AS term1, c.salary AS salary1,
               c.deferral AS deferral1, c.level_id AS level1
        FROM p LEFT JOIN snap c ON c.k = p.k AND c.employee_id = p.employee_id
    ), o AS (
        SELECT *, CASE WHEN NOT has_next THEN 'vanished' WHEN hire1 > d0 THEN 'rehire'
                       WHEN term1 IS NOT NULL AND term1 <= d0 THEN 'retro'
                       WHEN term1 IS NOT NULL AND term1 <= d1 THEN 'dated' ELSE 'stayer' END AS outcome,
               {completed_years('birth', 'd0')} AS age, {completed_years('hire', 'd0')} AS tenure
        FROM j
    ), c AS (
        SELECT o.*, CASE outcome WHEN 'stayer' THEN 2 * L WHEN 'dated' THEN 2 * date_diff('day', d0, term1)
                    WHEN 'vanished' THEN L WHEN 'rehire' THEN 2 * (date_diff('day', d0, hire1) - 1) ELSE 0 END
                    AS half_days,
               outcome IN ('dated', 'vanished', 'rehire') AS is_leaver,
               hire1 IS NOT NULL AND hire1 <> hire AND hire1 <= d0 AS hire_changed,
               a.age_band, t.tenure_band,
               coalesce(o.level_id, (SELECT min(l.level_id) FROM assumptions.job_levels l WHERE o.salary >= l.min_salary
                        AND (l.max_salary IS NULL OR o.salary < l.max_salary))) AS level_key,
               (SELECT least(1, r.retirement_rate * {mult}) FROM assumptions.retirement_rates r
                WHERE o.age >= r.min_age AND o.age < r.max_age) AS retirement_expected,
               EXISTS (SELECT 1 FROM assumptions.retirement_rates r2 WHERE o.age >= r2.min_age
                       AND o.age < r2.max_age) AS retirement_age
        FROM o
        LEFT JOIN assumptions.age_bands a ON o.age >= a.min_age AND o.age < a.max_age
        LEFT JOIN assumptions.tenure_bands t ON o.tenure >= t.min_tenure AND o.tenure < t.max_tenure
    )
    SELECT * FROM c ORDER BY k, employee_id""")
    con.execute(f"""CREATE OR REPLACE TABLE hires AS
        SELECT y.k, y.d0, y.d1, y.L, c.employee_id, c.birth, c.hire, c.term, c.salary, c.level_id,
               c.term IS NOT NULL AND c.term <= y.d1 AS left_year,
               date_diff('day', c.hire, CASE WHEN c.term IS NOT NULL AND c.term <= y.d1 THEN c.term ELSE y.d1 END)
                   AS days,
               date_diff('day', y.d0, c.hire) AS hire_day,
               {completed_years('c.birth', 'c.hire')} AS hire_age
        FROM snap c JOIN years y ON c.k = y.k WHERE c.hire > y.d0 AND c.hire <= y.d1
        ORDER BY y.k, c.employee_id""")
    con.execute("""CREATE OR REPLACE TABLE reappear AS
        SELECT y.k, c.employee_id, c.birth, c.hire FROM snap c JOIN years y ON c.k = y.k
        WHERE (c.term IS NULL OR c.term > y.d1) AND c.hire <= y.d0
          AND NOT EXISTS (SELECT 1 FROM link p WHERE p.k = y.k AND p.employee_id = c.employee_id)
        ORDER BY y.k, c.employee_id""")
    con.execute("""CREATE OR REPLACE TABLE idchange AS
        SELECT v.k, v.employee_id AS old_id, r.employee_id AS new_id FROM link v JOIN reappear r
          ON r.k = v.k AND r.birth = v.birth AND r.hire = v.hire
        WHERE v.outcome = 'vanished' ORDER BY v.k, v.employee_id, r.employee_id""")


def _first_ids(con, sql: str) -> tuple[int, list[str]]:
    rows = con.execute(sql).fetchall()
    return len(rows), [r[0] for r in rows[:MAX_IDS]]


def data_quality(history: History) -> list[dict]:
    """The linking warnings: code, count, first ids (only those that occurred)."""
    con = history.con
    checks = [
        ("W-VANISH", "start actives with no row in the next snapshot (leaving date unknown: half a year)",
         "SELECT employee_id FROM link WHERE outcome = 'vanished' ORDER BY k, employee_id"),
        ("W-REHIRE", "start actives rehired within the year (one leaving, one hire)",
         "SELECT employee_id FROM link WHERE outcome = 'rehire' ORDER BY k, employee_id"),
        ("W-RETRO", "terminations dated before the start of their year (excluded from that year)",
         "SELECT employee_id FROM link WHERE outcome = 'retro' ORDER BY k, employee_id"),
        ("W-HIREDATE", "hire dates changed between snapshots (the earlier one is used for tenure)",
         "SELECT employee_id FROM link WHERE hire_changed ORDER BY k, employee_id"),
        ("W-REAPPEAR", "actives hired earlier who were not active at the start of the year (excluded that year)",
         "SELECT employee_id FROM reappear ORDER BY k, employee_id"),
        ("W-IDCHANGE", "a vanished start active and a reappearance with the same birth and hire dates",
         "SELECT old_id || ' -> ' || new_id FROM idchange ORDER BY k, old_id"),
    ]
    found = []
    for code, text, sql in checks:
        count, ids = _first_ids(con, sql)
        if count:
            found.append({"code": code, "count": count, "message": text, "ids": ids})
    return found


def terminated_rows(history: History) -> int:
    """Rows of people who left inside their snapshot's year (zero: the extracts hold actives only)."""
    return history.con.execute("""SELECT count(*) FROM snap s JOIN years y ON s.k = y.k
        WHERE s.term > y.d0 AND s.term <= y.d1""").fetchone()[0]
