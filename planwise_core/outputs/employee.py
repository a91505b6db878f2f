"""One employee's story, year by year: events, pay, level, age, tenure, plan dates, and every money amount of the
year with the rule and the limits that produced it (docs/outputs.md, "planwise employee").

Everything is read from a finished database, opened read-only: the snapshot and the events (docs/model.md), the
money rows ``fct_dc_contributions`` and the IRS limits of each year (docs/plan_money.md), and the run's own
configuration from the run log (match tiers, core bands, vesting schedules). Nothing is recomputed: an amount
is the money table's, to the cent; the rule beside it says where it came from.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import attrs

from planwise_core.database import table_exists
from planwise_core.database.sql import dicts
from planwise_core.errors import PlanwiseError
from planwise_core.outputs.employee_rules import year_rules
from planwise_core.outputs.employee_text import format_story, year_amounts

# fct_dc_contributions columns by kind: dollars -> integer cents, fractions -> integer basis points.
MONEY_COLUMNS = (
    "plan_comp", "deferral_comp", "match_comp", "core_comp", "comp_limit_401a17", "requested_deferral",
    "elective_limit", "catch_up_limit", "employee_deferral", "pre_tax_deferral", "roth_deferral",
    "catch_up_deferral", "refunded_deferral", "match_true_up_basis", "employer_match", "employer_core",
    "annual_additions", "limit_415", "employer_total", "match_balance_boy", "match_balance_eoy", "core_balance_boy",
    "core_balance_eoy", "vested_amount", "forfeited_amount",
)
RATE_COLUMNS = ("deferral_rate_boy", "deferral_rate_eoy", "core_rate", "vested_pct_match", "vested_pct_core")
LIMIT_COLUMNS = ("elective_deferral_402g", "catch_up_50", "catch_up_60_63", "compensation_401a17",
                 "annual_additions_415c", "hce_414q", "roth_catch_up_wage_threshold", "ss_wage_base")
SNAPSHOT_COLUMNS = (
    "simulation_year", "employee_birth_date", "employee_hire_date", "termination_date", "employment_status",
    "detailed_status_code", "level_id", "current_compensation", "prorated_annual_compensation",
    "full_year_equivalent_compensation", "current_age", "current_tenure", "is_eligible", "eligibility_date",
    "is_enrolled", "enrollment_date", "deferral_rate", "ever_opted_out",
)
EVENT_COLUMNS = ("event_id", "simulation_year", "event_type", "event_category", "effective_date",
                 "previous_compensation", "compensation_amount", "from_level", "to_level", "deferral_rate",
                 "event_sequence")
SUGGESTIONS = 5


class UnknownEmployeeError(PlanwiseError):
    """The database has no employee with this id (the message names it and says how to find ids)."""


def cents(value: Decimal | int | None) -> int | None:
    """Dollars (a DECIMAL(18,2) or whole dollars) as integer cents, exactly."""
    return None if value is None else int(Decimal(value) * 100)


def bp(value: Decimal | None) -> int | None:
    """A fraction as integer basis points, rounded half up once (0.3333 -> 3333, 0.06 -> 600)."""
    return None if value is None else int((Decimal(value) * 10_000).quantize(Decimal(1), ROUND_HALF_UP))


def iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


@attrs.frozen
class StoryEvent:
    """One row of fct_yearly_events; pay in cents, the deferral rate in basis points."""

    event_id: str
    date: dt.date
    type: str
    category: str
    previous_pay_cents: int | None
    pay_cents: int | None
    from_level: int | None
    to_level: int | None
    deferral_rate_bp: int | None
    sequence: int

    def to_dict(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "date": iso(self.date)}


@attrs.frozen
class Amount:
    """A money amount of the year (cents, as the fct_dc_contributions ``column`` holds it) and the rule that
    produced it."""

    name: str
    column: str
    cents: int
    rule: str

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class YearStory:
    year: int
    status: str
    detailed_status: str
    level: int
    age: int
    tenure: int
    pay_rate_cents: int
    prorated_pay_cents: int
    full_year_pay_cents: int | None
    eligible: bool
    eligibility_date: dt.date | None
    enrolled: bool
    enrollment_date: dt.date | None
    deferral_rate_bp: int | None
    ever_opted_out: bool
    termination_date: dt.date | None
    events: tuple[StoryEvent, ...] = ()
    money: dict[str, Any] | None = None    # every fct_dc_contributions column: cents, bp, booleans, counts
    limits: dict[str, Any] | None = None   # the year's IRS limits (cents) and whether published or projected
    rules: dict[str, Any] | None = None    # the plan rules that applied (tiers, band, vesting schedule, ...)
    amounts: tuple[Amount, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        plain = {f.name: getattr(self, f.name) for f in attrs.fields(type(self))}
        dates = ("eligibility_date", "enrollment_date", "termination_date")
        return {**plain, **{d: iso(plain[d]) for d in dates}, "events": [e.to_dict() for e in self.events],
                "amounts": [a.to_dict() for a in self.amounts]}


@attrs.frozen
class EmployeeStory:
    employee_id: str
    database: str        # the file name only
    run_id: str | None
    birth_date: dt.date
    hire_date: dt.date
    termination_date: dt.date | None
    plan_enabled: bool
    years: tuple[YearStory, ...]

    def year(self, year: int) -> YearStory:
        return next(y for y in self.years if y.year == year)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: money in integer cents, rates in basis points, dates ISO."""
        return {"employee_id": self.employee_id, "database": self.database, "run_id": self.run_id,
                "birth_date": iso(self.birth_date), "hire_date": iso(self.hire_date),
                "termination_date": iso(self.termination_date), "plan_enabled": self.plan_enabled,
                "years": [y.to_dict() for y in self.years]}

    def text(self) -> str:
        """The story as text an analyst reads (what ``planwise employee`` prints)."""
        return format_story(self)


