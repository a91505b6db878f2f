"""A deterministic synthetic census: same (employees, seed) -> same bytes."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import duckdb

from planwise_core.census.sql import sql_literal
from planwise_core.errors import CensusError
from planwise_core.limits import MAX_GENERATED_EMPLOYEES
from planwise_core.fileio import reserved_temp

DEFAULT_CENSUS_DATE = date(2024, 12, 31)
# Level bands [min, max): the generator draws inside them, level_id is the band holding the salary.
SALARY_BANDS = ((1, 45_000, 80_000), (2, 80_000, 120_000), (3, 120_000, 160_000),
                (4, 160_000, 275_000), (5, 275_000, 400_000))
LEVEL_MIX = (0.55, 0.25, 0.12, 0.06, 0.02)
DEFERRAL_MIX = ((0.03, 0.10), (0.04, 0.10), (0.05, 0.15), (0.06, 0.30),
                (0.08, 0.15), (0.10, 0.12), (0.15, 0.08))
ENROLLED_SHARE = 0.60
TERMINATED_SHARE = 0.03
# The optional NDT columns (docs/ndt.md): owners by rank of their draw (three above 5 %, the rest 2 %, 20 at most,
# 85 % together), officers among levels 4-5, a deferral balance for the enrolled.
OWNER_SHARES = (0.30, 0.15, 0.06)
OWNER_SMALL_SHARE = 0.02
MAX_OWNERS = 20
OFFICER_SHARE = 0.25
ANNUAL_DEFERRAL_CAP = 23_000  # a year of deferrals in the balance, about the 402(g) limit


def generate_census(employees: int, seed: int, out: str | Path,
                    census_date: date = DEFAULT_CENSUS_DATE, ndt_columns: bool = False) -> Path:
    """Write a deterministic synthetic census (.csv or .parquet); same (n, seed) -> same bytes. ``ndt_columns``
    adds owners, officers and deferral balances (the other columns are the same bytes with or without them)."""
    if isinstance(employees, bool) or not isinstance(employees, int) or not 1 <= employees <= MAX_GENERATED_EMPLOYEES:
        raise CensusError(f"Cannot generate a census of {employees!r} employees: need an integer from 1 to "
                          f"{MAX_GENERATED_EMPLOYEES:,}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise CensusError(f"Cannot generate a census with seed {seed!r}: the seed must be an integer")
    out = Path(out)
    fmt = {".csv": "FORMAT csv, HEADER true", ".parquet": "FORMAT parquet"}.get(out.suffix.lower())
    if fmt is None:
        raise CensusError(f"Cannot write census {out}: the file name must end in .csv or .parquet")
    out.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        with reserved_temp(out, suffix=out.suffix) as tmp:  # written whole, then renamed into place
            # Absolute: DuckDB reads a leading ~ as the home folder ('~x.csv' would land in '/home/userx.csv').
            sql = _generator_sql(employees, seed, census_date)
            if ndt_columns:
                sql = _with_ndt_columns(sql, employees, seed, census_date)
            con.execute(f"COPY ({sql}) TO {sql_literal(Path(tmp).absolute())} ({fmt})")
            os.replace(tmp, out)
    except duckdb.IOException as exc:
        raise CensusError(f"Cannot write census {out}: {str(exc).rsplit(': ', 1)[-1]}") from None
    finally:
        con.close()
    return out


def _generator_sql(n: int, seed: int, census_date: date) -> str:
    def u(stream: str) -> str:
        return _uniform(seed, stream)

    cd = f"DATE '{census_date.isoformat()}'"
    year_start = f"DATE '{census_date.year}-01-01'"
    lows = ", ".join(str(lo) for _, lo, _ in SALARY_BANDS) + f", {SALARY_BANDS[-1][2]}"
    level_case = _threshold_case("u_level", [(lvl, share) for (lvl, _, _), share in zip(SALARY_BANDS, LEVEL_MIX)])
    deferral_case = _threshold_case(f"u_deferral / {ENROLLED_SHARE}", DEFERRAL_MIX)
    level_of_salary = " ".join(f"WHEN salary < {hi} THEN {lvl}" for lvl, _, hi in SALARY_BANDS[:-1])
    return f"""
    WITH draws AS (
        SELECT i, {u('age')} AS u_age, {u('tenure')} AS u_tenure, {u('level')} AS u_level,
               {u('salary')} AS u_salary, {u('deferral')} AS u_deferral, {u('termination')} AS u_term
        FROM range({n}) t(i)
    ), aged AS (
        -- triangular(22, 38, 65): the bulk in the 30s and 40s, a tail to 64
        SELECT *, least(CASE WHEN u_age < 16 / 43 THEN 22 + sqrt(u_age * 43 * 16)
                             ELSE 65 - sqrt((1 - u_age) * 43 * 27) END, 64.999) AS age
        FROM draws
    ), born AS (
        SELECT *, ({cd} - to_years(floor(age)::INTEGER)
                        - to_days(floor((age - floor(age)) * 365)::INTEGER))::DATE AS birth
        FROM aged
    ), capped AS (
        -- tenure cap: 35 years, and never hired before age 18
        SELECT *, least(35 * 365, date_diff('day', (birth + INTERVAL 18 YEAR)::DATE, {cd})) AS max_days
        FROM born
    ), hired AS (
        -- exponential tenure (mean 6 years) truncated at the cap: many short, a long tail
        SELECT *, ({cd} - least(max_days, floor(-2190 * ln(1 - u_tenure * (1 - exp(-max_days / 2190)))))
                              ::INTEGER)::DATE AS hire,
               [{lows}][{level_case}] AS band_lo, [{lows}][{level_case} + 1] AS band_hi
        FROM capped
    ), paid AS (
        SELECT *, least(floor((band_lo + (band_hi - band_lo) * pow(u_salary, 1.5)) * 100) / 100,
                        band_hi - 0.01) AS salary,
               greatest(hire, {year_start}) AS term_from
        FROM hired
    )
    SELECT printf('EMP_%06d', i + 1) AS employee_id,
           birth AS employee_birth_date,
           hire AS employee_hire_date,
           CASE WHEN u_term < {TERMINATED_SHARE} THEN (term_from + least(date_diff('day', term_from, {cd}),
                floor(u_term / {TERMINATED_SHARE} * (date_diff('day', term_from, {cd}) + 1)))::INTEGER)::DATE
           END AS employee_termination_date,
           salary::DECIMAL(18, 2) AS employee_gross_compensation,
           (CASE WHEN u_deferral < {ENROLLED_SHARE} THEN {deferral_case} ELSE 0 END)::DECIMAL(4, 2)
               AS employee_deferral_rate,
           (CASE {level_of_salary} ELSE {SALARY_BANDS[-1][0]} END)::INTEGER AS level_id
    FROM paid
    ORDER BY i
    """


def _uniform(seed: int, stream: str) -> str:
    # One independent uniform [0, 1) per (seed, row, attribute), stable across machines/versions.
    return f"('0x' || left(sha256('{seed}|' || i || '|{stream}'), 16))::UBIGINT / 18446744073709551616.0"


def _with_ndt_columns(base_sql: str, n: int, seed: int, census_date: date) -> str:
    """The census of ``base_sql`` with ownership_pct, is_officer and employee_deferral_balance, from their own draws
    (streams owner, officer, balance), so every other column keeps its bytes."""
    owners = min(MAX_OWNERS, max(len(OWNER_SHARES), n // 100))
    shares = " ".join(f"WHEN owner_rank = {r} THEN {v}" for r, v in enumerate(OWNER_SHARES, start=1))
    return f"""
    WITH base AS ({base_sql}),
    drawn AS (
        SELECT *, {_uniform(seed, 'owner')} AS u_owner, {_uniform(seed, 'officer')} AS u_officer,
               {_uniform(seed, 'balance')} AS u_balance
        FROM (SELECT *, CAST(substr(employee_id, 5) AS BIGINT) - 1 AS i FROM base)
    ), ranked AS (
        SELECT *, row_number() OVER (ORDER BY u_owner, i) AS owner_rank FROM drawn
    )
    SELECT * EXCLUDE (i, u_owner, u_officer, u_balance, owner_rank),
           (CASE {shares} WHEN owner_rank <= {owners} THEN {OWNER_SMALL_SHARE} ELSE 0 END)::DECIMAL(9, 6)
               AS ownership_pct,
           level_id >= 4 AND u_officer < {OFFICER_SHARE} AS is_officer,
           round(least(employee_gross_compensation * employee_deferral_rate, {ANNUAL_DEFERRAL_CAP}) * (0.5 + u_balance)
                 * least(30, date_diff('day', employee_hire_date, DATE '{census_date.isoformat()}') / 365), 2)
               ::DECIMAL(18, 2) AS employee_deferral_balance
    FROM ranked
    ORDER BY i
    """


def _threshold_case(draw: str, weighted: list | tuple) -> str:
    """CASE picking a value by cumulative weight; the last value takes the rounding remainder."""
    parts, cumulative = [], 0.0
    for value, weight in weighted[:-1]:
        cumulative += weight
        parts.append(f"WHEN {draw} < {cumulative!r} THEN {value}")
    return f"(CASE {' '.join(parts)} ELSE {weighted[-1][0]} END)"


# The census a run uses when none is given: (employees, seed) of the synthetic census.
BUILTIN_CENSUS = (10_000, 42)


def builtin_census(cache_dir: Path, employees: int = BUILTIN_CENSUS[0], seed: int = BUILTIN_CENSUS[1]) -> Path:
    """The built-in synthetic census, generated once into cache_dir and reused."""
    cache_dir = Path(cache_dir)
    target = cache_dir / f"synthetic_census_{employees}_{seed}.parquet"
    if target.is_file():
        return target
    # Write aside then rename, so a concurrent or interrupted run never sees half a file.
    partial = cache_dir / f".{target.name}.{os.getpid()}.parquet"
    generate_census(employees, seed, partial)
    os.replace(partial, target)
    return target
