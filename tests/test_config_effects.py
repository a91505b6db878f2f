"""Each behavioural configuration key reaches the models and moves the output the expected way.

One short run (first year, 1,000-employee census) per key, compared with a shared baseline run
with the domain defaults. Values are pushed to extremes where that makes the expected effect exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Callable

import pytest

from helpers.invariants import expected_requirements
from helpers.sims import BASELINE_2Y, OTHER_SEED_2Y, SMALL_CENSUS, SimSpec, selected_params
from helpers.sql import rows, scalar

CENSUS = SMALL_CENSUS
# The baseline and the other-seed run are two years so test_determinism can share them.
BASELINE = BASELINE_2Y
OTHER_SEED = OTHER_SEED_2Y
Y = 2025
ALL_SEGMENTS = ("young", "mid_career", "mature", "senior")

pytestmark = pytest.mark.slow


def one_year(**overrides) -> SimSpec:
    """The first year only, on a copy of the census's shared foundation (built once per foundation inputs)."""
    return SimSpec.make(CENSUS, end_year=Y, foundation_copy=True, **overrides)


SCOPE_ALL = {"enrollment.auto_enrollment.scope": "all_eligible_employees"}


@dataclass(frozen=True)
class Case:
    id: str
    spec: SimSpec
    check: Callable
    reference: SimSpec = BASELINE

    def __str__(self) -> str:
        return self.id


def count(con, where: str, year: int = Y) -> int:
    return scalar(con, f"select count(*) from fct_yearly_events where simulation_year = {year} and ({where})")


def ids(con, where: str, year: int = Y) -> set:
    return {r[0] for r in rows(con, f"select employee_id from fct_yearly_events where simulation_year = {year} and ({where})")}


def requirement(con, column: str, year: int = Y):
    return scalar(con, f"select {column} from int_workforce_requirements where simulation_year = {year}")


def active_end(con, year: int = Y) -> int:
    return scalar(con, f"select count(*) from fct_workforce_snapshot where simulation_year = {year} "
                       "and employment_status = 'active'")


def raise_rates(con) -> list[tuple]:
    """(level, achieved raise rate) of merit raises of employees without a promotion that year."""
    return rows(con, f"""
        select r.to_level, r.compensation_amount / r.previous_compensation - 1 from fct_yearly_events r
        where r.simulation_year = {Y} and r.event_type = 'raise'
          and not exists (select 1 from fct_yearly_events p where p.employee_id = r.employee_id
                          and p.simulation_year = r.simulation_year and p.event_type = 'promotion')""")


# --------------------------------------------------------------------------- checks


def check_growth(base, var):
    n = requirement(var, "start_headcount")
    assert active_end(var) == expected_requirements(n, 0.10, 0.12, 0.25)["target_end_headcount"] == round(n * 1.10)
    assert active_end(var) > active_end(base) and count(var, "event_type = 'hire'") > count(base, "event_type = 'hire'")


EXPERIENCED = "event_category in ('experienced_termination', 'retirement')"


def check_termination_rate(base, var):
    n = requirement(var, "start_headcount")
    q_exp = count(var, EXPERIENCED)
    assert q_exp == expected_requirements(n, 0.03, 0.25, 0.25)["experienced_terminations"] == int(n * 0.25 + 0.5)
    assert q_exp > 2 * count(base, EXPERIENCED)
    assert active_end(var) == active_end(base)  # growth unchanged: more hires replace them
    assert count(var, "event_type = 'hire'") > count(base, "event_type = 'hire'")


def check_new_hire_termination_rate(base, var):
    assert count(var, "event_category = 'new_hire_termination'") > 1.5 * count(base, "event_category = 'new_hire_termination'")
    assert count(var, "event_type = 'hire'") > count(base, "event_type = 'hire'")
    assert active_end(var) == active_end(base)
    # an independent decision: the experienced leavers are the same people
    assert ids(var, EXPERIENCED) == ids(base, EXPERIENCED)
    hires = requirement(var, "total_hires")
    assert count(var, "event_category = 'new_hire_termination'") == int(hires * 0.5 + 0.5)


def check_retirement_disabled(base, var):
    assert count(base, "event_category = 'retirement'") > 0 and count(var, "event_category = 'retirement'") == 0
    assert requirement(var, "retirements") == 0 and requirement(base, "retirements") > 0
    # the quota is the same; without retirements the hazard draw fills all of it
    assert count(var, EXPERIENCED) == count(base, EXPERIENCED) == requirement(base, "experienced_terminations")
    assert count(var, "event_category = 'experienced_termination'") > count(base, "event_category = 'experienced_termination'")


