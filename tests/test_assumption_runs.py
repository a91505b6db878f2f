"""Runs with replaced parameter tables and year-varying rates (issue 17): what a replaced table changes, what the
run log records, what `diff` names, and that both engines still write identical tables."""

from __future__ import annotations

import duckdb
import pytest
from helpers.invariants import round_half_up
from helpers.sql import rows

from planwise_core.assumptions.spec import DEFAULTS_DIR
from planwise_core.census import generate_census
from planwise_core.config import PlanwiseConfig
from planwise_core.orchestrator import Simulation
from planwise_core.outputs.diff import diff_databases, format_diff
from planwise_core.outputs.provenance import run_provenance

pytestmark = pytest.mark.slow
ONE_YEAR = {"simulation.end_year": 2025}
# Age band 35-44 terminates twice as often relative to the others: the quota stays, who fills it changes.
AGE_BANDS = (DEFAULTS_DIR / "age_bands.csv").read_text().replace("3,35-44,35,45,1.0,1.1", "3,35-44,35,45,4.0,1.1")


@pytest.fixture(scope="module")
def census(tmp_path_factory):
    return generate_census(400, 3, tmp_path_factory.mktemp("census") / "census.parquet")


@pytest.fixture(scope="module")
def hazard_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hazard")
    (folder / "age_bands.csv").write_text(AGE_BANDS)
    return folder


def _run(database, census, **overrides):
    result = Simulation(PlanwiseConfig().with_overrides(**overrides), database, census=census).run()
    assert result["success"], result["error"]
    return database


@pytest.fixture(scope="module")
def pair(tmp_path_factory, census, hazard_folder):
    folder = tmp_path_factory.mktemp("pair")
    return (_run(folder / "base.duckdb", census, **ONE_YEAR),
            _run(folder / "hazard.duckdb", census, assumptions=str(hazard_folder), **ONE_YEAR))


def _digest(con, table: str) -> list[tuple]:
    return rows(con, f"select * from {table} order by all")


def _terminated(con) -> list[str]:
    return [r[0] for r in rows(con, "select employee_id from fct_yearly_events where event_type = 'termination' "
                                    "and event_category = 'experienced_termination' order by 1")]


def test_a_replaced_hazard_table_changes_who_terminates_and_nothing_else(pair):
    base, hazard = (duckdb.connect(str(db), read_only=True) for db in pair)
    with base, hazard:
        assert _terminated(base) != _terminated(hazard)
        assert len(_terminated(base)) == len(_terminated(hazard)), "the quota does not depend on who fills it"
        # the other parameter tables, the requirements and the retirements (drawn before the hazard) are the same
        same = ["stg_job_levels", "stg_tenure_bands", "stg_promotion_hazard", "stg_retirement_rates",
                "int_workforce_requirements"]
        assert {t: _digest(base, t) for t in same} == {t: _digest(hazard, t) for t in same}
        retired = "select employee_id from fct_yearly_events where event_category = 'retirement' order by 1"
        assert rows(base, retired) == rows(hazard, retired)
        headcount = "select count(*) from fct_workforce_snapshot where employment_status = 'active'"
        assert rows(base, headcount) == rows(hazard, headcount)
        assert rows(hazard, "select termination_multiplier from stg_age_bands where age_band = '35-44'") == [(4.0,)]


def test_the_run_log_records_each_tables_hash_and_diff_names_the_changed_table(pair):
    with duckdb.connect(str(pair[0]), read_only=True) as a, duckdb.connect(str(pair[1]), read_only=True) as b:
        first, second = run_provenance(a), run_provenance(b)
    assert first["planwise_version"] and first["planwise_version"] == second["planwise_version"]
    assert not any(t["replaced"] for t in first["assumptions"].values())
    changed = [n for n in first["assumptions"] if first["assumptions"][n]["sha256"] != second["assumptions"][n]["sha256"]]
    assert changed == ["age_bands"]
    assert second["assumptions"]["age_bands"]["replaced"] and second["assumptions"]["age_bands"]["source"].endswith(
        "age_bands.csv")
    result = diff_databases(*pair)
    assert [t["table"] for t in result["assumptions"]["tables"]] == ["age_bands"]
    assert "Parameter tables differences (1):\n  age_bands: sha256" in format_diff(result)


