"""Unusual census shapes run three years without a crash and keep the whole shared invariant set.

Small CSV censuses (very old, very young, one level, N = 7, N = 1, band boundaries) and a
shrinking workforce (target_growth_rate -0.2: no hires, additional terminations).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from helpers.common import completed_years
from helpers.invariants import invariant_problems, expected_requirements
from helpers.sims import CensusSpec, SimSpec, largest_remainder, selected_params
from helpers.sql import rows, scalar

YEARS = [2025, 2026, 2027]
SALARY_BANDS = {1: (45_000, 80_000), 2: (80_000, 120_000), 3: (120_000, 160_000), 4: (160_000, 275_000),
                5: (275_000, 400_000)}

pytestmark = pytest.mark.slow


def person(rng: random.Random, i: int, age: int, tenure: int, level: int | None = None, *,
           prefix: str = "U", deferral: str | None = None, with_level: bool = True) -> tuple:
    """A census row aged `age` and with `tenure` completed years on 2024-12-31."""
    birth = date(2024 - age, rng.randint(1, 12), rng.randint(1, 28))
    tenure = min(tenure, age - 15)  # never hired before the 14th birthday
    hire = date(2024 - tenure, rng.randint(1, 12), rng.randint(1, 28))
    level = level or rng.choice([1, 1, 1, 2, 2, 3, 4, 5])
    lo, hi = SALARY_BANDS[level]
    salary = f"{rng.uniform(lo, hi - 1):.2f}"
    if deferral is None:
        deferral = rng.choice(["0", "", "0.04", "0.06"])
    return (f"{prefix}{i:04d}", birth.isoformat(), hire.isoformat(), "", salary, deferral,
            str(level) if with_level else "")


def build(name: str, n: int, ages: tuple[int, int], tenures: tuple[int, int], seed: int, level: int | None = None):
    rng = random.Random(seed)
    return CensusSpec.literal(name, [person(rng, i, rng.randint(*ages), rng.randint(*tenures), level)
                                     for i in range(1, n + 1)])


def boundary_census() -> CensusSpec:
    """Band-boundary salaries without level_id, hires on the census date, Feb 29, terminated rows."""
    r = [
        ("B001", "1980-01-15", "2010-06-01", "", "80000", "", ""),        # exactly 80k -> level 2
        ("B002", "1980-01-15", "2010-06-01", "", "79999.99", "0", ""),    # just below -> level 1
        ("B003", "1975-03-01", "2005-01-01", "", "120000", "", ""),       # -> 3
        ("B004", "1970-07-07", "2000-02-02", "", "160000.00", "", ""),    # -> 4
        ("B005", "1965-12-31", "1995-12-31", "", "275000", "0.10", ""),   # -> 5
        ("B006", "1984-02-29", "2012-02-29", "", "65000", "", ""),        # leap-day birth and hire
        ("B007", "2000-06-30", "2024-12-31", "", "50000", "", ""),        # hired on the census date: tenure 0
        ("B008", "1999-01-01", "2024-01-01", "", "55000", "", "1"),       # hired on the default cutoff date
        ("B009", "1990-05-05", "2015-05-05", "2024-12-31", "70000", "", "1"),  # left on the census date: not active
        ("B010", "1991-05-05", "2016-05-05", "2024-06-30", "70000", "", "1"),  # left earlier: not active
        ("B011", "1960-11-11", "1990-11-11", "", "450000", "0.15", ""),   # above every hiring range -> 5
    ]
    rng = random.Random(99)
    r += [person(rng, i, rng.randint(25, 60), rng.randint(0, 20), prefix="B", with_level=False)
          for i in range(20, 60)]
    return CensusSpec.literal("boundaries", r)


def hire_shaped_ids() -> CensusSpec:
    """Census ids that look like the ids the simulation gives its hires: hires must get other ids."""
    rng = random.Random(7)
    taken = ["NH_2025_000001", "NH_2025_000002", "NH_2025_000004", "NH_2026_000001", "NH_2027_000003"]
    r = [person(rng, i, rng.randint(25, 60), rng.randint(1, 20)) for i in range(1, 60)]
    r += [(employee_id, *person(rng, 0, 40, 10)[1:]) for employee_id in taken]
    r.append(("NH_2025_000003", "1980-01-01", "2010-01-01", "2024-05-31", "60000", "", "1"))  # left before
    return CensusSpec.literal("hire_ids", r)


def single() -> CensusSpec:
    return CensusSpec.literal("single", [("ONLY1", "1984-05-20", "2014-09-01", "", "100000", "", "2")])


SCENARIOS = {
    "very_old": SimSpec.make(build("very_old", 60, (64, 80), (0, 40), 1), end_year=2027),
    "very_young": SimSpec.make(build("very_young", 60, (18, 22), (0, 3), 2), end_year=2027),
    "one_level": SimSpec.make(build("one_level", 80, (25, 60), (0, 25), 3, level=3), end_year=2027),
    "tiny_7": SimSpec.make(build("tiny_7", 7, (25, 60), (0, 25), 4), end_year=2027),
    "single": SimSpec.make(single(), end_year=2027),
    "boundaries": SimSpec.make(boundary_census(), end_year=2027),
    "shrinking": SimSpec.make(CensusSpec.generated(300, 5), end_year=2027, **{"simulation.target_growth_rate": -0.2}),
    "hire_ids": SimSpec.make(hire_shaped_ids(), end_year=2027),
}


@pytest.fixture(scope="module")
def prefetched(sims, request):
    # the parametrized test names every scenario it needs; the other tests reuse those runs (or start theirs)
    wanted = selected_params(request, "test_unusual_census")
    specs = [spec for name, spec in SCENARIOS.items() if name in wanted]
    sims.prefetch(specs)
    yield sims
    sims.wait(specs)


@pytest.fixture
def open_run(prefetched):
    opened = []

    def _open(name):
        run = prefetched.get(SCENARIOS[name])
        assert run.result["success"], run.result
        assert run.result["completed_years"] == YEARS, run.result
        con = run.connect()
        opened.append(con)
        return con

    yield _open
    for con in opened:
        con.close()


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_core_invariants_hold(open_run, name):
    """The whole shared invariant set (workforce and money, helpers/invariants.py) on each edge census."""
    con = open_run(name)
    assert invariant_problems(con, YEARS, SCENARIOS[name].config()) == {}
    # every year has a snapshot, and the hire level mix is the largest-remainder split
    assert [r[0] for r in rows(con, "select distinct simulation_year from fct_workforce_snapshot order by 1")] == YEARS
    hires = dict(rows(con, "select simulation_year, total_hires from int_workforce_requirements"))
    for year in YEARS:
        got = dict(rows(con, f"""select to_level, count(*) from fct_yearly_events
                                 where simulation_year = {year} and event_type = 'hire' group by 1"""))
        assert got == {k: v for k, v in largest_remainder(hires[year]).items() if v}, year


def test_very_old_workforce(open_run):
    con = open_run("very_old")
    assert scalar(con, "select count(*) from int_baseline_workforce") == 60
    assert scalar(con, "select min(current_age) from int_baseline_workforce") >= 64
    # more retirements than the quota round_half_up(60 * 0.12) = 7: they replace it, and the year still ends at target
    first = rows(con, """select experienced_terminations, retirements, total_experienced_terminations,
                                hazard_terminations, target_end_headcount
                         from int_workforce_requirements where simulation_year = 2025""")[0]
    assert first[0] == 7 and first[1] > 7 and first[2] == first[1] and first[3] == 0 and first[4] == 62
    # the oldest band exists and ages keep growing: an 80-year-old is 83 at the end of 2027 if still there
    assert scalar(con, "select count(*) from fct_workforce_snapshot where age_band = '65+'") > 0
    assert scalar(con, """select count(*) from fct_workforce_snapshot s join int_baseline_workforce b using (employee_id)
                          where s.current_age <> b.current_age + s.simulation_year - 2024""") == 0


def test_very_young_workforce_eligibility_by_age(open_run):
    con = open_run("very_young")
    found = rows(con, """select s.employee_id, s.simulation_year, s.employee_birth_date, s.employee_hire_date,
                                s.eligibility_date, b.is_enrolled
                         from fct_workforce_snapshot s join int_baseline_workforce b using (employee_id)""")
    assert found
    for emp, _year, birth, hired, elig, census_participant in found:
        by_rules = max(hired + timedelta(days=30), date(birth.year + 21, birth.month, birth.day))
        # census participants count as eligible from the census date at the latest (docs/domain.md step 8)
        assert elig == (min(by_rules, date(2024, 12, 31)) if census_participant else by_rules), emp
    # participants under 21 at the census date: enrolled and eligible in every year
    assert scalar(con, """select count(*) from int_baseline_workforce where is_enrolled and current_age < 21""") >= 5
    assert scalar(con, "select count(*) from fct_workforce_snapshot where is_enrolled and not is_eligible") == 0
    # several census employees turn 21 during the simulation: an eligibility event on that birthday
    turned = rows(con, """select e.employee_id, e.effective_date, s.employee_birth_date from fct_yearly_events e
                          join fct_workforce_snapshot s using (employee_id, simulation_year)
                          where e.event_type = 'eligibility' and not starts_with(e.employee_id, 'NH_')""")
    assert len(turned) >= 5
    assert all(day == date(birth.year + 21, birth.month, birth.day) for _, day, birth in turned)
    # nobody enrolls before 21
    assert scalar(con, """select count(*) from fct_yearly_events e join fct_workforce_snapshot s
                          using (employee_id, simulation_year)
                          where e.event_type = 'enrollment'
                            and e.effective_date < cast(s.employee_birth_date + to_years(21) as date)""") == 0


def test_one_level_workforce(open_run):
    con = open_run("one_level")
    assert rows(con, "select distinct level_id from int_baseline_workforce") == [(3,)]
    assert scalar(con, """select count(*) from fct_yearly_events where event_type = 'promotion'
                          and not (from_level + 1 = to_level and to_level <= 5)""") == 0
    # in the first year only the census (all level 3) can be promoted: to level 4
    assert rows(con, """select distinct from_level, to_level from fct_yearly_events
                        where event_type = 'promotion' and simulation_year = 2025""") in ([], [(3, 4)])
    # hires still follow the mix: more than one level among them
    assert scalar(con, "select count(distinct to_level) from fct_yearly_events where event_type = 'hire'") >= 3


def test_tiny_census(open_run):
    con = open_run("tiny_7")
    req = rows(con, """select simulation_year, start_headcount, target_end_headcount, total_experienced_terminations,
                              total_hires, new_hire_terminations, retirements
                       from int_workforce_requirements order by 1""")
    assert req[0][1] == 7
    for year, n, target, q_exp, hires, q_nh, retired in req:
        exp = expected_requirements(n, 0.03, 0.12, 0.25, retired)
        assert (target, q_exp, hires, q_nh) == (exp["target_end_headcount"], exp["total_experienced_terminations"],
                                                exp["total_hires"], exp["new_hire_terminations"]), year


def test_single_employee(open_run):
    con = open_run("single")
    req = rows(con, """select start_headcount, target_end_headcount, total_experienced_terminations, total_hires,
                              new_hire_terminations from int_workforce_requirements order by simulation_year""")
    # round_half_up(1 * 1.03) = 1, round_half_up(0.12) = 0: nobody leaves, nobody is hired
    assert req == [(1, 1, 0, 0, 0)] * 3
    snap = rows(con, """select simulation_year, employee_id, detailed_status_code, current_age, current_tenure
                        from fct_workforce_snapshot order by 1""")
    assert snap == [(2025, "ONLY1", "continuous_active", 41, 11), (2026, "ONLY1", "continuous_active", 42, 12),
                    (2027, "ONLY1", "continuous_active", 43, 13)]
    # one merit raise a year; pay only goes up and carries from year to year
    pay = rows(con, """select simulation_year, event_type, previous_compensation, compensation_amount
                       from fct_yearly_events where event_type in ('raise', 'promotion')
                       order by simulation_year, event_sequence""")
    assert [r[0] for r in pay if r[1] == "raise"] == YEARS
    assert pay[0][2] == 100000
    assert all(later[2] == earlier[3] for earlier, later in zip(pay, pay[1:]))
    assert all(r[3] > r[2] for r in pay)


def test_band_boundaries_and_census_date_edges(open_run):
    con = open_run("boundaries")
    levels = dict(rows(con, "select employee_id, level_id from int_baseline_workforce where length(employee_id) = 4"))
    assert levels == {"B001": 2, "B002": 1, "B003": 3, "B004": 4, "B005": 5, "B006": 1, "B007": 1, "B008": 1,
                      "B011": 5}
    # terminated on or before the census date: not in the baseline, never in a snapshot
    assert scalar(con, "select count(*) from fct_workforce_snapshot where employee_id in ('B009', 'B010')") == 0
    # hired on the census date: tenure 0 at the start of 2025 -> no merit and no promotion in 2025
    assert scalar(con, """select count(*) from fct_yearly_events where employee_id = 'B007' and simulation_year = 2025
                          and event_type in ('raise', 'promotion')""") == 0
    assert rows(con, """select current_tenure, eligibility_date from fct_workforce_snapshot
                        where employee_id = 'B007' and simulation_year = 2025""") == [(1, date(2025, 1, 30))]
    # the leap-day employee's age and tenure stay day-exact
    for year, age, tenure in rows(con, """select simulation_year, current_age, current_tenure from fct_workforce_snapshot
                                          where employee_id = 'B006'"""):
        assert (age, tenure) == (completed_years(date(1984, 2, 29), date(year, 12, 31)),
                                 completed_years(date(2012, 2, 29), date(year, 12, 31)))


def test_shrinking_workforce(open_run):
    con = open_run("shrinking")
    req = rows(con, """select simulation_year, start_headcount, target_end_headcount, experienced_terminations,
                              additional_terminations, total_experienced_terminations, total_hires, new_hire_terminations,
                              retirements
                       from int_workforce_requirements order by 1""")
    previous = None
    for _year, n, target, q_exp, extra, q_total, hires, q_nh, retired in req:
        exp = expected_requirements(n, -0.2, 0.12, 0.25, retired)
        assert target == exp["target_end_headcount"] == int(n * 0.8 + 0.5)
        assert (hires, q_nh) == (0, 0)
        assert extra == n - max(q_exp, retired) - target > 0 and q_total == max(q_exp, retired) + extra
        if previous is not None:
            assert n == previous
        previous = target
    counts = rows(con, """select simulation_year,
                                 count(*) filter (where event_category in ('experienced_termination', 'retirement')),
                                 count(*) filter (where event_type = 'hire'),
                                 count(*) filter (where event_category = 'new_hire_termination')
                          from fct_yearly_events group by 1 order by 1""")
    assert counts == [(r[0], r[5], 0, 0) for r in req]
    assert scalar(con, "select count(*) from fct_workforce_snapshot where starts_with(employee_id, 'NH_')") == 0


def test_hires_never_take_a_census_id(open_run):
    con = open_run("hire_ids")
    census = {r[0] for r in rows(con, "select employee_id from raw.census")}
    hires = rows(con, "select simulation_year, employee_id from fct_yearly_events where event_type = 'hire' order by 2")
    assert hires and not census & {h for _, h in hires}
    assert len({h for _, h in hires}) == len(hires)
    total = dict(rows(con, "select simulation_year, total_hires from int_workforce_requirements"))
    for year in YEARS:
        ids = [h for y, h in hires if y == year]
        # the census can collide: the unguarded scheme (NH_<year>_000001 .. H) would give a census id every year
        unguarded = {f"NH_{year}_{n:06d}" for n in range(1, total[year] + 1)}
        assert unguarded & census, year
        free = [f"NH_{year}_{n:06d}" for n in range(1, len(ids) + len(census) + 1)
                if f"NH_{year}_{n:06d}" not in census]
        # the first free numbers, in order: 2025 skips 1-4, 2026 skips 1, 2027 skips 3
        assert len(ids) == total[year] and ids == free[:len(ids)], year
