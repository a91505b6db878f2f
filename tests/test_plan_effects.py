"""Each key of plan: changes the output the expected way.

One foundation database is built once and copied for every case (never rebuilt). Keys that change the events
(auto-escalation, plan.enabled) re-run the year through the engine on a copy of the foundation; the other keys
change only money, so a copy of the base run re-runs just the money marts for the year(s) with the case's vars.
The census is a generated one plus sixteen long-serving high earners aged 50 to 65 deferring 15 %, so the 402(g),
catch-up and 415 rules all bite, and employer balances so that vesting and forfeitures have money to move.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable

import duckdb
import pytest

from helpers.invariants import invariant_problems

from planwise_core.census import generate_census
from planwise_core.config import PlanwiseConfig
from planwise_core.context import RunContext
from planwise_core.engine.invokers import InProcessDbt
from planwise_core.engine.project import DbtProject
from planwise_core.hooks import Hooks
from planwise_core.manager import get_plugin_manager
from planwise_core.orchestrator import Simulation

pytestmark = pytest.mark.slow

BASE = {
    "simulation.end_year": 2026,
    "plan.core.enabled": True,
    "plan.core.graded_by": "service",
    "plan.core.bands": [{"min": 0, "max": 5, "rate": 0.02}, {"min": 5, "max": 15, "rate": 0.04},
                        {"min": 15, "max": None, "rate": 0.10}],
    "plan.auto_escalation.enabled": True,
}
STRETCH = {"plan.match.tiers": [{"deferral_max": 0.12, "rate": 0.25}]}
MONEY_MARTS = ("fct_dc_contributions", "fct_dc_plan_summary")


def write_census(folder: Path) -> Path:
    generated = generate_census(400, 31, folder / "generated.csv")
    path = folder / "census.csv"
    with duckdb.connect() as con:
        con.execute(f"""
            copy (
                select *, case when row_number() over () % 5 = 0 then 2000.00 end as employer_match_balance,
                       case when row_number() over () % 7 = 0 then 1500.00 end as employer_core_balance,
                       false as auto_escalation_opt_out
                from read_csv('{generated}', all_varchar = true)
                union all
                select printf('HI_%02d', age), cast(make_date(2024 - age, 3, 1) as varchar), '2000-01-01', null,
                       cast(300000 + 6000 * (age - 50) as varchar), '0.15', null, '5000.00', '5000.00', false
                from range(50, 66) t(age)
            ) to '{path}' (header true)""")
    return path


@dataclass
class Runs:
    folder: Path
    foundation: Path
    base: Path
    configs: dict = field(default_factory=dict)

    def config(self, **changes) -> PlanwiseConfig:
        return PlanwiseConfig().with_overrides(**{**BASE, **changes})

    def money(self, name: str, years=(2025,), **changes) -> duckdb.DuckDBPyConnection:
        """The base run's events and snapshot, with the money marts re-run under the changed plan."""
        database = self.folder / name / "sim.duckdb"  # same file name: the process reuses one parse
        database.parent.mkdir()
        shutil.copy(self.base, database)
        dbt = InProcessDbt(DbtProject(database), self.config(**changes).to_dbt_vars())
        for year in years:
            dbt.invoke("run", "--select", *MONEY_MARTS, year=year)
        return duckdb.connect(str(database), read_only=True)

    def workforce(self, name: str, years=(2025,), **changes) -> duckdb.DuckDBPyConnection:
        database = run_years(self.foundation, self.folder / name, self.config(**changes), years)
        return duckdb.connect(str(database), read_only=True)


def run_years(foundation: Path, folder: Path, config: PlanwiseConfig, years) -> Path:
    """The years through the optimized engine on a copy of the foundation database."""
    folder.mkdir()
    database = folder / "sim.duckdb"
    shutil.copy(foundation, database)
    ctx = RunContext(config=config, database=database, run_id=folder.name)
    hooks = Hooks(get_plugin_manager(), "optimized")
    for year in years:
        if year > years[0]:
            hooks.transition_year(ctx, year - 1, year)
        hooks.process_year(ctx, year)
    return database


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    folder = tmp_path_factory.mktemp("plan_effects")
    census = write_census(folder)
    config = PlanwiseConfig().with_overrides(**BASE)
    foundation = folder / "foundation" / "sim.duckdb"
    Simulation(config, foundation, census=census).foundation_only()
    return Runs(folder, foundation, run_years(foundation, folder / "base", config, (2025, 2026)))


