"""Retirements (domain 4.2) and a workforce that ages like a real one, on an older census.

The older census has 400 employees aged 30-69 (about 37 % of them 55 or older). The retirees of every
year are recomputed here from their own sha256 streams and the domain's rate table, independently of
the SQL, and the requirements follow from them.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from helpers.common import completed_years
from helpers.invariants import invariant_problems, expected_requirements
from helpers.sims import CensusSpec, SimSpec, days_in_year
from helpers.sql import rows, scalar
from helpers.common import draw as uniform_draw

from helpers.independent import year_figures
from planwise_core.outputs.summary import format_summary, year_summary

YEARS = list(range(2025, 2030))
SEED = 42
# Domain 4.2 defaults: [min_age, max_age) -> yearly probability.
RETIREMENT_RATES = ((55, 60, 0.02), (60, 62, 0.05), (62, 63, 0.15), (63, 65, 0.10), (65, 66, 0.30),
                    (66, 70, 0.20), (70, 200, 0.35))


def older_census() -> CensusSpec:
    rng = random.Random(13)
    people = []
    for i in range(400):
        age, tenure = rng.randint(30, 69), rng.randint(0, 25)
        birth = date(2024 - age, rng.randint(1, 12), rng.randint(1, 28))
        hire = date(2024 - min(tenure, age - 20), rng.randint(1, 12), rng.randint(1, 28))
        salary = rng.uniform(45_000, 250_000)
        people.append((f"OLD{i:04d}", birth, hire, "", f"{salary:.2f}", rng.choice(["0", "0.05", "0.08"]), ""))
    return CensusSpec.literal("older_400", people)


OLDER = older_census()
DEFAULTS = SimSpec.make(OLDER, end_year=2029)
NO_RETIREMENT = SimSpec.make(OLDER, end_year=2029, **{"workforce.retirement.enabled": False})
# A quota of round_half_up(400 * 0.02) = 8 experienced terminations, far fewer than the retirements.
LOW_TURNOVER = SimSpec.make(OLDER, end_year=2026, **{"workforce.total_termination_rate": 0.02})

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(sims):
    specs = {"defaults": DEFAULTS, "no_retirement": NO_RETIREMENT, "low_turnover": LOW_TURNOVER}
    sims.prefetch(specs.values())
    opened = {}
    for name, spec in specs.items():
        run = sims.get(spec)
        assert run.result["success"], run.result
        opened[name] = run.connect()
    yield opened
    for con in opened.values():
        con.close()


def draw(employee_id: str, year: int, stream: str) -> float:
    return uniform_draw(SEED, employee_id, year, stream)


def retirement_rate(age: int) -> float:
    return next((rate for low, high, rate in RETIREMENT_RATES if low <= age < high), 0.0)


def start_actives(con, year: int) -> list[tuple[str, date]]:
    if year == YEARS[0]:
        return rows(con, "select employee_id, employee_birth_date from int_baseline_workforce")
    return rows(con, """select employee_id, employee_birth_date from fct_workforce_snapshot
                        where simulation_year = ? and employment_status = 'active'""", [year - 1])


def expected_retirements(con, year: int) -> dict[str, date]:
    """Who retires in `year` and when, from the streams and the rate table alone."""
    jan1, expected = date(year, 1, 1), {}
    for employee_id, birth in start_actives(con, year):
        age = completed_years(birth, date(year - 1, 12, 31))
        if draw(employee_id, year, "retirement") < retirement_rate(age):
            offset = int(draw(employee_id, year, "retirement_date") * days_in_year(year))
            expected[employee_id] = jan1 + timedelta(days=offset)
    return expected


def retirements(con, year: int) -> dict[str, date]:
    return dict(rows(con, """select employee_id, effective_date from fct_yearly_events
                             where simulation_year = ? and event_category = 'retirement'""", [year]))


def test_core_invariants_hold(runs):
    specs = {"defaults": DEFAULTS, "no_retirement": NO_RETIREMENT, "low_turnover": LOW_TURNOVER}
    for name, con in runs.items():
        years = [r[0] for r in rows(con, "select distinct simulation_year from fct_workforce_snapshot order by 1")]
        assert years == specs[name].years
        assert invariant_problems(con, years, specs[name].config()) == {}, name


def test_retirees_follow_their_streams_and_the_rate_table(runs):
    con = runs["defaults"]
    total = 0
    for year in YEARS:
        expected = expected_retirements(con, year)
        assert retirements(con, year) == expected, year
        total += len(expected)
    assert total > 60


def test_nobody_under_55_retires_and_every_retirement_is_a_termination_inside_the_year(runs):
    con = runs["defaults"]
    found = rows(con, """
        select e.employee_id, e.simulation_year, e.event_type, e.effective_date, s.employee_birth_date,
               s.termination_date, s.employment_status
        from fct_yearly_events e join fct_workforce_snapshot s using (employee_id, simulation_year)
        where e.event_category = 'retirement'""")
    assert len(found) > 60
    ages = [completed_years(birth, date(year - 1, 12, 31)) for _, year, _, _, birth, _, _ in found]
    assert 55 <= min(ages) < 60 and max(ages) >= 70  # the youngest retirees come from the 2 % band
    for employee_id, year, kind, day, _, left, status in found:
        assert (kind, status, left) == ("termination", "terminated", day), employee_id
        assert date(year, 1, 1) <= day <= date(year, 12, 31), employee_id
    assert len({day for *_, day, _, _, _ in found}) > 40  # dated across the year, not on one day
    # retirees are gone the next year and get no pay change after their retirement date
    assert scalar(con, """select count(*) from fct_yearly_events r join fct_workforce_snapshot later
                          on later.employee_id = r.employee_id and later.simulation_year > r.simulation_year
                          where r.event_category = 'retirement'""") == 0
    assert scalar(con, """select count(*) from fct_yearly_events r join fct_yearly_events pay
                          on pay.employee_id = r.employee_id and pay.simulation_year = r.simulation_year
                          where r.event_category = 'retirement' and pay.event_type in ('promotion', 'raise')
                            and pay.effective_date > r.effective_date""") == 0


def test_experienced_terminations_are_the_larger_of_quota_and_retirements(runs):
    """max(Q_exp, R) leave, retirements included; Q_exp, R and the hires recomputed independently."""
    seen = set()
    for name in ("defaults", "low_turnover"):
        con = runs[name]
        requirements = rows(con, """select simulation_year, start_headcount, target_growth_rate, total_termination_rate,
                                           new_hire_termination_rate from int_workforce_requirements order by 1""")
        for year, n, g, t, h in requirements:
            retired = len(expected_retirements(con, year))
            exp = expected_requirements(n, g, t, h, retired)
            counts = dict(rows(con, """select event_category, count(*) from fct_yearly_events
                                       where simulation_year = ? group by 1""", [year]))
            assert counts.get("experienced_termination", 0) + counts.get("retirement", 0) \
                == max(exp["experienced_terminations"], retired) == exp["total_experienced_terminations"]
            assert counts.get("retirement", 0) == retired
            assert counts["new_hire"] == exp["total_hires"]
            assert scalar(con, """select count(*) from fct_workforce_snapshot
                                  where simulation_year = ? and employment_status = 'active'""", [year]) \
                == exp["target_end_headcount"]
            seen.add("beyond" if retired > exp["experienced_terminations"] else "inside")
    assert seen == {"inside", "beyond"}  # both branches of the rule were exercised
    # beyond the quota: nobody leaves by hazard, and more people are hired than with the quota alone
    low = runs["low_turnover"]
    q_exp, retired, by_hazard, hires, n = rows(low, """
        select experienced_terminations, retirements, hazard_terminations, total_hires, start_headcount
        from int_workforce_requirements where simulation_year = 2025""")[0]
    assert q_exp == 8 and retired > q_exp and by_hazard == 0
    assert hires > expected_requirements(n, 0.03, 0.02, 0.25)["total_hires"]


def share_65_plus(con) -> list[float]:
    """Share of actives aged 65+ at the census date, then on Dec 31 of each simulated year."""
    baseline = rows(con, "select avg((current_age >= 65)::int) from int_baseline_workforce")
    yearly = rows(con, """select avg((current_age >= 65)::int) from fct_workforce_snapshot
                          where employment_status = 'active' group by simulation_year order by simulation_year""")
    return [float(r[0]) for r in baseline + yearly]


def test_share_of_actives_aged_65_and_over_does_not_grow(runs):
    shares = share_65_plus(runs["defaults"])
    assert len(shares) == len(YEARS) + 1 and shares[0] > 0.10
    assert all(later <= earlier for earlier, later in zip(shares, shares[1:])), shares
    # without retirements the same census keeps getting older: the check above can fail
    frozen = share_65_plus(runs["no_retirement"])
    assert frozen[-1] > frozen[0] and frozen[-1] > 1.5 * shares[-1], (frozen, shares)


def mean_pay_increase(con) -> dict[int, float]:
    """Mean of (Dec 31 pay / pay at the start of the year) - 1 over continuing employees, per year."""
    return {year: float(increase) for year, increase in rows(con, """
        with opening as (
            select employee_id, 2025 as simulation_year, current_compensation as rate from int_baseline_workforce
            union all
            select employee_id, simulation_year + 1, full_year_equivalent_compensation from fct_workforce_snapshot
            where employment_status = 'active')
        select s.simulation_year, avg(s.current_compensation / o.rate - 1)
        from fct_workforce_snapshot s join opening o using (employee_id, simulation_year)
        where s.detailed_status_code = 'continuous_active'
        group by 1 order by 1""")}


def test_mean_pay_increase_of_continuing_employees_matches_salary_budgets(runs):
    increases = mean_pay_increase(runs["defaults"])
    assert list(increases) == YEARS
    assert all(0.03 <= value <= 0.055 for value in increases.values()), increases


def test_year_summary_counts_retirements(runs):
    con = runs["defaults"]
    summary = year_summary(con, 2025, 2029)
    independent = year_figures(con)  # recomputed from the snapshot, the events and the contributions
    assert [row["simulation_year"] for row in summary] == sorted(independent) == YEARS
    for row in summary:
        year, want = row["simulation_year"], independent[row["simulation_year"]]
        for key in ("end_headcount", "hires", "terminations", "retirements", "enrolled_actives", "payroll",
                    "total_employee_deferrals", "total_match", "total_core", "total_employer_gross"):
            got = Decimal(repr(row[key])) if isinstance(row[key], float) else row[key]  # the JSON-able summary
            assert got == want[key], (year, key)
        assert Decimal(repr(row["enrolled_share_of_actives"])) == want["enrolled_share_of_actives"], year
        assert row["retirements"] == len(retirements(con, year)) > 0
        assert row["experienced_terminations"] == scalar(con, """
            select total_experienced_terminations from int_workforce_requirements where simulation_year = ?""", [year])
        assert row["terminations"] == row["experienced_terminations"] + row["new_hire_terminations"]
    lines = format_summary(summary).splitlines()
    assert lines[0].split() == ["year", *(str(r["simulation_year"]) for r in summary)]
    retired = next(line for line in lines if line.startswith("Retirements "))
    assert retired.split()[1:] == [str(r["retirements"]) for r in summary]
