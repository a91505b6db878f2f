"""Who is selected, recomputed exactly in Python from the sha256 draws (docs/domain.md section 3), and the
distributions the random choices must follow.

The draws are a pure function of (seed, id, year, stream): this module recomputes one year's hazard-weighted
terminations and promotions from its start population and compares the exact sets, dates and levels; then
checks the shares of new-hire ages, hire salaries and deferral choices against the configured distributions
(chi-square), that the "fewer than 30 days left" new-hire termination branch occurs, and the age-segment
boundaries of proactive enrollment and opt-out.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, timedelta

import pytest

from helpers.common import completed_years
from helpers.sims import CensusSpec, SimSpec
from helpers.sql import rows, scalar
from helpers.common import draw as uniform_draw
from test_invariants import SPEC as INVARIANTS_SPEC

pytestmark = pytest.mark.slow

SEED = 42
LAST_YEAR = INVARIANTS_SPEC.end_year
# Chi-square critical values at p = 0.001 by degrees of freedom: a correct model fails one test in a thousand.
CHI2_CRITICAL = {1: 10.83, 2: 13.82, 3: 16.27, 4: 18.47, 5: 20.52, 6: 22.46, 7: 24.32, 8: 26.12, 9: 27.88,
                 10: 29.59, 11: 31.26}


def draw(employee_id: str, year: int | str, stream: str, seed: int = SEED) -> float:
    return uniform_draw(seed, employee_id, year, stream)


def chi_square(observed: Counter, shares: dict) -> tuple[float, int]:
    """Pearson's statistic of observed counts against expected shares, and its degrees of freedom."""
    total = sum(observed.values())
    stat = sum((observed.get(k, 0) - total * p) ** 2 / (total * p) for k, p in shares.items())
    assert set(observed) <= set(shares), f"values outside the distribution: {set(observed) - set(shares)}"
    return stat, len(shares) - 1


@pytest.fixture(scope="module")
def con(sims):
    run = sims.get(INVARIANTS_SPEC)
    assert run.result["success"], run.result
    con = run.connect()
    yield con
    con.close()


@pytest.fixture(scope="module")
def start(con):
    """The last year's start population (int_workforce_start holds the last year built)."""
    assert scalar(con, "select distinct simulation_year from int_workforce_start") == LAST_YEAR
    return {r[0]: r[1:] for r in rows(con, """
        select s.employee_id, s.current_age, s.current_tenure, s.level_id,
               a.termination_multiplier, t.termination_multiplier, l.termination_multiplier,
               a.promotion_multiplier, t.promotion_multiplier, l.promotion_multiplier
        from int_workforce_start s
        join stg_age_bands a using (age_band_id) join stg_tenure_bands t using (tenure_band_id)
        join stg_job_levels l using (level_id)""")}


def test_hazard_terminations_are_the_smallest_weighted_keys(con, start):
    retirees = {r[0] for r in rows(con, """select employee_id from fct_yearly_events where simulation_year = ?
                                          and event_category = 'retirement'""", [LAST_YEAR])}
    quota = scalar(con, "select hazard_terminations from int_workforce_requirements where simulation_year = ?",
                   [LAST_YEAR])
    keys = []
    for employee_id, (_, _, _, age_m, tenure_m, level_m, *_) in start.items():
        if employee_id in retirees:
            continue
        weight = float(age_m) * float(tenure_m) * float(level_m)
        keys.append((-math.log(max(draw(employee_id, LAST_YEAR, "termination"), 1e-300)) / weight, employee_id))
    chosen = sorted(keys)[:quota]
    year_start, days = date(LAST_YEAR, 1, 1), (date(LAST_YEAR, 12, 31) - date(LAST_YEAR, 1, 1)).days + 1
    expected = {e: year_start + timedelta(days=math.floor(draw(e, LAST_YEAR, "termination_date") * days))
                for _, e in chosen}
    got = dict(rows(con, """select employee_id, effective_date from fct_yearly_events where simulation_year = ?
                            and event_category = 'experienced_termination'""", [LAST_YEAR]))
    assert quota > 100 and got == expected


