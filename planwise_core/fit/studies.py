"""The studies: exact aggregates in DuckDB, turned into cells in Python in a fixed order (docs/fit.md)."""

from __future__ import annotations

import math
from collections import defaultdict

from planwise_core.fit.history import History
from planwise_core.fit.multiplicative import Cell

AGE_KEY = "CASE WHEN retirement_age THEN CAST(age AS VARCHAR) ELSE age_band END"


def band_orders(con) -> dict:
    """Band label -> position, per dimension, from the tables in force."""
    ages = con.execute("SELECT age_band FROM assumptions.age_bands ORDER BY min_age").fetchall()
    tenures = con.execute("SELECT tenure_band FROM assumptions.tenure_bands ORDER BY min_tenure").fetchall()
    levels = con.execute("SELECT level_id FROM assumptions.job_levels ORDER BY level_id").fetchall()
    return {"age_band": {r[0]: i for i, r in enumerate(ages)}, "tenure_band": {r[0]: i for i, r in enumerate(tenures)},
            "level": {str(r[0]): i for i, r in enumerate(levels)}}


def _cell_sort(orders: dict):
    return lambda c: (orders["age_band"][c.key[0]], orders["tenure_band"][c.key[1]], orders["level"][c.key[2]],
                      c.detail)


def termination_cells(history: History, orders: dict, full_year_defect: bool = False) -> list[Cell]:
    """One cell per (age key, tenure band, level) over all study years: exposure, leavers, expected retirements."""
    days = "2 * L" if full_year_defect else "half_days"
    rows = history.con.execute(f"""SELECT age_band, tenure_band, CAST(level_key AS VARCHAR), {AGE_KEY}, k, L,
            sum({days}), count(*) FILTER (WHERE is_leaver), sum(coalesce(retirement_expected, 0))
        FROM link WHERE outcome <> 'retro' GROUP BY ALL""").fetchall()
    acc: dict = defaultdict(lambda: [[], 0, []])
    for age_band, tenure_band, level, age_key, _k, length, half_days, leavers, retire in rows:
        entry = acc[(age_band, tenure_band, level, age_key)]
        entry[0].append(half_days / (2 * length))
        entry[1] += leavers
        entry[2].append(float(retire))
    cells = [Cell((a, t, lvl), math.fsum(sorted(e[0])), float(e[1]), math.fsum(sorted(e[2])),
                  detail=(int(k) if k.isdigit() else -1,)) for (a, t, lvl, k), e in acc.items()]
    return sorted(cells, key=_cell_sort(orders))


def quota_years(history: History) -> list[dict]:
    """Per study year: start actives (retro-dated excluded), leavers by kind, stayers."""
    rows = history.con.execute("""SELECT k, count(*) FILTER (WHERE outcome <> 'retro'),
            count(*) FILTER (WHERE is_leaver), count(*) FILTER (WHERE outcome = 'vanished'),
            count(*) FILTER (WHERE outcome = 'rehire'), count(*) FILTER (WHERE outcome = 'retro'),
            count(*) FILTER (WHERE outcome = 'stayer'), count(*)
        FROM link GROUP BY k ORDER BY k""").fetchall()
    names = ("k", "start_actives", "leavers", "vanished", "rehires", "retro", "stayers", "start_rows")
    return [dict(zip(names, r)) for r in rows]


def hire_years(history: History) -> list[dict]:
    rows = history.con.execute("""SELECT y.k, y.L, count(h.employee_id), count(*) FILTER (WHERE h.left_year),
            coalesce(sum(h.days), 0), coalesce(sum(h.hire_day), 0)
        FROM years y LEFT JOIN hires h ON h.k = y.k GROUP BY y.k, y.L ORDER BY y.k""").fetchall()
    return [dict(zip(("k", "L", "hires", "hire_leavers", "days", "hire_day_sum"), r)) for r in rows]


def hire_strata(history: History) -> list[tuple[int, int, int]]:
    """(twelfth of the study year the hire fell in, hires, hire-year leavers), pooled over the study years."""
    return history.con.execute("""SELECT (hire_day - 1) * 12 // L AS s, count(*), count(*) FILTER (WHERE left_year)
        FROM hires GROUP BY s ORDER BY s""").fetchall()