def check_retirement_multiplier(base, var):
    retired = "event_category = 'retirement'"
    assert count(var, retired) > 3 * count(base, retired) > 0
    # the same draw against a higher probability: every retiree of the base run still retires, on the same day
    dated = f"select employee_id, effective_date from fct_yearly_events where simulation_year = {Y} and {retired}"
    assert set(rows(base, dated)) < set(rows(var, dated))
    assert requirement(var, "retirements") == count(var, retired)


def check_cola(base, var):
    got, ref = raise_rates(var), raise_rates(base)
    assert len(got) == len(ref) > 300
    merit = {1: 0.03, 2: 0.03, 3: 0.0325, 4: 0.035, 5: 0.0375}
    assert all(abs(float(rate) - (merit[level] + 0.10)) < 1e-4 for level, rate in got)
    assert all(abs(float(rate) - (merit[level] + 0.005)) < 1e-4 for level, rate in ref)
    # the same people get their raise on the same day, only the amount changes
    same = f"select employee_id, effective_date from fct_yearly_events where simulation_year = {Y} and event_type = 'raise' order by 1"
    assert rows(var, same) == rows(base, same)


def check_merit_budget(base, var):
    got = raise_rates(var)
    assert len(got) > 300 and {level for level, _ in got} >= {1, 2, 3}
    assert all(abs(float(rate) - 0.015) < 1e-4 for _, rate in got)  # 1 % merit + 0.5 % COLA, every level
    assert any(abs(float(rate) - 0.015) > 0.01 for _, rate in raise_rates(base))


def _eligibility_dates(con, waiting: int, min_age: int) -> list[tuple]:
    """Snapshot rows whose eligibility_date is not max(hire + waiting, birth + min_age), or for census
    participants not that date capped at the census date (docs/domain.md step 8)."""
    return rows(con, f"""with by_rules as (
                             select s.employee_id, s.eligibility_date, coalesce(b.is_enrolled, false) as participant,
                                    greatest(s.employee_hire_date + {waiting},
                                             cast(s.employee_birth_date + to_years({min_age}) as date)) as rule_date,
                                    s.employee_birth_date
                             from fct_workforce_snapshot s left join int_baseline_workforce b using (employee_id))
                         select employee_id, eligibility_date from by_rules
                         where eligibility_date <> case when participant then least(rule_date, DATE '2024-12-31')
                                                        else rule_date end
                           and strftime(employee_birth_date, '%m%d') <> '0229'""")


def check_waiting_period(base, var):
    assert _eligibility_dates(var, 365, 21) == [] and _eligibility_dates(base, 30, 21) == []
    # 2025 hires become eligible only in 2026: no eligibility event, no auto/proactive enrollment for them
    assert count(base, "event_type = 'eligibility' and starts_with(employee_id, 'NH_')") > 50
    assert count(var, "event_type = 'eligibility' and starts_with(employee_id, 'NH_')") == 0
    assert count(var, "event_type in ('enrollment', 'opt_out') and starts_with(employee_id, 'NH_')") == 0


def check_minimum_age(base, var):
    assert _eligibility_dates(var, 30, 40) == []
    too_young = """select count(*) from fct_yearly_events e join fct_workforce_snapshot s using (employee_id, simulation_year)
                   where e.event_type = 'enrollment' and e.effective_date < cast(s.employee_birth_date + to_years(40) as date)"""
    assert scalar(base, too_young) > 10 and scalar(var, too_young) == 0
    not_eligible = f"select count(*) from fct_workforce_snapshot where simulation_year = {Y} and not is_eligible"
    assert scalar(var, not_eligible) > scalar(base, not_eligible) + 50
    # census employees turning 40 during the year become eligible on their birthday
    assert count(var, "event_type = 'eligibility' and not starts_with(employee_id, 'NH_')") > \
        count(base, "event_type = 'eligibility' and not starts_with(employee_id, 'NH_')")


