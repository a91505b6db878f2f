"""The dbt project itself: node lists match the DAG, and its unit and data tests pass on real data."""

from __future__ import annotations

import pytest

from planwise_core.engine import nodes as dbt_models
from planwise_core.census import generate_census
from planwise_core.config import PlanwiseConfig
from planwise_core.engine.invokers import DbtProject, InProcessDbt
from planwise_core.orchestrator import Simulation


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    from dbt.cli.main import dbtRunner

    project = DbtProject(tmp_path_factory.mktemp("parse") / "x.duckdb")
    result = dbtRunner().invoke(["parse", *project.common_args(), "--log-level", "none"])
    assert result.success, result.exception
    return result.result


def _models(manifest):
    return {n.name: n for n in manifest.nodes.values() if n.resource_type == "model"}


def test_node_lists_cover_every_model_and_seed(manifest):
    listed = set(dbt_models.STAGING_MODELS + dbt_models.BASELINE_MODELS + dbt_models.YEARLY_MODELS)
    listed.add(dbt_models.YEAR_START_MODEL)
    assert listed == set(_models(manifest))
    seeds = {n.name for n in manifest.nodes.values() if n.resource_type == "seed"}
    assert seeds == set(dbt_models.SEEDS)


def test_yearly_order_respects_dependencies(manifest):
    models = _models(manifest)
    order = [dbt_models.YEAR_START_MODEL, *dbt_models.YEARLY_MODELS]
    position = {name: i for i, name in enumerate(order)}
    for name in order:
        for parent in models[name].depends_on.nodes:
            parent_name = parent.split(".")[-1]
            if parent_name in position:
                assert position[parent_name] < position[name], f"{parent_name} must run before {name}"


def test_yearly_models_are_tagged_yearly(manifest):
    models = _models(manifest)
    for name in (dbt_models.YEAR_START_MODEL, *dbt_models.YEARLY_MODELS):
        assert "yearly" in models[name].tags, name


@pytest.mark.slow
def test_unit_and_data_tests_pass_on_a_simulated_database(tmp_path):
    census = generate_census(400, 11, tmp_path / "census.parquet")
    config = PlanwiseConfig().with_overrides(**{"simulation.end_year": 2026})
    database = tmp_path / "sim.duckdb"
    assert Simulation(config, database, census=census).run()["success"]
    dbt = InProcessDbt(DbtProject(database), config.to_dbt_vars())
    call = dbt.invoke("test", year=2026)  # raises SimulationError naming the failing tests
    assert call.seconds > 0


def test_a_parse_is_shared_through_the_cache_and_works_without_one(tmp_path, monkeypatch):
    from planwise_core.engine.invokers import DBT_PROJECT_DIR, _parse, project_fingerprint

    monkeypatch.setenv("PLANWISE_CACHE_DIR", str(tmp_path / "cache"))
    fingerprint = project_fingerprint(DBT_PROJECT_DIR)
    first = _parse(DbtProject(tmp_path / "a" / "results.duckdb"), fingerprint)
    saved = tmp_path / "cache" / "dbt-parse" / fingerprint / "results" / "partial_parse.msgpack"
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