@pytest.fixture(scope="module")
def base(runs):
    con = duckdb.connect(str(runs.base), read_only=True)
    yield con
    con.close()


def test_the_base_run_keeps_the_shared_invariant_set(runs, base):
    """Core with service bands, escalation and census opening balances: the whole set of helpers/invariants.py."""
    assert invariant_problems(base, [2025, 2026], runs.config()) == {}


def total(con, expression: str, year: int = 2025, where: str = "true") -> Decimal:
    return con.execute(f"select coalesce(sum({expression}), 0) from fct_dc_contributions "
                       f"where simulation_year = {year} and ({where})").fetchone()[0]


def summary(con, column: str, year: int = 2025):
    return con.execute(f"select {column} from fct_dc_plan_summary where simulation_year = {year}").fetchone()[0]


@dataclass(frozen=True)
class MoneyCase:
    """Re-run the money marts with ``changes``; ``check(base, variant)`` (base: the reference run)."""

    id: str
    changes: dict
    check: Callable
    years: tuple = (2025,)
    reference: dict | None = None  # changes of a reference run, when the base run is not the reference

    def __str__(self) -> str:
        return self.id


def less(expression: str, where: str = "true", year: int = 2025):
    return lambda ref, var: _strictly(total(var, expression, year, where), total(ref, expression, year, where), "<")


def more(expression: str, where: str = "true", year: int = 2025):
    return lambda ref, var: _strictly(total(var, expression, year, where), total(ref, expression, year, where), ">")


def differs(expression: str, where: str = "true", year: int = 2025):
    """For keys whose direction depends on the person (e.g. hours-based against elapsed-time service)."""
    return lambda ref, var: _strictly(total(var, expression, year, where), total(ref, expression, year, where), "!=")


def _strictly(got, reference, op: str):
    assert reference != 0 or op == ">", "the reference has nothing to move: the case tests nothing"
    assert {"<": got < reference, ">": got > reference, "!=": got != reference}[op], (got, op, reference)


HIGH = "employee_id like 'HI_%'"
LEAVERS = "employee_id in (select employee_id from fct_workforce_snapshot where termination_date is not null)"
CORE_BASE_TO_LEAVER = {"plan.core.allocation.last_day_rule": False}
# Leavers get core and vest from the first year of service, so short careers show the service method.
GRADED_3_CORE = {"plan.core.allocation.last_day_rule": False, "plan.core.vesting.schedule": "graded_3",
                 "plan.core.eligibility.waiting_period_days": 0}
NO_CORE_WAIT = {"plan.core.eligibility.waiting_period_days": 0}

