"""Drive the real money models (dbt, DuckDB) over injected snapshot, event and census rows.

The money layer is a pure function of the year's snapshot and events, the start-of-year state and the prior
year's money state (dc_plan 2.7), so a test writes those rows itself instead of steering random draws:
``MoneyYear`` builds a database with the seeds, staging and IRS limits once, then each case copies it, inserts
its rows and runs the models tagged ``money`` for one year with its own configuration.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from helpers.common import completed_years
from planwise_core.assumptions import load_assumptions, resolve_assumptions
from planwise_core.config import PlanwiseConfig
from planwise_core.engine.invokers import InProcessDbt
from planwise_core.engine.project import DbtProject

CENSUS_COLUMNS = ("employee_id", "employee_birth_date", "employee_hire_date", "employee_termination_date",
                  "employee_gross_compensation", "employee_deferral_rate", "level_id", "employer_match_balance",
                  "employer_core_balance", "auto_escalation_opt_out", "ownership_pct", "is_officer",
                  "employee_deferral_balance")


@dataclass
class Person:
    """One employee of the injected year: census row and baseline state (if any), snapshot row and events."""

    employee_id: str
    birth: date
    hire: date
    salary: float                      # the census / start-of-year salary rate (or the hire salary)
    deferral_rate: float = 0.0         # in force at the start of the year (census participants)
    eligibility: date | None = None
    enrollment: date | None = None
    termination: date | None = None
    deferral_rate_eoy: float | None = None
    in_census: bool = True
    match_balance: float = 0.0
    core_balance: float = 0.0
    ownership: float = 0.0             # the NDT census columns (docs/ndt.md)
    officer: bool = False
    deferral_balance: float = 0.0
    events: list[tuple] = field(default_factory=list)  # (type, category, date, compensation, deferral_rate)


class MoneyYear:
    """A prepared database (parameter tables, staging, limits) from which each case runs the money models once."""

    def __init__(self, folder: Path, year: int, census_date: date, end_year: int | None = None):
        self.folder, self.year, self.census_date = Path(folder), year, census_date
        self.end_year = end_year or year
        self.template = self.database("template")
        config = self.config({})
        dbt = InProcessDbt(DbtProject(self.template), config.to_dbt_vars())
        with duckdb.connect(str(self.template)) as con:
            con.execute("create schema raw")
            con.execute(f"create table raw.census as select * from ({self._census_sql([])}) where false")
            load_assumptions(con, resolve_assumptions(config))  # the parameter tables, as the host loads them
        dbt.invoke("run", "--select", "tag:staging", "int_irs_limits_by_year", "int_ndt_thresholds_by_year", year=year)

    def database(self, name: str) -> Path:
        """``name``'s database: a folder per case, one file name for all (the registry's). dbt's parsed project
        is kept per catalog (the file's stem), so one name means one parse for every case (about 2 CPU s each)."""
        folder = self.folder / name
        folder.mkdir(exist_ok=True)
        return folder / "sim.duckdb"

    def config(self, overrides: dict[str, Any]) -> PlanwiseConfig:
        base = {"simulation.start_year": self.year, "simulation.end_year": self.end_year,
                "simulation.census_date": self.census_date.isoformat()}
        return PlanwiseConfig().with_overrides(**base, **overrides)

    def run(self, name: str, people: list[Person], overrides: dict[str, Any],
            ndt: bool = False) -> duckdb.DuckDBPyConnection:
        """Copy the template, insert the people, run the money models (and with ``ndt`` the NDT marts, docs/ndt.md);
        a read-only connection to the result."""
        database = self.database(name)
        shutil.copy(self.template, database)
        with duckdb.connect(str(database)) as con:
            con.execute("delete from raw.census")
            con.execute(f"insert into raw.census {self._census_sql(people)}")
            con.execute(f"create table int_baseline_workforce as {self._start_sql(people)}")
            con.execute(f"create table fct_workforce_snapshot as {self._snapshot_sql(people)}")
            con.execute(f"create table fct_yearly_events as {self._events_sql(people)}")
        config = self.config(overrides)
        dbt = InProcessDbt(DbtProject(database), config.to_dbt_vars())
        dbt.invoke("run", "--select", "stg_census", year=self.year)
        dbt.invoke("run", "--select", "tag:money", year=self.year)
        if ndt:
            dbt.invoke("run", "--select", "tag:ndt", year=self.year)
        return duckdb.connect(str(database), read_only=True)

    # -- the injected tables -------------------------------------------------------------------

    @staticmethod
    def _values(rows: list[tuple], columns: str) -> str:
        if not rows:
            return f"select * from (values ({', '.join('null' for _ in columns.split(','))})) t({columns}) where false"
        body = ", ".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in rows)
        return f"select * from (values {body}) t({columns})"

    def _census_sql(self, people: list[Person]) -> str:
        rows = [(p.employee_id, p.birth, p.hire, None, p.salary, p.deferral_rate, None, p.match_balance, p.core_balance,
                 False, p.ownership, p.officer, p.deferral_balance) for p in people if p.in_census]
        return (f"select employee_id::varchar as employee_id, employee_birth_date::date as employee_birth_date, "
                f"employee_hire_date::date as employee_hire_date, employee_termination_date::date as "
                f"employee_termination_date, employee_gross_compensation::decimal(18, 2) as employee_gross_compensation, "
                f"employee_deferral_rate::decimal(9, 6) as employee_deferral_rate, level_id::integer as level_id, "
                f"employer_match_balance::decimal(18, 2) as employer_match_balance, "
                f"employer_core_balance::decimal(18, 2) as employer_core_balance, "
                f"auto_escalation_opt_out::boolean as auto_escalation_opt_out, "
                f"ownership_pct::decimal(9, 6) as ownership_pct, is_officer::boolean as is_officer, "
                f"employee_deferral_balance::decimal(18, 2) as employee_deferral_balance "
                f"from ({self._values(rows, ', '.join(CENSUS_COLUMNS))})")

    def _start_sql(self, people: list[Person]) -> str:
        rows = [(p.employee_id, p.salary, p.deferral_rate) for p in people if p.in_census]
        return (f"select employee_id::varchar as employee_id, current_compensation::decimal(18, 2) as current_compensation, "
                f"deferral_rate::decimal(9, 6) as deferral_rate "
                f"from ({self._values(rows, 'employee_id, current_compensation, deferral_rate')})")

    def _snapshot_sql(self, people: list[Person]) -> str:
        dec31 = date(self.year, 12, 31)
        rows = []
        for p in people:
            eligibility = p.eligibility or p.hire
            rate = p.deferral_rate if p.deferral_rate_eoy is None else p.deferral_rate_eoy
            rows.append((p.employee_id, self.year, p.birth, p.hire, p.termination, completed_years(p.birth, dec31),
                         completed_years(p.hire, dec31), eligibility <= (p.termination or dec31), eligibility,
                         p.enrollment, rate))
        columns = ("employee_id, simulation_year, employee_birth_date, employee_hire_date, termination_date, current_age, "
                   "current_tenure, is_eligible, eligibility_date, enrollment_date, deferral_rate")
        return (f"select employee_id, simulation_year::integer as simulation_year, employee_birth_date::date as "
                f"employee_birth_date, employee_hire_date::date as employee_hire_date, termination_date::date as "
                f"termination_date, current_age::integer as current_age, current_tenure::integer as current_tenure, "
                f"is_eligible::boolean as is_eligible, eligibility_date::date as eligibility_date, "
                f"enrollment_date::date as enrollment_date, deferral_rate::decimal(9, 6) as deferral_rate "
                f"from ({self._values(rows, columns)})")

    def _events_sql(self, people: list[Person]) -> str:
        rank = {"hire": 1, "promotion": 2, "raise": 3, "eligibility": 4, "enrollment": 5, "deferral_match_response": 6,
                "deferral_escalation": 7, "opt_out": 8, "termination": 9}
        rows = []
        for p in people:
            ordered = sorted(p.events, key=lambda e: (e[2], rank[e[0]]))
            # A raise or promotion carries the salary before it, as int_compensation_timeline chains them.
            salary = p.salary if p.in_census else None
            for i, (kind, category, day, comp, rate) in enumerate(ordered):
                previous = salary if kind in ("promotion", "raise") else None
                rows.append((p.employee_id, self.year, kind, category, day, previous, comp, rate, i + 1))
                salary = comp if kind in ("hire", "promotion", "raise") else salary
        columns = ("employee_id, simulation_year, event_type, event_category, effective_date, previous_compensation, "
                   "compensation_amount, deferral_rate, event_sequence")
        return (f"select employee_id, simulation_year::integer as simulation_year, event_type, event_category, "
                f"effective_date::date as effective_date, previous_compensation::decimal(18, 2) as previous_compensation, "
                f"compensation_amount::decimal(18, 2) as compensation_amount, "
                f"deferral_rate::decimal(9, 6) as deferral_rate, event_sequence::integer as event_sequence "
                f"from ({self._values(rows, columns)})")


def _literal(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, str)):
        return f"'{value}'"
    return repr(value)


def fetch(con, sql: str, params=None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]