def test_promotions_are_exactly_the_draws_under_the_hazard(con, start):
    base, low, high = rows(con, "select base_rate, min_raise, max_raise from stg_promotion_hazard")[0]
    left_before_feb = {r[0] for r in rows(con, """
        select employee_id from fct_yearly_events where simulation_year = ? and event_type = 'termination'
        and effective_date < ?""", [LAST_YEAR, date(LAST_YEAR, 2, 1)])}
    expected = {}
    for employee_id, (_, tenure, level, *_, age_p, tenure_p, level_p) in start.items():
        if tenure < 1 or level >= 5 or employee_id in left_before_feb:
            continue
        probability = float(base) * float(age_p) * float(tenure_p) * float(level_p)
        if draw(employee_id, LAST_YEAR, "promotion") < probability:
            expected[employee_id] = (level, level + 1)
    got = {r[0]: (r[1], r[2]) for r in rows(con, """
        select employee_id, from_level, to_level from fct_yearly_events
        where simulation_year = ? and event_type = 'promotion'""", [LAST_YEAR])}
    assert len(expected) > 50 and got == expected
    dates = {r[0] for r in rows(con, """select distinct effective_date from fct_yearly_events
                                       where simulation_year = ? and event_type = 'promotion'""", [LAST_YEAR])}
    assert dates == {date(LAST_YEAR, 2, 1)}
    assert (float(low), float(high)) == (0.08, 0.15)


def test_new_hire_ages_follow_the_distribution(con):
    shares = {int(a): float(s) for a, s in rows(con, "select age, share from stg_new_hire_age_distribution")}
    ages = Counter(completed_years(birth, hire) for birth, hire in rows(con, """
        select employee_birth_date, employee_hire_date from fct_workforce_snapshot
        where detailed_status_code like 'new_hire%'"""))
    stat, df = chi_square(ages, shares)
    assert sum(ages.values()) > 1000 and stat < CHI2_CRITICAL[df], (stat, ages)


def test_hire_salaries_are_uniform_inside_each_level_range(con):
    """Each level's hire salaries, cut into four equal parts of its hiring range, fall evenly into them."""
    ranges = {lvl: (float(lo), float(hi)) for lvl, lo, hi in rows(
        con, "select level_id, hire_min_salary, hire_max_salary from stg_job_levels")}
    quarters = Counter()
    for level, salary in rows(con, """select to_level, compensation_amount from fct_yearly_events
                                     where event_type = 'hire' and to_level <= 3"""):
        lo, hi = ranges[level]
        assert lo <= float(salary) <= hi
        quarters[(level, min(3, int((float(salary) - lo) / (hi - lo) * 4)))] += 1
    for level in (1, 2, 3):
        observed = Counter({q: n for (lvl, q), n in quarters.items() if lvl == level})
        stat, df = chi_square(observed, {q: 0.25 for q in range(4)})
        assert sum(observed.values()) > 100 and stat < CHI2_CRITICAL[df], (level, observed)


def test_chosen_deferral_rates_follow_the_distribution(con):
    shares = {0.03: 0.25, 0.06: 0.35, 0.10: 0.20, 0.15: 0.10, 0.20: 0.10}  # the configured default
    chosen = Counter(round(float(r[0]), 2) for r in rows(con, """
        select deferral_rate from fct_yearly_events
        where event_type = 'enrollment' and event_category in ('proactive', 'voluntary')"""))
    stat, df = chi_square(chosen, shares)
    assert sum(chosen.values()) > 300 and stat < CHI2_CRITICAL[df], (stat, chosen)