MONEY_CASES = [
    MoneyCase("hours_per_week", {"plan.hours_per_week": 15}, less("employer_core")),
    MoneyCase("normal_retirement_age", {"plan.normal_retirement_age": 55, "plan.core.allocation.last_day_rule": False},
              less("forfeited_amount"), reference=CORE_BASE_TO_LEAVER),
    MoneyCase("deferrals.max_deferral_rate", {"plan.deferrals.max_deferral_rate": 0.08, "plan.auto_escalation.cap": 0.08},
              less("employee_deferral")),
    MoneyCase("deferrals.catch_up", {"plan.deferrals.catch_up": False}, less("catch_up_deferral")),
    MoneyCase("deferrals.super_catch_up", {"plan.deferrals.super_catch_up": False},
              less("catch_up_limit", "age_dec31 between 60 and 63")),
    MoneyCase("deferrals.apply_401a17", {"plan.deferrals.apply_401a17": False}, more("requested_deferral", HIGH)),
    MoneyCase("deferrals.eaca_refund_on_opt_out", {"plan.deferrals.eaca_refund_on_opt_out": False},
              less("refunded_deferral", "not reduced_415")),
    MoneyCase("deferrals.roth.enabled", {"plan.deferrals.roth.enabled": True, "plan.deferrals.roth.share": 0.3},
              more("roth_deferral")),
    MoneyCase("deferrals.roth.share", {"plan.deferrals.roth.enabled": True, "plan.deferrals.roth.share": 0.6},
              more("roth_deferral"), reference={"plan.deferrals.roth.enabled": True, "plan.deferrals.roth.share": 0.3}),
    MoneyCase("deferrals.roth.mandatory_roth_catch_up", {"plan.deferrals.roth.mandatory_roth_catch_up": False},
              more("catch_up_deferral", HIGH, 2026), years=(2025, 2026)),
    MoneyCase("match.enabled", {"plan.match.enabled": False}, less("employer_match")),
    MoneyCase("match.tiers", {"plan.match.tiers": [{"deferral_max": 0.06, "rate": 1.0}]}, more("employer_match")),
    MoneyCase("match.cap_pct_of_comp", {"plan.match.cap_pct_of_comp": 0.02}, less("employer_match")),
    MoneyCase("match.cap_dollars", {"plan.match.cap_dollars": 1000}, less("employer_match")),
    MoneyCase("match.graded_by", {"plan.match.graded_by": "service", "plan.match.bands": [
        {"min": 0, "max": 5, "tiers": [{"deferral_max": 0.03, "rate": 1.0}, {"deferral_max": 0.05, "rate": 0.5}]},
        {"min": 5, "max": None, "tiers": [{"deferral_max": 0.06, "rate": 1.0}]}]}, more("employer_match", "service_years >= 5")),
    MoneyCase("match.bands", {"plan.match.graded_by": "age", "plan.match.bands": [
        {"min": 0, "max": 40, "tiers": [{"deferral_max": 0.03, "rate": 1.0}]},
        {"min": 40, "max": None, "tiers": [{"deferral_max": 0.03, "rate": 0.5}]}]}, less("employer_match", "age_dec31 >= 40"),
              reference={"plan.match.graded_by": "age", "plan.match.bands": [
                  {"min": 0, "max": 40, "tiers": [{"deferral_max": 0.03, "rate": 1.0}]},
                  {"min": 40, "max": None, "tiers": [{"deferral_max": 0.03, "rate": 1.0}]}]}),
    MoneyCase("match.calculation", {"plan.match.calculation": "per_pay_period"}, less("employer_match", HIGH)),
    MoneyCase("match.match_catch_up", {**STRETCH, "plan.match.match_catch_up": False},
              less("employer_match", "catch_up_deferral > 0"), reference=STRETCH),
    MoneyCase("match.eligibility.waiting_period_days", {"plan.match.eligibility.waiting_period_days": 365},
              less("employer_match")),
    MoneyCase("match.eligibility.minimum_age", {"plan.match.eligibility.minimum_age": 40}, less("employer_match")),
    MoneyCase("match.eligibility.entry", {"plan.match.eligibility.entry": "first_of_next_month",
                                          "plan.match.eligibility.minimum_age": 21},
              less("match_comp"), reference={"plan.match.eligibility.minimum_age": 21}),
    MoneyCase("match.allocation.last_day_rule", {"plan.match.allocation.last_day_rule": True}, less("employer_match")),
    MoneyCase("match.allocation.minimum_hours", {"plan.match.allocation.minimum_hours": 1000}, less("employer_match")),
    MoneyCase("match.allocation.retirement_age_exemption",
              {"plan.match.allocation.last_day_rule": True, "plan.match.allocation.retirement_age_exemption": 50},
              more("employer_match"), reference={"plan.match.allocation.last_day_rule": True}),
    MoneyCase("match.vesting.schedule", {"plan.match.vesting.schedule": "graded_6"}, more("forfeited_amount")),
    MoneyCase("match.vesting.custom", {"plan.match.vesting.schedule": "custom",
                                       "plan.match.vesting.custom": {0: 0.5, 1: 1}},
              less("forfeited_amount"), reference={"plan.match.vesting.schedule": "graded_6"}),
    # 1,000-hour years count a short first year in full but not a short last one: the direction depends on the person.
    MoneyCase("match.vesting.service_method", {"plan.match.vesting.schedule": "graded_6",
                                               "plan.match.vesting.service_method": "hours"},
              differs("forfeited_amount"), reference={"plan.match.vesting.schedule": "graded_6"}),
    MoneyCase("core.enabled", {"plan.core.enabled": False}, less("employer_core")),
    MoneyCase("core.graded_by", {"plan.core.graded_by": "age", "plan.core.bands": [
        {"min": 0, "max": 5, "rate": 0.02}, {"min": 5, "max": 15, "rate": 0.04}, {"min": 15, "max": None, "rate": 0.10}]},
              more("employer_core", "service_years < 15")),
    MoneyCase("core.bands", {"plan.core.bands": [{"min": 0, "max": 5, "rate": 0.03}, {"min": 5, "max": 15, "rate": 0.05},
                                                 {"min": 15, "max": None, "rate": 0.10}]}, more("employer_core")),
    MoneyCase("core.eligibility.waiting_period_days", {"plan.core.eligibility.waiting_period_days": 0},
              more("employer_core")),
    MoneyCase("core.eligibility.minimum_age", {"plan.core.eligibility.minimum_age": 40}, less("employer_core")),
    MoneyCase("core.eligibility.entry", {"plan.core.eligibility.entry": "first_of_next_month",
                                         "plan.core.eligibility.waiting_period_days": 0},
              less("core_comp"), reference={"plan.core.eligibility.waiting_period_days": 0}),
    MoneyCase("core.allocation.last_day_rule", {"plan.core.allocation.last_day_rule": False}, more("employer_core")),
    MoneyCase("core.allocation.minimum_hours", {**NO_CORE_WAIT, "plan.core.allocation.minimum_hours": 0},
              more("employer_core"), reference=NO_CORE_WAIT),
    MoneyCase("core.allocation.retirement_age_exemption", {"plan.core.allocation.retirement_age_exemption": None},
              less("employer_core"), reference={"plan.core.allocation.retirement_age_exemption": 50}),
    MoneyCase("core.vesting.schedule", {"plan.core.vesting.schedule": "immediate"}, less("forfeited_amount")),
    MoneyCase("core.vesting.custom", {"plan.core.vesting.schedule": "custom",
                                      "plan.core.vesting.custom": {0: 0, 1: 0.5, 2: 1}},
              more("forfeited_amount"), reference={"plan.core.vesting.schedule": "immediate"}),
    MoneyCase("core.vesting.service_method", {**GRADED_3_CORE, "plan.core.vesting.service_method": "hours"},
              differs("forfeited_amount"), reference=GRADED_3_CORE),
    MoneyCase("limit_415.correction_order", {"plan.limit_415.correction_order": "employer_first"},
              less("employer_core", HIGH)),
]


