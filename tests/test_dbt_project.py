"""The dbt project itself: node lists match the DAG, and its unit and data tests pass on real data."""

from __future__ import annotations

import json
import os
from collections import Counter

import duckdb
import pytest

from planwise_core.engine.nodes import (FOUNDATION, YEAR_START, YEARLY, YEARLY_MODELS, selected_models,
                                       transition_checks)
from planwise_core.census import generate_census
from planwise_core.config import PlanwiseConfig
from planwise_core.engine.project import DBT_PROJECT_DIR, DbtProject, parsed_manifest
from planwise_core.context import RunContext
from planwise_core.errors import SimulationError
from planwise_core.hooks import Hooks
from planwise_core.manager import get_plugin_manager
from planwise_core.orchestrator import Simulation


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    from dbt.cli.main import dbtRunner

    project = DbtProject(tmp_path_factory.mktemp("parse") / "sim.duckdb")
    result = dbtRunner().invoke(["parse", *project.common_args(), "--log-level", "none"])
    assert result.success, result.exception
    return result.result


def _models(manifest):
    """The models that run (ephemeral ones are compiled into their readers)."""
    return {n.name: n for n in manifest.nodes.values() if n.resource_type == "model"
            and n.config.materialized != "ephemeral"}


@pytest.fixture(scope="module")
def selections(tmp_path_factory):
    project = DbtProject(tmp_path_factory.mktemp("select") / "sim.duckdb")
    return {name: selected_models(project, name) for name in (FOUNDATION, YEAR_START, YEARLY)}


def test_selectors_cover_every_model_exactly_once(manifest, selections):
    chosen = [m for names in selections.values() for m in names]
    assert sorted(chosen) == sorted(_models(manifest)), "a model no engine step runs, or one run twice"
    assert selections[YEAR_START] == ("int_workforce_start",)
    assert "int_baseline_workforce" in selections[FOUNDATION]
    assert {"fct_yearly_events", "fct_workforce_snapshot", "fct_year_summary", "fct_dc_contributions",
            "fct_dc_plan_summary", "int_escalation_events"} <= set(selections[YEARLY])
    assert "int_irs_limits_by_year" in selections[FOUNDATION]


def test_the_compiled_engines_yearly_selection_has_the_yearly_models_and_no_test(tmp_path):
    """yearly_models (what the compiled engine compiles for a year) = yearly's models, without yearly's tests."""
    project = DbtProject(tmp_path / "sim.duckdb")
    assert selected_models(project, YEARLY_MODELS) == selected_models(project, YEARLY)
    os.environ.update(project.env())
    from dbt.cli.main import dbtRunner

    tests = {selector: dbtRunner(manifest=parsed_manifest(project)).invoke(
        ["ls", *project.common_args(), "--selector", selector, "--resource-type", "test", "--output", "name",
         "--log-level", "none", "--quiet"]).result for selector in (YEARLY, YEARLY_MODELS)}
    assert len(tests[YEARLY]) > 20 and tests[YEARLY_MODELS] == []


def _run_parents(manifest, unique_id: str) -> set[str]:
    """The models a node reads, looking through ephemeral ones (compiled in, they read their own parents)."""
    parents = set()
    for parent in manifest.nodes[unique_id].depends_on.nodes:
        node = manifest.nodes.get(parent)
        if node is not None and node.resource_type == "model" and node.config.materialized == "ephemeral":
            parents |= _run_parents(manifest, parent)
        elif node is not None:
            parents.add(node.name)
    return parents


def test_yearly_order_respects_dependencies(manifest, selections):
    models = _models(manifest)
    order = [*selections[YEAR_START], *selections[YEARLY]]
    position = {name: i for i, name in enumerate(order)}
    for name in order:
        for parent_name in _run_parents(manifest, models[name].unique_id):
            if parent_name in position:
                assert position[parent_name] < position[name], f"{parent_name} must run before {name}"


def test_yearly_models_are_tagged_yearly(manifest, selections):
    models = _models(manifest)
    for name in (*selections[YEAR_START], *selections[YEARLY]):
        assert "yearly" in models[name].tags, name


