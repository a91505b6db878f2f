"""The foundation (census -> baseline workforce) against counts computed independently in Python,
and a second foundation that replaces its own tables and keeps the user's."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pytest

from helpers.common import completed_years as whole_years
from planwise_core.census import generate_census
from planwise_core.config import PlanwiseConfig
from planwise_core.orchestrator import Simulation
from planwise_core.manager import get_plugin_manager

CENSUS_DATE = date(2024, 12, 31)
AGE_BANDS = ((25, "<25"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64"), (10_000, "65+"))
TENURE_BANDS = ((2, "<2"), (5, "2-4"), (10, "5-9"), (20, "10-19"), (10_000, "20+"))
LEVEL_FLOORS = ((275_000, 5), (160_000, 4), (120_000, 3), (80_000, 2), (0, 1))


def completed_years(since: date, on: date = CENSUS_DATE) -> int:
    return whole_years(since, on)


def band(value: int, bands) -> str:
    return next(label for upper, label in bands if value < upper)


def level_of(row: dict) -> int:
    if row["level_id"].strip():
        return int(row["level_id"])
    salary = float(row["employee_gross_compensation"])
    return next(level for floor, level in LEVEL_FLOORS if salary >= floor)


def expected_baseline(census: Path) -> Counter:
    """(level_id, age_band, tenure_band) -> actives, straight from the census file."""
    counts = Counter()
    with census.open(newline="") as handle:
        for row in csv.DictReader(handle):
            term = row["employee_termination_date"].strip()
            if term and date.fromisoformat(term) <= CENSUS_DATE:
                continue
            age = completed_years(date.fromisoformat(row["employee_birth_date"]))
            tenure = completed_years(date.fromisoformat(row["employee_hire_date"]))
            counts[level_of(row), band(age, AGE_BANDS), band(tenure, TENURE_BANDS)] += 1
    return counts


def baseline_counts(database: Path) -> Counter:
    with duckdb.connect(str(database), read_only=True) as con:
        return Counter({tuple(key): n for *key, n in con.execute(
            "select level_id, age_band, tenure_band, count(*) from int_baseline_workforce group by all").fetchall()})


def margin(counts: Counter, dimension: int) -> Counter:
    totals = Counter()
    for key, n in counts.items():
        totals[key[dimension]] += n
    return totals


def rewrite(source: Path, target: Path, keep_rows: int | None = None) -> Path:
    """Copy a census; blank level_id on every third row (derived from salary) and keep the
    stated level on the others, even where it disagrees with the salary band on every seventh."""
    with source.open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)[:keep_rows]
    for i, row in enumerate(rows):
        if i % 3 == 0:
            row["level_id"] = ""
        elif i % 7 == 0:
            row["level_id"] = str(int(row["level_id"]) % 5 + 1)
    with target.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return target


@pytest.fixture(scope="module")
def foundations(tmp_path_factory) -> dict:
    """Foundation on 1,000 employees; then the user adds a table, and a second foundation
    on the first 900 of them runs over the same database."""
    folder = tmp_path_factory.mktemp("foundation")
    generated = generate_census(1000, 11, folder / "generated.csv")
    first_census = rewrite(generated, folder / "census_1000.csv")
    second_census = rewrite(generated, folder / "census_900.csv", keep_rows=900)
    database = folder / "foundation.duckdb"

    def foundation(census: Path):
        pm = get_plugin_manager(load_entrypoints=False)
        return Simulation(PlanwiseConfig(), database, census=census, pm=pm).foundation_only()

    first = foundation(first_census)
    after_first = baseline_counts(database)
    with duckdb.connect(str(database)) as con:
        con.execute("create table main.my_notes as select 'keep me' as note")
        # Duplicate the baseline: a foundation that appended instead of replacing would keep these.
        con.execute("insert into int_baseline_workforce select * from int_baseline_workforce")
    second = foundation(second_census)
    return {"db": database, "first": first, "second": second, "after_first": after_first,
            "censuses": (first_census, second_census)}


@pytest.mark.slow
def test_baseline_matches_the_census_by_level_age_band_and_tenure_band(foundations):
    expected = expected_baseline(foundations["censuses"][0])
    actual = foundations["after_first"]

    for dimension, name in enumerate(("level_id", "age_band", "tenure_band")):
        assert margin(actual, dimension) == margin(expected, dimension), name
    assert actual == expected  # and every combination of the three
    assert foundations["first"].baseline_rows == sum(expected.values()) < 1000  # some were terminated
    assert {level for level, _, _ in expected} == {1, 2, 3, 4, 5}


@pytest.mark.slow
def test_foundation_reports_its_steps(foundations):
    """The default engine (compiled) runs the foundation's compiled SQL as one step; the optimized engine's three
    dbt steps are checked by tests/test_cli.py (`planwise --plugin optimized foundation --json`)."""
    result = foundations["first"]
    assert result.plugin == "compiled"
    assert [s.name for s in result.steps] == ["foundation"]
    assert all(s.seconds > 0 for s in result.steps)
    assert result.steps[0].rows == result.baseline_rows


@pytest.mark.slow
def test_second_foundation_replaces_its_tables(foundations):
    second_census = foundations["censuses"][1]
    assert baseline_counts(foundations["db"]) == expected_baseline(second_census)
    assert foundations["second"].baseline_rows == sum(expected_baseline(second_census).values())
    with duckdb.connect(str(foundations["db"]), read_only=True) as con:
        assert con.execute("select count(*) from raw.census").fetchone() == (900,)
        assert con.execute("select count(*) = count(distinct employee_id) from int_baseline_workforce").fetchone() \
            == (True,)


@pytest.mark.slow
def test_second_foundation_keeps_the_users_own_table(foundations):
    with duckdb.connect(str(foundations["db"]), read_only=True) as con:
        assert con.execute("select note from main.my_notes").fetchall() == [("keep me",)]
