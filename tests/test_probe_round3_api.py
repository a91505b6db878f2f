"""Issue 28, N21: wrong types given to the Python API are a TypeError naming the parameter, raised when the object
is built, before any file is opened (docs/api.md). No simulation runs here."""

from __future__ import annotations

import asyncio
import os

import pytest

from planwise_core.api import BatchSimulationProcessor, MultiYearConfig, MultiYearOrchestrator
from planwise_core.config import load_and_validate_config


def test_an_int_is_never_taken_for_a_file_descriptor(tmp_path):
    with open(tmp_path / "mine.txt", "w") as mine:
        fd = mine.fileno()
        with pytest.raises(TypeError, match="config_path must be a path"):
            load_and_validate_config(fd)
        with pytest.raises(TypeError, match="base_config_path must be a path"):
            MultiYearOrchestrator(MultiYearConfig(start_year=2025, end_year=2025), base_config_path=fd)
        mine.write("still open")  # the caller's file was neither read nor closed
    assert (tmp_path / "mine.txt").read_text() == "still open"
    assert os.path.exists(tmp_path / "mine.txt")


@pytest.mark.parametrize("config", [{"start_year": 2025}, None])
def test_the_orchestrator_needs_a_multiyear_config(config):
    with pytest.raises(TypeError, match="config must be a MultiYearConfig, got"):
        MultiYearOrchestrator(config)


def test_path_fields_refuse_other_types_when_built(tmp_path):
    with pytest.raises(TypeError, match="census_path must be a path"):
        MultiYearConfig(start_year=2025, end_year=2025, census_path=["x"])
    with pytest.raises(TypeError, match="database_path must be a path"):
        MultiYearConfig(start_year=2025, end_year=2025, database_path=None)
    with pytest.raises(TypeError, match="census_path must be a path"):
        BatchSimulationProcessor(1, census_path=3, output_dir=tmp_path)


def test_scenarios_must_be_a_list_of_dicts(tmp_path):
    processor = BatchSimulationProcessor(1, output_dir=tmp_path / "out")
    with pytest.raises(TypeError, match="scenarios must be a list of scenario dicts, got str"):
        asyncio.run(processor.process_scenarios("x"))
    assert not (tmp_path / "out").exists()