def promotion_cells(history: History, orders: dict, top_level: int) -> tuple[list[Cell], dict]:
    """Stayers with tenure >= 1 and a level at both ends below the top: persons and promotions per cell."""
    con = history.con
    counts = con.execute("""SELECT count(*) FILTER (WHERE tenure >= 1),
            count(*) FILTER (WHERE tenure >= 1 AND level_id IS NOT NULL AND level1 IS NOT NULL),
            count(*) FILTER (WHERE tenure >= 1 AND level1 >= level_id + 2),
            count(*) FILTER (WHERE tenure >= 1 AND level1 < level_id)
        FROM link WHERE outcome = 'stayer'""").fetchone()
    rows = con.execute(f"""SELECT age_band, tenure_band, CAST(level_id AS VARCHAR), count(*),
            count(*) FILTER (WHERE level1 > level_id)
        FROM link WHERE outcome = 'stayer' AND tenure >= 1 AND level_id IS NOT NULL AND level1 IS NOT NULL
          AND level_id < {top_level} GROUP BY ALL""").fetchall()
    cells = [Cell((a, t, lvl), float(n), float(p), detail=()) for a, t, lvl, n, p in rows]
    for cell in cells:
        cell.attributed = cell.observed
    info = {"stayers": counts[0], "with_levels": counts[1], "multi": counts[2], "demotions": counts[3]}
    return sorted(cells, key=_cell_sort(orders)), info


def promotions_by_year(history: History) -> list[tuple]:
    """(k, stayers whose level rose) per study year (every stayer with a level at both ends)."""
    return history.con.execute("""SELECT k, count(*) FILTER (WHERE level1 > level_id) FROM link
        WHERE outcome = 'stayer' AND level_id IS NOT NULL AND level1 IS NOT NULL GROUP BY k ORDER BY k""").fetchall()


def pay_rows(history: History, include_promoted: bool = False) -> list[tuple]:
    """(k, level, s0, s1) of stayers with tenure >= 1 and the same level at both ends, in a fixed order."""
    same = "level1 >= level_id" if include_promoted else "level1 = level_id"
    return history.con.execute(f"""SELECT k, level_id, salary, salary1, employee_id FROM link
        WHERE outcome = 'stayer' AND tenure >= 1 AND level_id IS NOT NULL AND {same}
        ORDER BY level_id, k, employee_id""").fetchall()


def promoted_rows(history: History) -> list[tuple]:
    return history.con.execute("""SELECT k, level1, salary, salary1, employee_id FROM link
        WHERE outcome = 'stayer' AND tenure >= 1 AND level1 = level_id + 1 ORDER BY k, employee_id""").fetchall()


def tenure0_rows(history: History) -> list[tuple]:
    return history.con.execute("""SELECT salary, salary1 FROM link
        WHERE outcome = 'stayer' AND tenure = 0 ORDER BY k, employee_id""").fetchall()


def hire_rows(history: History) -> list[tuple]:
    return history.con.execute("""SELECT k, level_id, hire_age, salary, employee_id FROM hires
        ORDER BY k, employee_id""").fetchall()


def actives_by_snapshot(history: History) -> list[int]:
    return [r[0] for r in history.con.execute("""SELECT count(*) FILTER (WHERE term IS NULL OR term > as_of)
        FROM snap GROUP BY k ORDER BY k""").fetchall()]


def voluntary_counts(history: History, min_age: int, waiting_days: int,
                     scope_sql: str) -> list[tuple[int, int, int]]:
    """(k, eligible non-participants at the start outside auto-enrollment's scope, of whom participating at the end)."""
    return history.con.execute(f"""SELECT y.k, count(l.employee_id),
            count(l.employee_id) FILTER (WHERE l.deferral1 > 0)
        FROM years y LEFT JOIN link l ON l.k = y.k AND l.outcome = 'stayer' AND l.deferral = 0 AND l.age >= {min_age}
          AND date_diff('day', l.hire, l.d0) >= {waiting_days} AND ({scope_sql})
        GROUP BY y.k ORDER BY y.k""").fetchall()


def participation_by_snapshot(history: History) -> list[tuple[int, int, int]]:
    """(k, actives at the snapshot's date, of whom with a deferral rate above 0)."""
    return history.con.execute("""SELECT k, count(*), count(*) FILTER (WHERE deferral > 0) FROM snap
        WHERE term IS NULL OR term > as_of GROUP BY k ORDER BY k""").fetchall()
