"""`planwise employee` / employee_story: one employee's years agree with the money tables to the cent, and the rule
given beside each amount is the one that produced it (checked against the published IRS limits and the plan
formulas written out here), on the money invariants run (match, graded core, Roth, escalation, vesting)."""

from __future__ import annotations

import csv
import json
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

from helpers.sql import rows
from helpers.cli import planwise
from planwise_core.assumptions.spec import DEFAULTS_DIR
from planwise_core.outputs.employee import MONEY_COLUMNS, UnknownEmployeeError, employee_story
from test_money_invariants import SPEC

pytestmark = pytest.mark.slow

# The published limits (the built-in irs_limits table, read here as a plain CSV), whole dollars.
PUBLISHED = {int(r["limit_year"]): r for r in csv.DictReader(open(DEFAULTS_DIR / "irs_limits.csv"))}
MATCH_TIERS = ((Fraction(3, 100), Fraction(1)), (Fraction(5, 100), Fraction(1, 2)))  # the default formula
GRADED_4 = {0: 0, 1: 2500, 2: 5000, 3: 7500, 4: 10000}  # years of service -> vested basis points
GRADED_6 = {0: 0, 1: 0, 2: 2000, 3: 4000, 4: 6000, 5: 8000, 6: 10000}


@pytest.fixture(scope="module")
def run(sims):
    run = sims.get(SPEC)
    assert run.result["success"], run.result
    return run


@pytest.fixture(scope="module")
def con(run):
    con = run.connect()
    yield con
    con.close()


def first(con, where: str) -> tuple[str, int]:
    found = rows(con, f"""select c.employee_id, c.simulation_year from fct_dc_contributions c
                          join fct_workforce_snapshot s using (employee_id, simulation_year)
                          where {where} order by c.simulation_year, c.employee_id limit 1""")
    assert found, where
    return found[0]


@pytest.fixture(scope="module")
def cases(con) -> dict[str, tuple[str, int]]:
    return {
        "402g": first(con, "limit_402g_reached and catch_up_deferral = 0 and simulation_year <= 2026"),
        "catch_up": first(con, "catch_up_deferral > 0 and simulation_year <= 2026"),
        "leaver": first(con, "forfeited_amount > 0 and vested_amount > 0 and s.termination_date "
                             "< make_date(simulation_year, 12, 31) and age_dec31 < 65"),
        "415": first(con, "reduced_415"),
        "simple": first(con, """match_eligible and deferral_rate_boy = deferral_rate_eoy and deferral_rate_boy > 0
                                and not escalated and not limit_402g_reached and not comp_401a17_applied
                                and refunded_deferral = 0 and match_comp = deferral_comp and employment_status = 'active'
                                and s.employee_hire_date < make_date(simulation_year, 1, 1)"""),
    }


def cents(value) -> int:
    return int(Decimal(value) * 100)


def table_row(con, employee_id: str, year: int) -> dict:
    cur = con.execute("select * from fct_dc_contributions where employee_id = ? and simulation_year = ?",
                      [employee_id, year])
    return dict(zip([d[0] for d in cur.description], cur.fetchone()))


def test_every_year_event_and_amount_agrees_with_the_tables_to_the_cent(run, con, cases):
    sample = [r[0] for r in rows(con, "select distinct employee_id from fct_workforce_snapshot order by 1")][::60]
    for employee_id in sorted({*sample, *(c[0] for c in cases.values())}):
        story = employee_story(run.database, employee_id)
        years = [r[0] for r in rows(con, "select simulation_year from fct_workforce_snapshot where employee_id = ? "
                                         "order by 1", [employee_id])]
        assert [y.year for y in story.years] == years
        for year in story.years:
            table = table_row(con, employee_id, year.year)
            assert {c: year.money[c] for c in MONEY_COLUMNS} == {c: cents(table[c]) for c in MONEY_COLUMNS}
            assert [(a.column, a.cents) for a in year.amounts] == [(a.column, cents(table[a.column]))
                                                                   for a in year.amounts]
            assert {"employee_deferral", "employer_match", "employer_core"} <= {a.column for a in year.amounts}
            events = rows(con, "select event_id from fct_yearly_events where employee_id = ? and simulation_year = ? "
                               "order by event_sequence", [employee_id, year.year])
            assert [e.event_id for e in year.events] == [e[0] for e in events]
        assert json.loads(json.dumps(story.to_dict())) == story.to_dict()


def test_an_employee_at_the_402g_limit_is_told_the_published_limit(run, cases):
    employee_id, year = cases["402g"]
    story = employee_story(run.database, employee_id).year(year)
    limit = int(PUBLISHED[year]["elective_deferral_402g"]) * 100
    rules = story.rules
    assert rules["limit_402g"] == {"limit_cents": limit, "elective_limit_cents": limit, "reached": True,
                                   "table_cents": limit}
    assert story.money["employee_deferral"] == limit < story.money["requested_deferral"]
    assert rules["catch_up"]["kind"] == "under_50" and story.money["age_dec31"] < 50
    line = next(a for a in story.amounts if a.name == "employee deferral")
    assert f"the 402(g) limit ${limit // 100:,}.00" in line.rule and "(limit reached)" in line.rule
    assert story.limits["status"] == "published" and story.limits["source"] == PUBLISHED[year]["source"]