def test_a_hire_with_fewer_than_30_days_left_leaves_the_next_day_or_later_in_the_year(con):
    late = rows(con, """
        select h.employee_id, h.effective_date, t.effective_date from fct_yearly_events h
        join fct_yearly_events t on t.employee_id = h.employee_id and t.event_type = 'termination'
             and t.simulation_year = h.simulation_year
        where h.event_type = 'hire' and h.effective_date > make_date(h.simulation_year, 12, 31) - 30""")
    assert late, "the branch never occurred on this census"
    for _, hired, left in late:
        assert hired + timedelta(days=1) <= left <= date(hired.year, 12, 31) or (hired == date(hired.year, 12, 31)
                                                                                 and left == hired)


# Segments: young < 31, mid_career 31-45, mature 46-55, senior 56+. Alternate 1 and 0 so every boundary
# separates "always" from "never".
SEGMENTS = SimSpec.make(
    CensusSpec.generated(1500, 21), end_year=2025,
    **{"enrollment.auto_enrollment.scope": "all_eligible_employees", "enrollment.auto_enrollment.hire_date_cutoff": None,
       "enrollment.proactive_enrollment.probability_by_age": {"young": 1.0, "mid_career": 0.0, "mature": 1.0,
                                                              "senior": 0.0},
       "enrollment.opt_out_rate_by_age": {"young": 0.0, "mid_career": 1.0, "mature": 0.0, "senior": 1.0}})


def segment(age: int) -> str:
    return "young" if age < 31 else "mid_career" if age <= 45 else "mature" if age <= 55 else "senior"


def test_age_segment_boundaries_of_proactive_enrollment_and_opt_out(sims):
    run = sims.get(SEGMENTS)
    assert run.result["success"], run.result
    with run.connect() as con:
        window_start = date(2025, 1, 1)  # census employees are swept on Jan 1 of the first year
        census_enrollments = rows(con, """
            select e.employee_id, e.event_category, s.employee_birth_date
            from fct_yearly_events e join fct_workforce_snapshot s using (employee_id, simulation_year)
            where e.event_type = 'enrollment' and s.employee_hire_date <= date '2024-12-31'""")
        opt_outs = rows(con, """
            select e.employee_id, s.employee_birth_date, a.effective_date
            from fct_yearly_events a join fct_yearly_events e using (employee_id)
            join fct_workforce_snapshot s using (employee_id)
            where a.event_category = 'auto' and e.event_type = 'opt_out'""")
        auto = rows(con, """
            select e.employee_id, s.employee_birth_date, e.effective_date, s.termination_date
            from fct_yearly_events e join fct_workforce_snapshot s using (employee_id, simulation_year)
            where e.event_category = 'auto'""")
    by_segment = Counter((segment(completed_years(birth, window_start)), category)
                         for _, category, birth in census_enrollments)
    # Everyone young or mature enrolls proactively, nobody mid-career or senior does: each boundary is exercised.
    assert {s for s, c in by_segment if c == "proactive"} == {"young", "mature"}
    assert {s for s, c in by_segment if c == "auto"} == {"mid_career", "senior"}
    ages = {completed_years(birth, window_start) for _, _, birth in census_enrollments}
    assert {30, 31, 45, 46, 55, 56} <= ages, "the census lacks an age on a segment boundary"
    opted = {e for e, _, _ in opt_outs}
    for employee_id, birth, enrolled_on, left_on in auto:
        # The opt-out day: 1 to 30 days after the auto-enrollment, drawn with the year its window opened.
        window_opened = enrolled_on - timedelta(days=45)
        opt_out_on = enrolled_on + timedelta(days=1 + math.floor(draw(employee_id, window_opened.year, "opt_out_date") * 30))
        can_opt_out = opt_out_on.year == 2025 and (left_on is None or left_on >= opt_out_on)
        opting_segment = segment(completed_years(birth, enrolled_on)) in ("mid_career", "senior")
        assert (employee_id in opted) == (opting_segment and can_opt_out), employee_id
    assert opted