def _unknown(con, employee_id: str, database: Path) -> UnknownEmployeeError:
    count, first, last = con.execute("select count(distinct employee_id), min(employee_id), max(employee_id) "
                                     "from fct_workforce_snapshot").fetchone()
    close = [r[0] for r in con.execute(
        "select distinct employee_id from fct_workforce_snapshot where employee_id ilike '%' || ? || '%' "
        "order by employee_id limit ?", [employee_id.strip(), SUGGESTIONS]).fetchall()] if employee_id.strip() else []
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return UnknownEmployeeError(
        f"No employee {employee_id!r} in {database.name} ({count:,} employees, ids {first} to {last}){hint} "
        f"The ids are in the snapshot: `planwise export --database {database.name} --format csv` writes "
        "snapshot.csv (column employee_id).")


def _events(con, employee_id: str) -> dict[int, list[StoryEvent]]:
    by_year: dict[int, list[StoryEvent]] = {}
    for r in dicts(con, f"select {', '.join(EVENT_COLUMNS)} from fct_yearly_events where employee_id = ? "
                         "order by simulation_year, event_sequence, effective_date, event_id", [employee_id]):
        by_year.setdefault(r["simulation_year"], []).append(StoryEvent(
            r["event_id"], r["effective_date"], r["event_type"], r["event_category"], cents(r["previous_compensation"]),
            cents(r["compensation_amount"]), r["from_level"], r["to_level"], bp(r["deferral_rate"]),
            r["event_sequence"]))
    return by_year


def _money(con, employee_id: str) -> dict[int, dict]:
    if not table_exists(con, "fct_dc_contributions"):
        return {}
    out = {}
    for r in dicts(con, "select * from fct_dc_contributions where employee_id = ?", [employee_id]):
        out[r["simulation_year"]] = {k: cents(v) if k in MONEY_COLUMNS else bp(v) if k in RATE_COLUMNS
                                     else float(v) if isinstance(v, Decimal) else v
                                     for k, v in r.items() if k not in ("employee_id", "simulation_year")}
    return out


def _limits(con) -> dict[int, dict]:
    if not table_exists(con, "int_irs_limits_by_year"):
        return {}
    return {r["limit_year"]: {**{k: cents(r[k]) for k in LIMIT_COLUMNS}, "status": r["status"], "source": r["source"]}
            for r in dicts(con, "select * from int_irs_limits_by_year")}


def _plan(run: dict | None):
    """The run's configuration as parsed objects, or None (no run log, or a damaged record)."""
    from planwise_core.config import config_from_dict
    from planwise_core.errors import ConfigError

    try:
        return config_from_dict(run["config"], source="the run log") if run and run.get("config") else None
    except ConfigError:
        return None


def _year(row: dict, events, money, limits, config) -> YearStory:
    rules = year_rules(row, money, limits, config) if money is not None else None
    return YearStory(
        row["simulation_year"], row["employment_status"], row["detailed_status_code"], row["level_id"],
        row["current_age"], row["current_tenure"], cents(row["current_compensation"]),
        cents(row["prorated_annual_compensation"]), cents(row["full_year_equivalent_compensation"]),
        bool(row["is_eligible"]), row["eligibility_date"], bool(row["is_enrolled"]), row["enrollment_date"],
        bp(row["deferral_rate"]), bool(row["ever_opted_out"]), row["termination_date"], tuple(events), money,
        limits, rules, tuple(Amount(*a) for a in year_amounts(money, rules)) if rules else ())


def employee_story(database: Path | str, employee_id: str) -> EmployeeStory:
    """The story of ``employee_id`` in a finished database (opened read-only); UnknownEmployeeError when the
    database has no such employee, PlanwiseError when it holds no results."""
    from planwise_core.outputs.provenance import results_run
    from planwise_core.outputs.results import open_results

    database = Path(database)
    with open_results(database) as con:
        rows = dicts(con, f"select {', '.join(SNAPSHOT_COLUMNS)} from fct_workforce_snapshot where employee_id = ? "
                           "order by simulation_year", [employee_id])
        if not rows:
            raise _unknown(con, employee_id, database)
        events, money, limits, run = _events(con, employee_id), _money(con, employee_id), _limits(con), results_run(con)
    config = _plan(run)
    years = tuple(_year(r, events.get(r["simulation_year"], ()), money.get(r["simulation_year"]),
                        limits.get(r["simulation_year"]), config) for r in rows)
    last = rows[-1]
    return EmployeeStory(employee_id, database.name, (run or {}).get("run_id"), last["employee_birth_date"],
                         last["employee_hire_date"], last["termination_date"], bool(money), years)
