"""`planwise census profile`: the census as the baseline sees it, equal to the foundation's int_baseline_workforce
and to a computation made here from the CSV with the domain's bands and levels."""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import attrs
import duckdb
import pytest

from helpers.common import completed_years
from helpers.sims import CENSUS_COLUMNS
from test_cli import planwise

from planwise_core.census.profile import baseline_profile, format_profile, profile_census
from planwise_core.config import PlanwiseConfig
from planwise_core.errors import CensusError
from planwise_core.manager import get_plugin_manager
from planwise_core.orchestrator import Simulation

# A census date other than the default, given to the run through the configuration.
CENSUS_DATE = date(2024, 6, 30)
AGE_BANDS = ((25, "<25"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64"), (10_000, "65+"))
TENURE_BANDS = ((2, "<2"), (5, "2-4"), (10, "5-9"), (20, "10-19"), (10_000, "20+"))
LEVEL_FLOORS = ((275_000, 5), (160_000, 4), (120_000, 3), (80_000, 2), (0, 1))
LEVEL_NAMES = {1: "Staff", 2: "Manager", 3: "Senior Manager", 4: "Director", 5: "VP"}
PERCENTILES = {"p10": Decimal("0.10"), "p25": Decimal("0.25"), "p50": Decimal("0.50"), "p75": Decimal("0.75"),
               "p90": Decimal("0.90")}
CENT = Decimal("0.01")


def write_census(path: Path) -> Path:
    """300 rows: every age and tenure band, salaries on band edges, level_id given or not, leavers on both
    sides of the census date, several deferral rates."""
    rng = random.Random(5)
    edges = ["80000.00", "79999.99", "120000.00", "160000.00", "275000.00", "45000.00"]
    rows = []
    for i in range(300):
        age = rng.randint(19, 78)
        birth = date(CENSUS_DATE.year - age, rng.randint(1, 12), rng.randint(1, 28))
        hire = date(rng.randint(birth.year + 18, CENSUS_DATE.year - 1), rng.randint(1, 12), rng.randint(1, 28))
        if i % 11 == 0:
            hire = CENSUS_DATE  # tenure 0
        left = ""
        if i % 13 == 0:
            left = date(2024, rng.choice([1, 6, 9]), 30).isoformat()  # before, on or after the census date
        salary = edges[i % len(edges)] if i % 9 == 0 else f"{rng.uniform(40_000, 380_000):.2f}"
        level = str(rng.randint(1, 5)) if i % 4 == 0 else ""
        deferral = rng.choice(["", "0", "0.03", "0.06", "0.06", "0.1", "0.045"])
        rows.append((f"P{i:04d}", birth.isoformat(), hire.isoformat(), left, salary, deferral, level))
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CENSUS_COLUMNS)
        writer.writerows(rows)
    return path


def band(value: int, bands) -> str:
    return next(label for upper, label in bands if value < upper)


def percentile(values: list[Decimal], p: Decimal) -> Decimal:
    h = (len(values) - 1) * p
    low = int(h)
    high = min(low + 1, len(values) - 1)
    return (values[low] + (values[high] - values[low]) * (h - low)).quantize(CENT, ROUND_HALF_UP)


def expected_profile(census: Path) -> dict:
    """The profile computed from the CSV with the csv module and the domain's constants."""
    actives = []
    with census.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["employee_termination_date"] and date.fromisoformat(row["employee_termination_date"]) <= CENSUS_DATE:
                continue
            salary = Decimal(row["employee_gross_compensation"])
            level = int(row["level_id"]) if row["level_id"] else next(lv for floor, lv in LEVEL_FLOORS if salary >= floor)
            actives.append((band(completed_years(date.fromisoformat(row["employee_birth_date"]), CENSUS_DATE), AGE_BANDS),
                            band(completed_years(date.fromisoformat(row["employee_hire_date"]), CENSUS_DATE), TENURE_BANDS),
                            level, salary, Decimal(row["employee_deferral_rate"] or 0)))
    pay = {lv: sorted(a[3] for a in actives if a[2] == lv) for lv in LEVEL_NAMES}
    deferrals = Counter(a[4] for a in actives if a[4] > 0)
    return {
        "actives": len(actives),
        "age_bands": {label: sum(a[0] == label for a in actives) for _, label in AGE_BANDS},
        "tenure_bands": {label: sum(a[1] == label for a in actives) for _, label in TENURE_BANDS},
        "levels": [(lv, name, len(pay[lv]), sum(pay[lv]), (sum(pay[lv]) / len(pay[lv])).quantize(CENT, ROUND_HALF_UP),
                    {k: percentile(pay[lv], p) for k, p in PERCENTILES.items()}) for lv, name in LEVEL_NAMES.items()],
        "enrolled": sum(deferrals.values()),
        "deferral_rates": dict(sorted(deferrals.items())),
    }


@pytest.fixture(scope="module")
def census(tmp_path_factory) -> Path:
    return write_census(tmp_path_factory.mktemp("profile") / "census.csv")


@pytest.fixture(scope="module")
def config_file(census) -> Path:
    path = census.parent / "config.yaml"
    path.write_text(f"simulation: {{start_year: 2025, end_year: 2025, census_date: '{CENSUS_DATE}'}}\n"
                    "workforce: {total_termination_rate: 0.12}\nrandom_seed: 42\n")
    return path


@pytest.fixture(scope="module")
def foundation_db(census) -> Path:
    config = PlanwiseConfig().with_overrides(**{"simulation.end_year": 2025,
                                                "simulation.census_date": CENSUS_DATE.isoformat()})
    database = census.parent / "foundation.duckdb"
    Simulation(config, database, census=census, pm=get_plugin_manager(load_entrypoints=False)).foundation_only()
    return database


def test_profile_equals_an_independent_computation_from_the_file(census):
    profile = profile_census(census, CENSUS_DATE)
    expected = expected_profile(census)
    assert profile.rows == 300 and 0 < profile.actives == expected["actives"] < 300
    assert profile.age_bands == expected["age_bands"] and min(profile.age_bands.values()) > 0
    assert profile.tenure_bands == expected["tenure_bands"] and min(profile.tenure_bands.values()) > 0
    got_levels = [(lv.level_id, lv.level_name, lv.actives, lv.payroll, lv.mean_pay, lv.percentiles)
                  for lv in profile.levels]
    assert got_levels == expected["levels"]
    assert profile.enrolled == expected["enrolled"]
    assert profile.deferral_rates == expected["deferral_rates"]
    assert len(profile.deferral_rates) == 4  # 0.03, 0.045, 0.06, 0.1; "" and 0 are not enrolled
    assert profile.participation_pct == (Decimal(100 * expected["enrolled"]) / expected["actives"]).quantize(
        CENT, ROUND_HALF_UP)


def test_profile_equals_the_foundation_baseline(census, foundation_db):
    from_file = profile_census(census, CENSUS_DATE)
    with duckdb.connect(str(foundation_db), read_only=True) as con:
        from_run = baseline_profile(con, CENSUS_DATE)
        assert con.execute("select count(*) from int_baseline_workforce").fetchone()[0] == from_file.actives
    assert attrs.evolve(from_file, source="", rows=None, warnings=()) == attrs.evolve(from_run, source="")


def test_the_report_profile_carries_the_files_rows_dropped_rows_and_warnings(census, foundation_db):
    from planwise_core.census.profile import report_profile

    from_file = profile_census(census, CENSUS_DATE)
    with duckdb.connect(str(foundation_db), read_only=True) as con:
        shown = report_profile(con)
    assert (shown["rows"], shown["dropped"], shown["actives"]) == (from_file.rows, 0, from_file.actives)
    assert shown["warnings"] == list(from_file.warnings)


def test_profile_follows_the_census_date(census):
    # a year earlier, people hired since are not employees yet: the census is refused as a run would refuse it
    with pytest.raises(CensusError, match="hire date is after the census date 2023-06-30"):
        profile_census(census, date(2023, 6, 30))
    later = profile_census(census, date(2024, 12, 31))
    assert later.actives < profile_census(census, CENSUS_DATE).actives  # the September leavers are gone


def test_cli_prints_the_profile_as_text_and_json(census, config_file, tmp_path):
    profile = profile_census(census, CENSUS_DATE)
    as_json = planwise("--config", config_file, "census", "profile", census, "--json", cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == json.loads(json.dumps(profile.to_dict()))
    text = planwise("census", "profile", census, "--census-date", CENSUS_DATE.isoformat(), cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert text.stdout.strip() == format_profile(profile)
    for heading in ("Actives by age band", "Actives by tenure band", "Actives and annual pay by level",
                    "Participation:", "Validation warnings:"):
        assert heading in text.stdout


def test_cli_refuses_an_invalid_census_with_one_message(census, tmp_path):
    bad = tmp_path / "bad.csv"
    lines = census.read_text().splitlines()
    fields = lines[3].split(",")
    lines[3] = ",".join([*fields[:4], "-5", *fields[5:]])  # a negative salary on line 4
    bad.write_text("\n".join(lines) + "\n")
    proc = planwise("census", "profile", bad, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"Error: Census {bad} is invalid") and "line 4" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert "--on-invalid-rows drop" in proc.stderr  # the way out it names exists on this command

    dropped = planwise("census", "profile", bad, "--on-invalid-rows", "drop", "--json", cwd=tmp_path)
    assert dropped.returncode == 0, dropped.stderr
    whole = json.loads(planwise("census", "profile", census, "--json", cwd=tmp_path).stdout)
    profile = json.loads(dropped.stdout)
    assert (profile["rows"], profile["dropped"]) == (whole["rows"], 1) and whole["dropped"] == 0
    # The dropped row (an active, line 4) is not profiled; what a run would simulate is.
    assert profile["actives"] == whole["actives"] - 1
    text = planwise("census", "profile", bad, "--on-invalid-rows", "drop", cwd=tmp_path).stdout
    assert "1 invalid rows dropped, not profiled" in text