def check_auto_disabled(base, var):
    assert count(base, "event_category in ('auto', 'proactive', 'auto_opt_out')") > 50
    assert count(var, "event_category in ('auto', 'proactive', 'auto_opt_out')") == 0
    # new hires are no longer in auto-enrollment scope: they may enroll voluntarily
    assert count(var, "event_category = 'voluntary' and starts_with(employee_id, 'NH_')") > 0
    assert count(base, "event_category = 'voluntary' and starts_with(employee_id, 'NH_')") == 0


def _auto_offsets(con) -> list[tuple]:
    return rows(con, f"""select e.event_category, date_diff('day', s.eligibility_date, e.effective_date)
                         from fct_yearly_events e join fct_workforce_snapshot s using (employee_id, simulation_year)
                         where e.simulation_year = {Y} and e.event_category in ('auto', 'proactive')""")


def check_window_days(base, var):
    got, ref = _auto_offsets(var), _auto_offsets(base)
    assert {d for c, d in got if c == "auto"} == {90} and {d for c, d in ref if c == "auto"} == {45}
    proactive = [d for c, d in got if c == "proactive"]
    assert proactive and all(0 <= d < 90 for d in proactive) and max(proactive) >= 45
    assert all(0 <= d < 45 for c, d in ref if c == "proactive")


def check_default_deferral(base, var):
    assert {r[0] for r in rows(var, "select distinct deferral_rate from fct_yearly_events where event_category = 'auto'")} \
        == {Decimal("0.1")}
    assert {r[0] for r in rows(base, "select distinct deferral_rate from fct_yearly_events where event_category = 'auto'")} \
        == {Decimal("0.06")}
    # carried into the snapshot for those who stayed in
    assert scalar(var, """select count(*) from fct_workforce_snapshot s join fct_yearly_events e using (employee_id, simulation_year)
                          where e.event_category = 'auto' and s.is_enrolled and s.deferral_rate <> 0.10""") == 0


def _opt_out_delays(con) -> list[int]:
    return [r[0] for r in rows(con, """
        select date_diff('day', a.effective_date, o.effective_date) from fct_yearly_events o
        join fct_yearly_events a on a.employee_id = o.employee_id and a.event_category = 'auto'
        where o.event_type = 'opt_out'""")]


def check_grace_period(base, var):
    got, ref = _opt_out_delays(var), _opt_out_delays(base)
    assert len(got) >= 5 and len(ref) >= 5
    assert all(0 <= d <= 90 for d in got) and max(got) > 30
    assert all(0 <= d <= 30 for d in ref)


def _census_auto(con) -> list[tuple]:
    return rows(con, f"""
        select e.employee_id, e.event_category, e.effective_date, s.employee_hire_date, s.eligibility_date
        from fct_yearly_events e join fct_workforce_snapshot s using (employee_id, simulation_year)
        where e.simulation_year = {Y} and e.event_category in ('auto', 'proactive', 'auto_opt_out')
          and not starts_with(e.employee_id, 'NH_')""")


def check_scope_all_eligible(base, var):
    assert _census_auto(base) == []
    swept = _census_auto(var)
    assert len(swept) >= 5
    assert all(hired >= date(2024, 1, 1) for _, _, _, hired, _ in swept)  # default cutoff still applies
    sweep_day = date(Y, 1, 1) + timedelta(days=45)
    # already eligible before Jan 1: auto-enrolled on Jan 1 + window; later eligibility: eligibility + window
    assert all(day == (sweep_day if elig < date(Y, 1, 1) else elig + timedelta(days=45))
               for _, cat, day, _, elig in swept if cat == "auto")
    assert any(day == sweep_day for _, cat, day, _, _ in swept if cat == "auto")
    # census employees in scope are no longer voluntary enrollees
    assert count(var, "event_category = 'voluntary'") < count(base, "event_category = 'voluntary'")
    # nobody already enrolled in the census is swept
    assert scalar(var, """select count(*) from fct_yearly_events e join raw.census c using (employee_id)
                           where e.event_type = 'enrollment' and c.employee_deferral_rate > 0""") == 0


def check_cutoff_removed(scoped, var):
    before, after = _census_auto(scoped), _census_auto(var)
    assert len(after) > 2 * len(before)
    assert any(hired < date(2024, 1, 1) for _, _, _, hired, _ in after)


