"""Whole-table rules of the parameter tables. A rule is ``rule(rows, run) -> [problem, ...]``.

``rows`` are the table's rows with every cell already valid (``Row.values``, ``Row.where``: "line 4" of a
CSV, "row 2" of an inline table); ``run`` says what the run needs (its years, whether it reads the COLA
table). Each problem names the rows at fault.
"""

from __future__ import annotations

import calendar
from decimal import Decimal

import attrs

SHARE_TOLERANCE = Decimal("0.001")
# docs/plan_rules.md section 1: each limit is published in multiples of its indexation step.
IRS_STEPS = {"elective_deferral_402g": 500, "catch_up_50": 500, "catch_up_60_63": 250, "compensation_401a17": 5000,
             "annual_additions_415c": 1000, "hce_414q": 5000, "roth_catch_up_wage_threshold": 5000,
             "ss_wage_base": 300}


@attrs.frozen
class Row:
    where: str
    values: dict


@attrs.frozen
class RunNeeds:
    start_year: int
    end_year: int
    cola_table: bool  # compensation.cola_rate is null for some year: the COLA table is read


def _fmt(value) -> str:
    return "(empty)" if value is None else str(value)


def bands(low: str, high: str, label: str, start: int | None, open_end: bool = False, reach: int | None = None):
    """Half-open bands [low, high) sorted by ``low``: contiguous, non-overlapping, from ``start`` (when given) to
    an open end (an empty ``high`` on the last row) or to at least ``reach``."""

    def rule(rows: list[Row], run: RunNeeds) -> list[str]:
        out = []
        ordered = sorted(rows, key=lambda r: r.values[low])
        for row in ordered:
            top = row.values[high]
            if top is None and row is not ordered[-1]:
                out.append(f"{row.where} ({row.values[label]}): only the last band may leave {high} empty")
            elif top is not None and top <= row.values[low]:
                out.append(f"{row.where} ({row.values[label]}): {high} {top} must be above {low} {row.values[low]}")
        if start is not None and ordered and ordered[0].values[low] != start:
            out.append(f"{ordered[0].where} ({ordered[0].values[label]}): the first band must start at {low} "
                       f"{start} (got {ordered[0].values[low]})")
        for a, b in zip(ordered, ordered[1:]):
            end = a.values[high]
            if end is None or end == b.values[low]:
                continue
            what = "gap" if end < b.values[low] else "overlap"
            out.append(f"{a.where} and {b.where} ({a.values[label]}, {b.values[label]}): {what} between {high} "
                       f"{end} and the next {low} {b.values[low]} (bands must be contiguous: each {low} equals "
                       f"the previous {high})")
        if ordered:
            last = ordered[-1]
            top = last.values[high]
            if open_end and top is not None:
                out.append(f"{last.where} ({last.values[label]}): the last band must be open-ended (leave {high} "
                           f"empty; got {top})")
            if reach is not None and (top is None or top < reach):
                out.append(f"{last.where} ({last.values[label]}): the last band must reach {high} {reach} or more "
                           f"(got {_fmt(top)}; the built-in table uses 200)")
        return out

    return rule


def shares_sum(column: str):
    def rule(rows: list[Row], run: RunNeeds) -> list[str]:
        total = sum((r.values[column] for r in rows), Decimal(0))
        if rows and abs(total - 1) > SHARE_TOLERANCE:
            return [f"{column} must sum to 1 ± {SHARE_TOLERANCE} over the table's rows (got {total.normalize()})"]
        return []

    return rule


def positive_total(column: str):
    def rule(rows: list[Row], run: RunNeeds) -> list[str]:
        if rows and sum(r.values[column] for r in rows) <= 0:
            return [f"{column} must have a positive total (the shares are normalised to sum to 1)"]
        return []

    return rule


def ordered(low: str, high: str):
    def rule(rows: list[Row], run: RunNeeds) -> list[str]:
        return [f"{r.where}: {low} {r.values[low]} must not exceed {high} {r.values[high]}"
                for r in rows if r.values[low] > r.values[high]]

    return rule


def row_count(n: int):
    def rule(rows: list[Row], run: RunNeeds) -> list[str]:
        return [] if len(rows) == n else [f"must hold exactly {n} row(s) (got {len(rows)})"]

    return rule


def valid_day(month: str, day: str):
    def rule(rows: list[Row], run: RunNeeds) -> list[str]:
        return [f"{r.where}: {day} {r.values[day]} does not exist in month {r.values[month]}"
                for r in rows if r.values[day] > calendar.monthrange(2025, r.values[month])[1]]

    return rule


def consecutive(column: str):
    def rule(rows: list[Row], run: RunNeeds) -> list[str]:
        years = sorted(r.values[column] for r in rows)
        gaps = [y for y in range(years[0], years[-1] + 1) if y not in years] if years else []
        return [f"{column} must be consecutive years: {', '.join(map(str, gaps))} missing"] if gaps else []

    return rule


def covers_simulation(column: str, when_cola_table: bool):
    def rule(rows: list[Row], run: RunNeeds) -> list[str]:
        if when_cola_table and not run.cola_table:
            return []
        years = {r.values[column] for r in rows}
        missing = [y for y in range(run.start_year, run.end_year + 1) if y not in years]
        if missing:
            return [f"must cover every simulated year ({run.start_year}-{run.end_year}, read because "
                    f"compensation.cola_rate is null): {', '.join(map(str, missing))} missing"]
        return []

    return rule


def irs_steps():
    return steps(IRS_STEPS, "docs/plan_rules.md §1")


def steps(column_steps: dict[str, int], where: str):
    def rule(rows: list[Row], run: RunNeeds) -> list[str]:
        return [f"{r.where}: {col} {r.values[col]} is not a multiple of its indexation step {step} ({where})"
                for r in rows for col, step in column_steps.items()
                if r.values[col] is not None and r.values[col] % step]

    return rule


def same_hce_threshold(irs_rows: tuple[tuple, ...], ndt_rows: tuple[tuple, ...]) -> list[str]:
    """irs_limits and ndt_thresholds both hold hce_414q: they must agree in every year both hold (docs/ndt.md)."""
    irs = {row[0]: row[6] for row in irs_rows}
    return [f"ndt_thresholds: hce_414q {row[1]} of {row[0]} differs from irs_limits' {irs[row[0]]} (the two tables "
            "must agree in every year both hold)" for row in ndt_rows if row[0] in irs and irs[row[0]] != row[1]]
