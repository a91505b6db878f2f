"""The parameter tables: one declarative schema per table (columns, types, rules).

A table is an *assumption* (replaceable per run: ``--assumptions DIR``, ``assumptions:`` in the config or a
batch scenario) unless it is *fixed structure*: the vesting presets are named by the plan document
(``graded_6``, ``cliff_3``...) and a custom schedule is ``plan.*.vesting_custom``, so replacing the presets
would only make the names lie. Fixed tables are still loaded by the host from the package, never by dbt.

Each column's ``sql`` type is the type the table has in the database (``assumptions`` schema), the types the
dbt seeds had, so the models compute exactly what they computed from the seeds. Rules (rules.py) check a
parsed table as a whole and name the rows at fault.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import attrs

DEFAULTS_DIR = Path(__file__).resolve().parent / "defaults"
SCHEMA = "assumptions"
INTEGER, DECIMAL, DOUBLE, TEXT = "integer", "decimal", "double", "text"
PAY_CEILING = 10_000_000_000      # a salary (band, hiring range) in dollars: census/capacity.py's RATE_CEILING
IRS_LIMIT_CEILING = 1_000_000_000  # an IRS limit in dollars
BAND_ID_MAX = 999


@attrs.frozen
class Column:
    name: str
    kind: str                       # integer | decimal | double | text: how the text is parsed
    sql: str                        # the database type
    nullable: bool = False
    low: float | None = None        # inclusive bounds of a number
    high: float | None = None
    description: str = ""


@attrs.frozen
class TableSpec:
    name: str
    title: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]            # unique, and the canonical order of the rows (for the hash)
    rules: tuple[Callable, ...] = ()
    fixed: bool = False

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def default_file(self) -> Path:
        return DEFAULTS_DIR / f"{self.name}.csv"


def _int(name, low=None, high=None, nullable=False, sql="INTEGER", d=""):
    return Column(name, INTEGER, sql, nullable, low, high, d)


def _dec(name, sql="DECIMAL(9,6)", low=0, high=None, nullable=False, d=""):
    return Column(name, DECIMAL, sql, nullable, low, high, d)


def _dbl(name, low=0, high=None, d=""):
    return Column(name, DOUBLE, "DOUBLE", False, low, high, d)


def _txt(name, nullable=False, d=""):
    return Column(name, TEXT, "VARCHAR", nullable, description=d)


def _specs() -> dict[str, TableSpec]:
    from planwise_core.assumptions import rules as r

    money = "DECIMAL(18,2)"
    # Upper bounds the database types and the models' cent arithmetic carry (docs/assumptions.md): a pay rate
    # stays under the ceiling of census/capacity.py, an IRS limit in dollars under a billion.
    pay = dict(sql=money, high=PAY_CEILING)
    irs = [_int(n, 0, IRS_LIMIT_CEILING, nullable=n == "roth_catch_up_wage_threshold", sql="BIGINT")
           for n in ("elective_deferral_402g", "catch_up_50", "catch_up_60_63", "compensation_401a17",
                     "annual_additions_415c", "hce_414q", "roth_catch_up_wage_threshold", "ss_wage_base")]
    tables = [
        TableSpec("job_levels", "Job levels: salary bands, merit, hiring ranges and hazard multipliers", (
            _int("level_id", 1, 99), _txt("level_name"), _dec("min_salary", **pay),
            _dec("max_salary", nullable=True, **pay),
            _dec("merit_rate", high=1), _dec("new_hire_share", high=1), _dec("hire_min_salary", **pay),
            _dec("hire_max_salary", **pay), _dbl("termination_multiplier", high=100),
            _dbl("promotion_multiplier", high=100)), ("level_id",),
            (r.bands("min_salary", "max_salary", "level_name", start=0, open_end=True),
             r.shares_sum("new_hire_share"), r.ordered("hire_min_salary", "hire_max_salary"))),
        TableSpec("age_bands", "Age bands and their termination and promotion multipliers", (
            _int("age_band_id", 1, BAND_ID_MAX), _txt("age_band"), _int("min_age", 0, 200), _int("max_age", 1, 200),
            _dbl("termination_multiplier", high=100), _dbl("promotion_multiplier", high=100)), ("age_band_id",),
            (r.bands("min_age", "max_age", "age_band", start=0, reach=120),)),
        TableSpec("tenure_bands", "Tenure bands and their termination and promotion multipliers", (
            _int("tenure_band_id", 1, BAND_ID_MAX), _txt("tenure_band"), _int("min_tenure", 0, 200), _int("max_tenure", 1, 200),
            _dbl("termination_multiplier", high=100), _dbl("promotion_multiplier", high=100)), ("tenure_band_id",),
            (r.bands("min_tenure", "max_tenure", "tenure_band", start=0, reach=100),)),
        TableSpec("promotion_hazard", "Promotion hazard and promotion raise", (
            _dbl("base_rate", high=1), _dec("min_raise", high=1), _dec("max_raise", high=1),
            _int("effective_month", 1, 12), _int("effective_day", 1, 31)), ("base_rate",),
            (r.row_count(1), r.ordered("min_raise", "max_raise"), r.valid_day("effective_month", "effective_day"))),
        TableSpec("retirement_rates", "Retirement rates by age", (
            _txt("age_range"), _int("min_age", 0, 200), _int("max_age", 1, 200),
            _dec("retirement_rate", high=1)), ("min_age",),
            (r.bands("min_age", "max_age", "age_range", start=None, reach=120),)),
        TableSpec("cola_by_year", "Cost-of-living adjustment by year", (
            _int("simulation_year", 1900, 2200), _dec("cola_rate", high=1)), ("simulation_year",),
            (r.consecutive("simulation_year"), r.covers_simulation("simulation_year", when_cola_table=True))),
        TableSpec("raise_month_distribution", "Month of the yearly raise", (
            _int("month", 1, 12), _dec("share", high=1)), ("month",),
            (r.positive_total("share"),)),
        TableSpec("new_hire_age_distribution", "Ages of new hires", (
            _int("age", 14, 100), _dec("share", high=1)), ("age",),
            (r.shares_sum("share"),)),
        TableSpec("irs_limits", "IRS limits (published)", (
            _int("limit_year", 1900, 2200), *irs, _txt("source", nullable=True)), ("limit_year",),
            (r.consecutive("limit_year"), r.irs_steps())),
        TableSpec("ndt_thresholds", "Nondiscrimination thresholds (published): HCE pay and key-officer pay", (
            _int("limit_year", 1900, 2200), _int("hce_414q", 0, None, sql="BIGINT"),
            _int("key_officer_416i", 0, None, sql="BIGINT"), _txt("source", nullable=True)), ("limit_year",),
            (r.consecutive("limit_year"), r.steps({"hce_414q": 5000, "key_officer_416i": 5000}, "docs/ndt.md"))),
        TableSpec("vesting_schedules", "Vesting schedules (fixed structure: the presets the plan names)", (
            _txt("schedule"), _int("service_years", 0, 100), _dec("vested_fraction", high=1)),
            ("schedule", "service_years"), (), fixed=True),
    ]
    return {t.name: t for t in tables}


TABLES: dict[str, TableSpec] = _specs()
REPLACEABLE = tuple(name for name, spec in TABLES.items() if not spec.fixed)
LEGACY_PREFIX = "config_"  # the tables' names when they were dbt seeds; accepted for file names


def table_name(stem: str) -> str:
    """A file stem or inline key as a table name: ``config_job_levels`` (the seed's name) is ``job_levels``."""
    return stem[len(LEGACY_PREFIX):] if stem.startswith(LEGACY_PREFIX) and stem[len(LEGACY_PREFIX):] in TABLES \
        else stem