def check_cutoff_new_hires(base, var):
    cutoff = date(Y, 7, 1)
    in_scope = rows(var, """select min(s.employee_hire_date), count(*) from fct_yearly_events e
                            join fct_workforce_snapshot s using (employee_id, simulation_year)
                            where e.event_category in ('auto', 'proactive', 'auto_opt_out')""")[0]
    assert in_scope[1] > 0 and in_scope[0] >= cutoff
    assert rows(base, """select min(s.employee_hire_date) from fct_yearly_events e
                         join fct_workforce_snapshot s using (employee_id, simulation_year)
                         where e.event_category = 'auto'""")[0][0] < cutoff
    # hires before the cutoff are outside auto-enrollment scope: voluntary instead
    assert scalar(var, """select count(*) from fct_yearly_events e join fct_workforce_snapshot s
                          using (employee_id, simulation_year)
                          where e.event_category = 'voluntary' and starts_with(e.employee_id, 'NH_')
                            and s.employee_hire_date < DATE '2025-07-01'""") > 0


def check_proactive_disabled(base, var):
    assert count(base, "event_category = 'proactive'") > 10 and count(var, "event_category = 'proactive'") == 0
    assert count(var, "event_category = 'auto'") > count(base, "event_category = 'auto'")


def check_proactive_probability(base, var):
    # probability 1 in every segment: everyone in scope enrolls by choice inside the window, nobody is auto-enrolled
    assert count(var, "event_category = 'auto'") == 0 and count(var, "event_type = 'opt_out'") == 0
    assert count(var, "event_category = 'proactive'") > count(base, "event_category = 'proactive'") + 20


def check_voluntary_disabled(base, var):
    assert count(base, "event_category = 'voluntary'") > 10 and count(var, "event_category = 'voluntary'") == 0
    assert count(var, "event_category in ('auto', 'proactive')") == count(base, "event_category in ('auto', 'proactive')")


def check_voluntary_probability(base, var):
    assert count(var, "event_category = 'voluntary'") > 3 * count(base, "event_category = 'voluntary'") > 0


def check_opt_out_rate(base, var):
    # rate 1: everyone auto-enrolled opts out within the grace period, if still employed then
    autos = rows(var, f"""select a.employee_id, a.effective_date, s.termination_date from fct_yearly_events a
                          join fct_workforce_snapshot s using (employee_id, simulation_year)
                          where a.simulation_year = {Y} and a.event_category = 'auto'""")
    opted = ids(var, "event_type = 'opt_out'")
    must = {e for e, day, term in autos if day + timedelta(days=30) <= date(Y, 12, 31)
            and (term is None or term >= day + timedelta(days=30))}
    assert len(must) > 20 and must <= opted
    assert len(opted) > 2 * count(base, "event_type = 'opt_out'")
    # the auto-enrollments themselves do not change
    assert ids(var, "event_category = 'auto'") == ids(base, "event_category = 'auto'")


def check_deferral_distribution(base, var):
    chosen = "select distinct deferral_rate from fct_yearly_events where event_category in ('proactive', 'voluntary')"
    assert {r[0] for r in rows(var, chosen)} == {Decimal("0.08"), Decimal("0.12")}
    assert len(rows(base, chosen)) >= 4
    # the choice of rate only: the same people enroll on the same day
    who = f"""select employee_id, event_category, effective_date from fct_yearly_events
              where simulation_year = {Y} and event_type = 'enrollment' order by 1"""
    assert rows(var, who) == rows(base, who)


def check_single_deferral_rate(base, var):
    chosen = "select distinct deferral_rate from fct_yearly_events where event_category in ('proactive', 'voluntary')"
    assert {r[0] for r in rows(var, chosen)} == {Decimal("0.08")}
    who = f"""select employee_id, event_category, effective_date from fct_yearly_events
              where simulation_year = {Y} and event_type = 'enrollment' order by 1"""
    assert rows(var, who) == rows(base, who)


def check_random_seed(base, var):
    for year in (2025, 2026):
        for col in ("start_headcount", "target_end_headcount", "total_experienced_terminations", "total_hires",
                    "new_hire_terminations"):
            assert requirement(var, col, year) == requirement(base, col, year), (year, col)
        left_var = ids(var, EXPERIENCED, year)
        left_base = ids(base, EXPERIENCED, year)
        assert len(left_var) == len(left_base) and left_var != left_base
        assert len(left_var & left_base) < 0.6 * len(left_base)
    promoted = "event_type = 'promotion'"
    assert ids(var, promoted) != ids(base, promoted)