def test_year_varying_growth_ends_each_year_at_its_own_target(tmp_path, census):
    growth = {2025: 0.10, 2026: -0.05, 2027: 0.02}
    database = _run(tmp_path / "growth.duckdb", census, **{"simulation.end_year": 2027,
                                                           "simulation.target_growth_rate": growth})
    with duckdb.connect(str(database), read_only=True) as con:
        got = rows(con, """select r.simulation_year, r.start_headcount, r.target_growth_rate, r.target_end_headcount,
                                  count(*) filter (where s.employment_status = 'active')
                           from int_workforce_requirements r join fct_workforce_snapshot s using (simulation_year)
                           group by all order by 1""")
    assert [g[0] for g in got] == [2025, 2026, 2027]
    for year, start, rate, target, active in got:
        assert float(rate) == growth[year]
        assert target == round_half_up(start * (1 + growth[year])) == active, year


# Both engines with a replaced table: tests/test_engines.py runs the suite's one legacy comparison with this
# hazard table replaced (one legacy run serves every engine check; the legacy engine is slow).


def test_a_batch_of_two_scenarios_with_their_own_tables_equals_two_single_runs(tmp_path, census):
    import json
    import subprocess

    import yaml

    from planwise_core.outputs.compare import all_identical
    from helpers.common import compare_outputs
    from test_assumptions import PLANWISE

    for name, table, text in (("tables_a", "age_bands", AGE_BANDS),
                              ("tables_b", "job_levels", (DEFAULTS_DIR / "job_levels.csv").read_text()
                               .replace("0.0325", "0.0500"))):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{table}.csv").write_text(text)
    one_year = {"simulation": {"end_year": 2025}}
    (tmp_path / "scenarios.yaml").write_text(yaml.safe_dump({"census": str(census), "scenarios": [
        {"name": "a", "overrides": one_year, "assumptions": "tables_a"},       # relative to the batch file
        {"name": "b", "overrides": one_year, "assumptions": {"folder": "tables_b"}}]}))
    batch = subprocess.run([str(PLANWISE), "batch", "scenarios.yaml", "--output", "out", "--json"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=600)
    assert batch.returncode == 0, batch.stderr[-3000:]
    assert [r["status"] for r in json.loads(batch.stdout)["runs"]] == ["completed", "completed"]
    for name, folder, table in (("a", "tables_a", "age_bands"), ("b", "tables_b", "job_levels")):
        alone = _run(tmp_path / f"alone_{name}.duckdb", census, assumptions=str(tmp_path / folder), **ONE_YEAR)
        in_batch = tmp_path / "out" / "runs" / name / "seed-42" / "simulation.duckdb"
        comparison = compare_outputs(alone, in_batch)
        assert all_identical(comparison), (name, comparison)
        with duckdb.connect(str(in_batch), read_only=True) as con:
            assert [n for n, t in run_provenance(con)["assumptions"].items() if t["replaced"]] == [table]
    with duckdb.connect(str(tmp_path / "out" / "batch.duckdb"), read_only=True) as con:
        assert rows(con, "select scenario, replaced_tables from batch_scenarios order by 1") == [
            ("a", ["age_bands"]), ("b", ["job_levels"])]
    assert "parameter tables replaced" in (tmp_path / "out" / "report.html").read_text()


def test_continuing_a_projection_with_other_tables_is_refused_naming_them(tmp_path, pair, census, hazard_folder):
    import shutil

    from planwise_core.errors import PlanwiseError

    database = tmp_path / "base.duckdb"
    shutil.copyfile(pair[0], database)
    before = database.read_bytes()
    config = PlanwiseConfig().with_overrides(assumptions=str(hazard_folder), **{"simulation.start_year": 2026,
                                                                                "simulation.end_year": 2026})
    with pytest.raises(PlanwiseError, match=r"made with other parameter tables \(age_bands differ\)"):
        Simulation(config, database, census=census).run()
    assert database.read_bytes() == before