def forfeiture_use(changes: dict, check: Callable) -> MoneyCase:
    return MoneyCase(f"forfeitures.{next(iter(changes)).split('.')[-1]}:{next(iter(changes.values()))}", changes,
                     check, years=(2025, 2026))


def _net_cost(year: int):
    return lambda con: summary(con, "net_employer_cost", year)


MONEY_CASES += [
    forfeiture_use({"plan.forfeitures.use": "reallocate_to_participants"},
                   lambda ref, var: _strictly(_net_cost(2026)(var), _net_cost(2026)(ref), ">")),
    # With a pool larger than the year's contributions, reducing contributions carries the rest; paying expenses
    # uses it all.
    MoneyCase("forfeitures.use:pay_expenses", {"plan.forfeitures.opening_pool": 1e7, "plan.forfeitures.use": "pay_expenses"},
              lambda ref, var: _strictly(summary(var, "forfeiture_pool_eoy"), summary(ref, "forfeiture_pool_eoy"), "<"),
              reference={"plan.forfeitures.opening_pool": 1e7}),
    forfeiture_use({"plan.forfeitures.opening_pool": 50000.0},
                   lambda ref, var: _strictly(_net_cost(2025)(var), _net_cost(2025)(ref), "<")),
]


@pytest.mark.parametrize("case", MONEY_CASES, ids=str)
def test_money_key_changes_the_output(runs, base, case):
    variant = runs.money(case.id.replace(":", "_"), case.years, **case.changes)
    reference = runs.money(case.id.replace(":", "_") + "_ref", case.years, **case.reference) if case.reference else base
    try:
        case.check(reference, variant)
    finally:
        variant.close()
        if reference is not base:
            reference.close()


def escalations(con, year: int = 2025) -> list[tuple]:
    return con.execute(f"""select employee_id, effective_date, deferral_rate from fct_yearly_events
                           where simulation_year = {year} and event_type = 'deferral_escalation'""").fetchall()