CASES = [
    Case("target_growth_rate", one_year(**{"simulation.target_growth_rate": 0.10}), check_growth),
    Case("total_termination_rate", one_year(**{"workforce.total_termination_rate": 0.25}), check_termination_rate),
    Case("new_hire_termination_rate", one_year(**{"workforce.new_hire_termination_rate": 0.5}),
         check_new_hire_termination_rate),
    Case("retirement.enabled", one_year(**{"workforce.retirement.enabled": False}), check_retirement_disabled),
    Case("retirement.rate_multiplier", one_year(**{"workforce.retirement.rate_multiplier": 5}),
         check_retirement_multiplier),
    Case("cola_rate", one_year(**{"compensation.cola_rate": 0.10}), check_cola),
    Case("merit_budget", one_year(**{"compensation.merit_budget": 0.01}), check_merit_budget),
    Case("waiting_period_days", one_year(**{"eligibility.waiting_period_days": 365}), check_waiting_period),
    Case("minimum_age", one_year(**{"eligibility.minimum_age": 40}), check_minimum_age),
    Case("auto_enrollment.enabled", one_year(**{"enrollment.auto_enrollment.enabled": False}), check_auto_disabled),
    Case("window_days", one_year(**{"enrollment.auto_enrollment.window_days": 90}), check_window_days),
    Case("default_deferral_rate", one_year(**{"enrollment.auto_enrollment.default_deferral_rate": 0.10}),
         check_default_deferral),
    Case("opt_out_grace_period", one_year(**{"enrollment.auto_enrollment.opt_out_grace_period": 90}),
         check_grace_period),
    Case("scope", one_year(**SCOPE_ALL), check_scope_all_eligible),
    Case("hire_date_cutoff_null", one_year(**SCOPE_ALL, **{"enrollment.auto_enrollment.hire_date_cutoff": None}),
         check_cutoff_removed, reference=one_year(**SCOPE_ALL)),
    Case("hire_date_cutoff_mid_year", one_year(**{"enrollment.auto_enrollment.hire_date_cutoff": "2025-07-01"}),
         check_cutoff_new_hires),
    Case("proactive_enrollment.enabled", one_year(**{"enrollment.proactive_enrollment.enabled": False}),
         check_proactive_disabled),
    Case("proactive_enrollment.probability_by_age",
         one_year(**{"enrollment.proactive_enrollment.probability_by_age": {s: 1.0 for s in ALL_SEGMENTS}}),
         check_proactive_probability),
    Case("voluntary_enrollment.enabled", one_year(**{"enrollment.voluntary_enrollment.enabled": False}),
         check_voluntary_disabled),
    Case("voluntary_enrollment.annual_probability",
         one_year(**{"enrollment.voluntary_enrollment.annual_probability": 0.5}), check_voluntary_probability),
    Case("opt_out_rate_by_age", one_year(**{"enrollment.opt_out_rate_by_age": {s: 1.0 for s in ALL_SEGMENTS}}),
         check_opt_out_rate),
    Case("deferral_rate_distribution",
         one_year(**{"enrollment.deferral_rate_distribution": {0.08: 0.5, 0.12: 0.5}}), check_deferral_distribution),
    # A one-entry distribution is valid (shares sum to 1). Fail fast: a regression (it once rendered
    # 'case else 0.08 end' and broke int_enrollment_events) must not spend a minute on retries and fallbacks.
    Case("deferral_rate_distribution_single_rate",
         one_year(**{"enrollment.deferral_rate_distribution": {0.08: 1.0}, "orchestration.fail_fast": True,
                     "orchestration.max_retries": 0}),
         check_single_deferral_rate),
    Case("random_seed", OTHER_SEED, check_random_seed),
]


@pytest.fixture(scope="module")
def prefetched(sims, request):
    """Start every selected case's run (and its reference) at once; the pool overlaps them."""
    wanted = selected_params(request, "test_config_effects")
    cases = [c.values[0] if hasattr(c, "values") else c for c in CASES]
    specs = [BASELINE] + [s for c in cases if c.id in wanted for s in (c.reference, c.spec)]
    sims.prefetch(specs)
    yield sims
    sims.wait(specs)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_config_key_changes_output(prefetched, case):
    ref_run, var_run = prefetched.get(case.reference), prefetched.get(case.spec)
    for run in (ref_run, var_run):
        assert run.result["success"], run.result
    base, var = ref_run.connect(), var_run.connect()
    try:
        case.check(base, var)
    finally:
        base.close()
        var.close()