def test_a_catch_up_is_told_its_kind_and_the_published_amount(run, cases):
    employee_id, year = cases["catch_up"]
    story = employee_story(run.database, employee_id).year(year)
    age, published = story.money["age_dec31"], PUBLISHED[year]
    super_catch_up = 60 <= age <= 63 and year >= 2025
    expected = int(published["catch_up_60_63" if super_catch_up else "catch_up_50"]) * 100
    assert age >= 50
    assert story.rules["catch_up"] == {"kind": "age_60_63" if super_catch_up else "age_50", "age_dec31": age,
                                       "limit_cents": expected, "deferral_cents": story.money["catch_up_deferral"]}
    assert 0 < story.money["catch_up_deferral"] <= expected
    limit_402g = int(published["elective_deferral_402g"]) * 100
    assert story.rules["limit_402g"]["limit_cents"] == limit_402g
    assert story.rules["limit_402g"]["elective_limit_cents"] == limit_402g + expected
    line = next(a for a in story.amounts if a.name == "employee deferral").rule
    assert f"the 402(g) limit ${limit_402g // 100:,}.00 plus the age" in line
    assert f"= ${(limit_402g + expected) // 100:,}.00" in line
    assert story.money["employee_deferral"] - story.money["catch_up_deferral"] == \
        int(published["elective_deferral_402g"]) * 100


def test_a_leaver_is_told_the_vesting_that_split_vested_and_forfeited(run, con, cases):
    employee_id, year = cases["leaver"]
    story = employee_story(run.database, employee_id)
    y = story.year(year)
    table = table_row(con, employee_id, year)
    assert story.termination_date.year == year and any(e.type == "termination" for e in y.events)
    employer_money = sum(cents(table[c]) for c in ("match_balance_boy", "employer_match", "core_balance_boy",
                                                   "employer_core"))
    assert y.money["vested_amount"] + y.money["forfeited_amount"] == employer_money
    vesting = y.rules["vesting"]
    assert (vesting["match"]["schedule"], vesting["core"]["schedule"]) == ("graded_6", "graded_4")
    assert vesting["match"]["vested_bp"] == GRADED_6[min(table["vesting_service_years"], 6)]
    assert vesting["core"]["vested_bp"] == GRADED_4[min(table["hours_service_years"], 4)]
    assert vesting["core"]["steps"] == [{"years": k, "vested_bp": v} for k, v in GRADED_4.items()]
    text = story.text()
    assert f"{y.year}  terminated" in text and "forfeited amount" in text and "graded_4" in text


def test_a_415_correction_is_told_its_limit_and_the_refund(run, con, cases):
    employee_id, year = cases["415"]
    y = employee_story(run.database, employee_id).year(year)
    table = table_row(con, employee_id, year)
    (limit_415c,) = rows(con, "select annual_additions_415c from int_irs_limits_by_year where limit_year = ?", [year])[0]
    limit = min(limit_415c * 100, cents(table["plan_comp"]))  # the smaller of the 415(c) limit and plan pay
    assert y.rules["limit_415"]["limit_cents"] == limit
    # The correction stops at the largest whole cent with additions <= L (docs/plan_rules.md, R10): the match moves
    # in steps, so the additions land at most one cent's marginal cost (1 + the top match rate) below L.
    top_rate = max(tier.rate for tier in run.spec.config().plan.match.tiers)  # a fraction: 1.0 is 100 %
    one_cent_cost = 1 + int(top_rate + 0.999999)  # whole cents: 1 cent of deferral plus its match, rounded up
    assert limit - one_cent_cost <= y.money["annual_additions"] <= limit
    assert y.rules["limit_415"]["reduced"] and y.rules["limit_415"]["correction_order"] == "epcrs"
    assert y.money["refunded_deferral"] > 0
    named = {a.name: a.rule for a in y.amounts}
    assert "415(c) correction" in named["refunded deferral"] and "cut to the 415(c) limit" in named["annual additions"]


def half_up_cents(dollars: Fraction) -> int:
    return int((Decimal(dollars.numerator) / Decimal(dollars.denominator) * 100).quantize(Decimal(1), ROUND_HALF_UP))


def test_the_match_tiers_told_are_the_ones_that_produced_the_match(run, con, cases):
    """A full-year participant at one rate: match = Σ rate × the part of the rate inside the tier × match pay."""
    employee_id, year = cases["simple"]
    y = employee_story(run.database, employee_id).year(year)
    assert y.rules["match"]["tiers"] == [{"deferral_max_bp": 300, "rate_bp": 10000},
                                         {"deferral_max_bp": 500, "rate_bp": 5000}]
    table = table_row(con, employee_id, year)
    rate, pay, low, match = Fraction(str(table["deferral_rate_boy"])), Fraction(str(table["match_comp"])), 0, 0
    for high, tier_rate in MATCH_TIERS:
        match += tier_rate * min(max(rate - low, 0), high - low) * pay
        low = high
    assert y.money["employer_match"] == half_up_cents(match)
    core = y.rules["core"]
    assert core["band"]["rate_bp"] == core["rate_bp"] == int(Decimal(str(table["core_rate"])) * 10_000)


def test_the_command_prints_the_story_and_refuses_an_unknown_id(run, cases):
    employee_id, year = cases["402g"]
    story = employee_story(run.database, employee_id)
    text = planwise("employee", employee_id, "--database", run.database)
    assert text.returncode == 0, text.stderr
    assert text.stdout.strip() == story.text() and f"Employee {employee_id} in " in text.stdout
    as_json = planwise("employee", employee_id, "--database", run.database, "--json")
    assert json.loads(as_json.stdout) == story.to_dict()

    typo = employee_id.split("_")[-1].lstrip("0")  # "EMP_000100" -> "100"
    unknown = planwise("employee", typo, "--database", run.database)
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    assert f"No employee '{typo}' in {run.database.name}" in unknown.stderr
    assert employee_id in unknown.stderr and "snapshot.csv" in unknown.stderr
    with pytest.raises(UnknownEmployeeError, match="No employee 'nobody'"):
        employee_story(run.database, "nobody")
