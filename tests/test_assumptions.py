"""Parameter tables as inputs (issue 17): validation all at once naming rows, canonical hashes, the config's
``assumptions:`` key, year-varying rates and the command line's --set/--years. No simulation runs here."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from planwise_core.assumptions import AssumptionsError, builtin_hashes, resolve_assumptions
from planwise_core.assumptions.spec import DEFAULTS_DIR, REPLACEABLE, TABLES
from planwise_core.config import PlanwiseConfig, load_config
from planwise_core.config.validate import config_from_dict
from planwise_core.errors import ConfigError

PLANWISE = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "planwise"
JOB_LEVELS = (DEFAULTS_DIR / "job_levels.csv").read_text()


def folder_with(tmp_path: Path, **tables: str) -> Path:
    folder = tmp_path / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


def problems(config: PlanwiseConfig) -> list[str]:
    with pytest.raises(AssumptionsError) as err:
        resolve_assumptions(config)
    assert "nothing was written" in str(err.value)
    return err.value.problems


def test_every_builtin_table_is_valid_and_the_vesting_presets_are_fixed():
    tables = resolve_assumptions(PlanwiseConfig())
    assert set(tables.tables) == set(TABLES)
    assert tables.replaced() == []
    assert "vesting_schedules" not in REPLACEABLE
    assert all(p["source"] == "built-in" for p in tables.provenance().values())


def test_a_job_level_table_with_a_gap_and_an_overlap_is_refused_naming_the_rows(tmp_path):
    # level 2 starts above level 1's top (gap), level 4 starts below level 3's top (overlap)
    text = JOB_LEVELS.replace("2,Manager,80000,", "2,Manager,85000,").replace("4,Director,160000,", "4,Director,150000,")
    folder = folder_with(tmp_path, job_levels=text)
    found = problems(PlanwiseConfig().with_overrides(assumptions=str(folder)))
    assert len(found) == 2, found
    gap, overlap = found
    assert "line 2 and line 3 (Staff, Manager): gap between max_salary 80000" in gap and "min_salary 85000" in gap
    assert "line 4 and line 5 (Senior Manager, Director): overlap" in overlap
    assert all(str(folder / "job_levels.csv") in p for p in found)


def test_every_problem_of_every_table_at_once(tmp_path):
    folder = folder_with(
        tmp_path,
        age_bands="age_band_id,age_band,min_age,max_age,termination_multiplier,promotion_multiplier\n"
                  "1,<30,0,30,abc,1\n2,30+,30,200,1,-1\n",
        new_hire_age_distribution="age,share\n25,0.5\n35,0.4\n",
        retirement_rate="age_range,min_age,max_age,retirement_rate\n",   # a typo in the file name
        vesting_schedules="schedule,service_years,vested_fraction\nimmediate,0,1\n",
        promotion_hazard="base_rate,min_raise,max_raise,effective_month\n10,0.1,0.2,2\n")
    found = "\n".join(problems(PlanwiseConfig().with_overrides(assumptions=str(folder))))
    assert "age_bands.csv: line 2: termination_multiplier must be a number (got 'abc')" in found
    assert "age_bands.csv: line 3: promotion_multiplier must be in [0, 100] (got -1)" in found
    assert "share must sum to 1 ± 0.001 over the table's rows (got 0.9)" in found
    assert "no parameter table is called 'retirement_rate' (did you mean 'retirement_rates'?)" in found
    assert "vesting_schedules is fixed structure and cannot be replaced" in found
    assert "promotion_hazard.csv: missing column(s) effective_day" in found


def test_a_percentage_where_a_fraction_is_meant_gets_a_hint(tmp_path):
    folder = folder_with(tmp_path, new_hire_age_distribution="age,share\n25,50\n35,50\n")
    found = problems(PlanwiseConfig().with_overrides(assumptions=str(folder)))
    assert found == [f"{folder / 'new_hire_age_distribution.csv'}: line 2: share must be in [0, 1] (got 50; did you "
                     "mean 0.5?)", f"{folder / 'new_hire_age_distribution.csv'}: line 3: share must be in [0, 1] "
                     "(got 50; did you mean 0.5?)"]


def test_the_hash_is_of_the_content_not_the_file_format(tmp_path):
    builtin = builtin_hashes()["job_levels"]
    lines = JOB_LEVELS.strip().split("\n")
    # rows in another order, trailing zeros, CRLF line ends and the seed's old name: the same table
    shuffled = "\r\n".join([lines[0]] + lines[:0:-1]).replace("0.0300", "0.03") + "\r\n"
    same = resolve_assumptions(PlanwiseConfig().with_overrides(
        assumptions=str(folder_with(tmp_path / "a", config_job_levels=shuffled))))
    assert same.tables["job_levels"].sha256 == builtin and same.replaced() == []
    changed = resolve_assumptions(PlanwiseConfig().with_overrides(
        assumptions=str(folder_with(tmp_path / "b", job_levels=JOB_LEVELS.replace("0.0325", "0.0330")))))
    assert changed.replaced() == ["job_levels"]
    assert changed.tables["job_levels"].sha256 != builtin
    assert {n: t.sha256 for n, t in changed.tables.items() if n != "job_levels"} == \
        {n: h for n, h in builtin_hashes().items() if n != "job_levels"}


def test_inline_tables_in_the_config_are_validated_with_their_key_path(tmp_path):
    good = [{"age": 30, "share": 0.6}, {"age": 40, "share": 0.4}]
    tables = resolve_assumptions(PlanwiseConfig().with_overrides(assumptions={"new_hire_age_distribution": good}))
    assert tables.replaced() == ["new_hire_age_distribution"]
    assert tables.tables["new_hire_age_distribution"].source == "inline (assumptions.new_hire_age_distribution)"
    bad = [{"age": 30, "share": 0.6}, {"age": "x", "share": 0.4}]
    found = problems(PlanwiseConfig().with_overrides(assumptions={"new_hire_age_distribution": bad}))
    assert found == ["assumptions.new_hire_age_distribution: row 2: age must be an integer (got 'x')"]


def test_table_problems_as_data_name_the_table_row_and_column(tmp_path):
    """AssumptionsError.items: one Problem per text line, located at ("assumptions", table, row, column), the row
    counted from 0 among the data rows (CSV line 2 and inline row 1 are row 0), with no file path in the message."""
    folder = folder_with(
        tmp_path,
        age_bands="age_band_id,age_band,min_age,max_age,termination_multiplier,promotion_multiplier\n"
                  "1,<30,0,30,abc,1\n2,30+,30,200,1,-1\n",
        new_hire_age_distribution="age,share\n25,0.5\n35,0.4\n",
        retirement_rate="age_range,min_age,max_age,retirement_rate\n")
    with pytest.raises(AssumptionsError) as err:
        resolve_assumptions(PlanwiseConfig().with_overrides(assumptions=str(folder)))
    items = err.value.items
    assert len(items) == len(err.value.problems) == 4
    assert {(p.key, p.severity) for p in items} == {
        ("assumptions.age_bands[0].termination_multiplier", "error"),
        ("assumptions.age_bands[1].promotion_multiplier", "error"),
        ("assumptions.new_hire_age_distribution.share", "error"),
        ("assumptions.retirement_rate", "error")}
    cell = next(p for p in items if p.path[-1] == "termination_multiplier")
    assert cell.path == ("assumptions", "age_bands", 0, "termination_multiplier")
    assert cell.message == "line 2: termination_multiplier must be a number (got 'abc')"
    assert all(str(tmp_path) not in p.message for p in items if p.path[1:2] != ("retirement_rate",))

    bad = [{"age": 30, "share": 0.6}, {"age": "x", "share": 0.4}]
    with pytest.raises(AssumptionsError) as err:
        resolve_assumptions(PlanwiseConfig().with_overrides(assumptions={"new_hire_age_distribution": bad}))
    (item,) = err.value.items
    assert item.to_dict() == {"key": "assumptions.new_hire_age_distribution[1].age", "severity": "error",
                              "path": ["assumptions", "new_hire_age_distribution", 1, "age"],
                              "message": "row 2: age must be an integer (got 'x')"}


def test_the_cola_table_must_cover_the_years_when_it_is_read(tmp_path):
    folder = folder_with(tmp_path, cola_by_year="simulation_year,cola_rate\n2025,0.01\n2026,0.02\n")
    config = PlanwiseConfig().with_overrides(assumptions=str(folder), **{"simulation.end_year": 2028})
    assert resolve_assumptions(config).replaced() == ["cola_by_year"]  # cola_rate given: the table is not read
    found = problems(config.with_overrides(**{"compensation.cola_rate": None}))
    assert found == [f"{folder / 'cola_by_year.csv'}: must cover every simulated year (2025-2028, read because "
                     "compensation.cola_rate is null): 2027, 2028 missing"]


def test_a_relative_assumptions_folder_is_relative_to_the_config_file(tmp_path):
    folder_with(tmp_path, job_levels=JOB_LEVELS)
    (tmp_path / "run.yaml").write_text("simulation: {start_year: 2025, end_year: 2026}\n"
                                       "workforce: {total_termination_rate: 0.12}\nrandom_seed: 1\n"
                                       "assumptions: tables\n")
    config = load_config(tmp_path / "run.yaml")
    assert config.assumptions == str(tmp_path / "tables")
    assert resolve_assumptions(config).tables["job_levels"].source == str(tmp_path / "tables" / "job_levels.csv")


# --------------------------------------------------------------------------- year-varying rates


def test_a_rate_by_year_fills_missing_years_with_the_last_given():
    config = PlanwiseConfig().with_overrides(**{"simulation.target_growth_rate": {2025: 0.03, "2027": -0.02},
                                                "workforce.total_termination_rate": {2025: 0.1, 2028: 0.2}})
    dbt = config.to_dbt_vars()
    assert dbt["target_growth_rate"] == {"2025": 0.03, "2026": 0.03, "2027": -0.02, "2028": -0.02, "2029": -0.02}
    assert dbt["total_termination_rate"] == {"2025": 0.1, "2026": 0.1, "2027": 0.1, "2028": 0.2, "2029": 0.2}
    assert dbt["new_hire_termination_rate"] == 0.25  # a number stays a number
    # to_dict round-trips through JSON (as the run log stores it: year keys become strings)
    assert config_from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_a_rate_by_year_names_missing_and_out_of_range_years():
    with pytest.raises(ConfigError) as err:
        PlanwiseConfig().with_overrides(**{"simulation.target_growth_rate": {2026: 0.03, 2027: 3},
                                           "compensation.cola_rate": {"soon": 0.01}})
    assert err.value.problems == [
        "simulation.target_growth_rate.2027: must be in (-1, 1] (got 3; did you mean 0.03?)",
        "compensation.cola_rate.'soon': the key must be a year: must be an integer (got str 'soon')",
    ]
    with pytest.raises(ConfigError) as err:
        PlanwiseConfig().with_overrides(**{"simulation.target_growth_rate": {2026: 0.03}})
    assert err.value.problems == ["simulation.target_growth_rate: no rate for 2025-2025: a mapping must give the "
                                  "first simulated year 2025 (later years without a rate use the last one given)"]
    later = PlanwiseConfig().with_overrides(**{"workforce.total_termination_rate": {2025: 0.1, 2035: 0.2}})
    assert later.warnings == ("workforce.total_termination_rate: year(s) 2035 outside the simulation (2025-2029) "
                              "are ignored",)


# --------------------------------------------------------------------------- the command line


def test_set_with_a_typo_a_wrong_type_and_an_out_of_range_value_gives_three_messages(tmp_path):
    proc = subprocess.run([str(PLANWISE), "run", "--database", str(tmp_path / "out.duckdb"), "--years", "2025-2026",
                           "--set", "workforce.total_terminaton_rate=0.15",
                           "--set", "workforce.new_hire_termination_rate=high",
                           "--set", "compensation.cola_rate=3"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = [line.strip() for line in proc.stderr.splitlines() if line.strip().startswith("- ")]
    assert lines == ["- workforce.total_terminaton_rate: unknown key (did you mean 'total_termination_rate'?)",
                     "- workforce.new_hire_termination_rate: must be a number (got str 'high')",
                     "- compensation.cola_rate: must be in [0, 1] (got 3; did you mean 0.03?)"], proc.stderr
    assert not list(tmp_path.iterdir()), "a refused command line writes nothing"


def test_years_and_assumptions_options_are_checked_before_anything_runs(tmp_path):
    bad_years = subprocess.run([str(PLANWISE), "run", "--database", str(tmp_path / "o.duckdb"), "--years", "2029-2025"],
                               capture_output=True, text=True, timeout=120)
    assert bad_years.returncode == 2 and "ends before it starts (write it as 2025-2029)" in bad_years.stderr
    folder = folder_with(tmp_path, job_levels=JOB_LEVELS.replace("2,Manager,80000,", "2,Manager,85000,"))
    refused = subprocess.run([str(PLANWISE), "run", "--database", str(tmp_path / "o.duckdb"), "--assumptions",
                              str(folder)], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "line 2 and line 3 (Staff, Manager): gap" in refused.stderr
    assert not (tmp_path / "o.duckdb").exists()
    shutil.rmtree(folder)


def test_a_refused_census_leaves_no_database_lock_file_or_folder_behind(tmp_path):
    (tmp_path / "bad.csv").write_text("employee_id,employee_birth_date\nE1,1990-01-01\n")
    proc = subprocess.run([str(PLANWISE), "run", "--census", "bad.csv", "--database", "out/db.duckdb"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "required but missing" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]
    # an existing folder is kept (it was not the run's)
    (tmp_path / "kept").mkdir()
    subprocess.run([str(PLANWISE), "run", "--census", "bad.csv", "--database", "kept/db.duckdb"], cwd=tmp_path,
                   capture_output=True, text=True, timeout=120)
    assert (tmp_path / "kept").is_dir() and not list((tmp_path / "kept").iterdir())


def test_validate_config_checks_the_tables_a_valid_configuration_names(tmp_path):
    path = tmp_path / "v.yaml"
    path.write_text("simulation: {start_year: 2025, end_year: 2026}\nworkforce: {total_termination_rate: 0.12}\n"
                    "random_seed: 1\nassumptions: {new_hire_age_distribution: [{age: 30, share: 50}]}\n")
    proc = subprocess.run([str(PLANWISE), "validate-config", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[1:] == ["  error: assumptions.new_hire_age_distribution: row 1: share must be in "
                                            "[0, 1] (got 50; did you mean 0.5?)"]


def test_a_census_level_must_be_one_of_the_job_levels_in_force(tmp_path):
    from planwise_core.census.load import census_options
    from planwise_core.census.validate import validate_census
    from planwise_core.errors import CensusError

    four = "\n".join(JOB_LEVELS.strip().split("\n")[:5]) + "\n"  # the header and levels 1-4
    four = four.replace("4,Director,160000,275000,0.0350,0.08", "4,Director,160000,,0.0350,0.10")
    config = PlanwiseConfig().with_overrides(assumptions=str(folder_with(tmp_path, job_levels=four)))
    census = tmp_path / "census.csv"
    census.write_text("employee_id,employee_birth_date,employee_hire_date,employee_gross_compensation,level_id\n"
                      "E1,1980-01-01,2010-01-01,90000,2\nE2,1970-01-01,2000-01-01,300000,5\n")
    with pytest.raises(CensusError) as err:
        validate_census(census, config.simulation.effective_census_date, **census_options(config))
    assert "level_id: must be empty or an integer from 1 to 4 at line 3" in str(err.value)
    # the built-in levels accept it
    validate_census(census, PlanwiseConfig().simulation.effective_census_date, **census_options(PlanwiseConfig()))


def test_a_batch_shares_one_built_in_census_instead_of_one_per_run_folder(tmp_path):
    from planwise_core.batch.runner import _shared_builtin_census

    runs = [tmp_path / "out" / "runs" / name / "seed-42" for name in ("a", "b")]
    for folder in runs:
        folder.mkdir(parents=True)
    first, second = (_shared_builtin_census(folder) for folder in runs)
    assert first == second == tmp_path / "out" / "synthetic_census_10000_42.parquet"
    assert not any(list(folder.iterdir()) for folder in runs)