WORKFORCE_CASES = {
    "enabled": ({"plan.enabled": False},
                lambda base, var: (escalations(var) == [] and var.execute("select count(*) from fct_dc_contributions "
                                                                          "where simulation_year = 2025").fetchone()[0] == 0)),
    "auto_escalation.enabled": ({"plan.auto_escalation.enabled": False},
                                lambda base, var: escalations(var) == [] and len(escalations(base)) > 20),
    "auto_escalation.increment": ({"plan.auto_escalation.increment": 0.02},
                                  lambda base, var: sum(r[2] for r in escalations(var)) > sum(r[2] for r in escalations(base))),
    "auto_escalation.cap": ({"plan.auto_escalation.cap": 0.07},
                            lambda base, var: 0 < len(escalations(var)) < len(escalations(base))
                            and max(r[2] for r in escalations(var)) <= Decimal("0.07")),
    "auto_escalation.effective_mmdd": ({"plan.auto_escalation.effective_mmdd": "07-01"},
                                       lambda base, var: {r[1].isoformat() for r in escalations(var)} == {"2025-07-01"}
                                       and total(var, "employee_deferral") < total(base, "employee_deferral")),
    "auto_escalation.first_delay_years": ({"plan.auto_escalation.first_delay_years": 2},
                                          lambda base, var: escalations(var) == [] and escalations(base) != []),
    "auto_escalation.scope": ({"plan.auto_escalation.scope": "auto_enrolled_only"},
                              lambda base, var: escalations(var) == [] and escalations(base) != []),
    "auto_escalation.hire_date_cutoff": ({"plan.auto_escalation.hire_date_cutoff": "2015-01-01"},
                                         lambda base, var: 0 < len(escalations(var)) < len(escalations(base))),
    "auto_escalation.opt_out_rate": ({"plan.auto_escalation.opt_out_rate": 0.5},
                                     lambda base, var: 0 < len(escalations(var)) < len(escalations(base))),
}


@pytest.mark.parametrize("key", sorted(WORKFORCE_CASES))
def test_event_key_changes_the_output(runs, base, key):
    changes, check = WORKFORCE_CASES[key]
    variant = runs.workforce(key.replace(".", "_"), **changes)
    try:
        assert check(base, variant)
    finally:
        variant.close()


def test_irs_growth_moves_the_projected_limits(runs):
    database = runs.folder / "growth" / "sim.duckdb"
    database.parent.mkdir()
    shutil.copy(runs.foundation, database)
    limits = {}
    for cpi, wages in ((0.025, 0.035), (0.05, 0.06)):
        config = runs.config(**{"simulation.end_year": 2030, "plan.irs_limits.cpi_growth": cpi,
                                "plan.irs_limits.wage_growth": wages})
        InProcessDbt(DbtProject(database), config.to_dbt_vars()).invoke("run", "--select", "int_irs_limits_by_year")
        with duckdb.connect(str(database), read_only=True) as con:
            limits[cpi] = con.execute("select elective_deferral_402g, ss_wage_base from int_irs_limits_by_year "
                                      "where limit_year = 2030").fetchone()
    assert limits[0.05][0] > limits[0.025][0] and limits[0.05][1] > limits[0.025][1]


SAFE_HARBOR_CORE = {"plan.core.vesting.schedule": "immediate", "plan.core.allocation.last_day_rule": False,
                    "plan.core.allocation.minimum_hours": 0}


@pytest.mark.parametrize("flag, companions", [("plan.match.safe_harbor", {}), ("plan.core.safe_harbor", SAFE_HARBOR_CORE)])
def test_safe_harbor_flags_are_checks_not_formulas(runs, flag, companions):
    """safe_harbor validates the plan (the configuration rules); it changes no amount on its own."""
    name = flag.split(".")[1]
    variant = runs.money(f"safe_harbor_{name}", **companions, **{flag: True})
    reference = runs.money(f"safe_harbor_{name}_ref", **companions)
    query = "select * from fct_dc_contributions where simulation_year = 2025 order by employee_id"
    try:
        assert variant.execute(query).fetchall() == reference.execute(query).fetchall()
    finally:
        variant.close()
        reference.close()