def test_the_year_selection_is_the_start_its_checks_and_the_yearly_models(tmp_path, selections, manifest):
    """`dbt build --selector year` (the optimized engine's one invocation a year) builds the year_start and yearly
    models, runs the start population's tests and the transition checks, and none of the yearly models' tests;
    every transition check hangs on the start population alone, so dbt runs it before any later model."""
    from dbt.cli.main import dbtRunner

    from planwise_core.engine.nodes import WHOLE_YEAR

    assert set(selected_models(DbtProject(tmp_path / "sim.duckdb"), WHOLE_YEAR)) == {
        *selections[YEAR_START], *selections[YEARLY]}
    project = DbtProject(tmp_path / "sim.duckdb")
    os.environ.update(project.env())
    tests = dbtRunner(manifest=parsed_manifest(project)).invoke(
        ["ls", *project.common_args(), "--selector", WHOLE_YEAR, "--resource-type", "test", "unit_test",
         "--output", "name", "--log-level", "none", "--quiet"]).result
    checks = transition_checks(project)
    start_tests = [n.name for n in manifest.nodes.values() if n.resource_type == "test"
                   and n.depends_on.nodes == ["model.planwise.int_workforce_start"]]
    assert sorted(tests) == sorted(start_tests) and set(checks) <= set(start_tests) and len(checks) == 4


def test_transition_checks_are_dbt_tests_of_the_year_start(tmp_path):
    assert transition_checks(DbtProject(tmp_path / "sim.duckdb")) == (
        "transition_active_end_equals_target_end", "transition_age_and_tenure_grow_by_one",
        "transition_start_population_equals_year_end_actives", "transition_state_is_carried")


def test_every_model_is_described(manifest):
    assert [m.name for m in _models(manifest).values() if not m.description.strip()] == []


def test_one_macro_per_file_named_after_it_and_described_with_its_arguments(manifest):
    import re
    from pathlib import Path

    ours = [m for m in manifest.macros.values() if m.package_name == "planwise"
            and m.original_file_path.startswith("macros") and not m.name.startswith("materialization_")]
    assert len(ours) >= 40
    assert [m.name for m in ours if Path(m.original_file_path).stem != m.name] == []
    assert [m.name for m in ours if len(Path(m.original_file_path).parts) != 3] == []  # macros/<topic>/<name>.sql
    assert [m.name for m in ours if not m.description.strip()] == []
    for macro in ours:
        signature = re.search(r"macro\s+\w+\(([^)]*)\)", macro.macro_sql).group(1)
        wanted = [a.split("=")[0].strip() for a in signature.split(",") if a.strip()]
        described = {a.name: a.description for a in macro.arguments if a.description.strip()}
        assert list(described) == wanted, macro.name


def test_the_parameter_table_sources_declare_the_columns_and_types_the_host_loads(manifest):
    """models/staging/_sources.yml repeats, for dbt, the tables planwise_core.assumptions.spec declares."""
    from planwise_core.assumptions.spec import SCHEMA, TABLES

    sources = {n.name: n for n in manifest.sources.values() if n.source_name == SCHEMA}
    assert sorted(sources) == sorted(TABLES)
    for name, spec in TABLES.items():
        declared = [(c.name, (c.data_type or "").lower()) for c in sources[name].columns.values()]
        assert declared == [(c.name, c.sql.lower()) for c in spec.columns], name


def test_the_metric_vocabulary_is_the_year_summary_mart(manifest):
    """outputs/metrics.py names every fct_year_summary column once, in the yml's order, each with one label and a
    unit; the plan's figures carry fct_dc_plan_summary's names (one name per metric)."""
    from planwise_core.outputs.metrics import METRICS, PLAN_SUMMARY

    models = _models(manifest)
    documented = list(models["fct_year_summary"].columns)
    assert documented == ["simulation_year", *(m.key for m in METRICS)]
    assert len({m.label for m in METRICS}) == len(METRICS) and {m.unit for m in METRICS} == {"count", "money",
                                                                                               "fraction"}
    plan_columns = set(models[PLAN_SUMMARY].columns)
    assert {m.key for m in METRICS if m.source == PLAN_SUMMARY} <= plan_columns
    assert not [c for c in documented if c.endswith("_pct")], "the marts store fractions, not percentages"


def test_config_defaults_and_dbt_project_vars_agree():
    """Each default is written once in the config schema; dbt_project.yml repeats it for standalone dbt use."""
    import yaml

    project_vars = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    assert project_vars.pop("simulation_year") == PlanwiseConfig().simulation.start_year
    assert project_vars == PlanwiseConfig().to_dbt_vars()


@pytest.mark.slow
def test_unit_and_data_tests_pass_on_a_simulated_database(tmp_path):
    census = generate_census(400, 11, tmp_path / "census.parquet")
    config = PlanwiseConfig().with_overrides(**{"simulation.end_year": 2026})
    database = tmp_path / "sim.duckdb"
    assert Simulation(config, database, census=census).run()["success"]
    # Every mart column is described in its yml, and the yml lists exactly the columns the mart has.
    models = _models(parsed_manifest(DbtProject(database)))
    with duckdb.connect(str(database), read_only=True) as con:
        for name in [n for n in models if n.startswith("fct_")]:
            built = [r[0] for r in con.execute(f"select column_name from (describe {name})").fetchall()]
            documented = {c: col.description for c, col in models[name].columns.items()}
            assert sorted(documented) == sorted(built), name
            assert [c for c, d in documented.items() if not d.strip()] == [], name
    from dbt.cli.main import dbtRunner

    project = DbtProject(database)
    os.environ.update(project.env())
    dbt_vars = json.dumps(dict(config.to_dbt_vars(), simulation_year=2026))
    result = dbtRunner(manifest=parsed_manifest(project)).invoke(
        ["test", *project.common_args(), "--vars", dbt_vars, "--log-level", "none"])
    statuses = Counter(str(r.status) for r in result.result.results)
    # Every unit and data test ran and passed: a selection of zero tests must not count as a pass.
    units = sum(r.node.resource_type == "unit_test" for r in result.result.results)
    assert result.success and statuses == {"pass": len(result.result.results)}, statuses
    assert len(result.result.results) >= 60 and units >= 10, (len(result.result.results), units)
    # The transition checks catch a year that did not end at its target head count.
    with duckdb.connect(str(database)) as con:
        con.execute("""update fct_workforce_snapshot set employment_status = 'terminated'
                       where simulation_year = 2025 and employee_id = (select min(employee_id)
                       from fct_workforce_snapshot where simulation_year = 2025 and employment_status = 'active')""")
    ctx = RunContext(config=config, database=database, run_id="check")
    with duckdb.connect(str(database)) as con:  # 2026 again: its rows go, as the host discards a failed year
        con.execute("delete from fct_yearly_events where simulation_year = 2026")
    hooks = Hooks(get_plugin_manager(), "optimized")
    # The optimized engine checks the transition inside the year's one `dbt build` (docs/performance.md): the
    # same error stops the year, and the checks gate it: no model after the start population ran.
    assert hooks.transition_year(ctx, 2025, 2026).carried > 0
    with pytest.raises(SimulationError, match="Transition 2025 -> 2026 failed: .*transition_active_end_equals_target"):
        hooks.process_year(ctx, 2026)
    with duckdb.connect(str(database)) as con:
        assert con.execute("select count(*) from fct_yearly_events where simulation_year = 2026").fetchone()[0] == 0


def test_a_parse_is_shared_through_the_cache_and_works_without_one(tmp_path, monkeypatch):
    from planwise_core.engine.project import PARTIAL_PARSE, _parse, project_fingerprint

    monkeypatch.setenv("PLANWISE_CACHE_DIR", str(tmp_path / "cache"))
    fingerprint = project_fingerprint(DBT_PROJECT_DIR)
    first = _parse(DbtProject(tmp_path / "a" / "results.duckdb"), fingerprint)
    saved = tmp_path / "cache" / "dbt-parse" / fingerprint / "results" / PARTIAL_PARSE
    assert saved.is_file()
    # Another database of the same file name elsewhere: the saved parse is accepted, and the nodes name the
    # catalog after the file, as they must.
    second = _parse(DbtProject(tmp_path / "b" / "results.duckdb"), fingerprint)
    assert second.nodes["model.planwise.fct_yearly_events"].database == "results"
    assert set(second.nodes) == set(first.nodes)
    assert not list(saved.parent.glob("parse-*")), "scratch folders are removed"

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("PLANWISE_CACHE_DIR", str(blocker))
    third = _parse(DbtProject(tmp_path / "c" / "results.duckdb"), fingerprint)
    assert set(third.nodes) == set(first.nodes)
