"""PerformanceMonitor and the per-step detail of --performance-mode."""

from __future__ import annotations

import time

import pytest

from planwise_core.census import generate_census
from planwise_core.config import PlanwiseConfig
from planwise_core.monitoring.monitor import PerformanceMonitor
from planwise_core.orchestrator import Simulation


def test_monitor_records_checkpoints_time_and_memory():
    monitor = PerformanceMonitor()
    monitor.start()
    time.sleep(0.05)
    assert monitor.checkpoint("first") >= 0.05
    ballast = bytearray(64 * 2**20)  # 64 MiB resident
    ballast[::4096] = b"x" * len(ballast[::4096])
    monitor.checkpoint("second")
    summary = monitor.get_summary()
    assert set(summary) == {"total_time", "peak_memory_mb", "avg_memory_mb", "memory_efficiency", "checkpoints"}
    assert list(summary["checkpoints"]) == ["first", "second"]
    assert summary["checkpoints"]["second"]["rss_mb"] >= summary["checkpoints"]["first"]["rss_mb"] + 50
    assert summary["peak_memory_mb"] >= summary["avg_memory_mb"] > 0
    assert 0 < summary["memory_efficiency"] <= 1
    assert summary["total_time"] >= 0.05
    del ballast


@pytest.mark.slow
def test_performance_mode_reports_each_step(tmp_path):
    census = generate_census(150, 8, tmp_path / "census.csv")
    # the optimized engine's steps (one dbt build a year); the default engine, compiled, runs no dbt when warm
    config = PlanwiseConfig().with_overrides(**{"simulation.end_year": 2026, "orchestration.optimization_level": "high"})
    result = Simulation(config, tmp_path / "sim.duckdb", census=census, performance_mode=True).run()
    first, second = result["years"]["2025"]["steps"], result["years"]["2026"]["steps"]
    # One `dbt build` a year: the start population, its transition checks and the yearly models.
    assert [s["dbt_invocations"] for s in first] == [1]
    assert [s["dbt_invocations"] for s in second] == [1]
    assert second[-1]["rows"] == result["years"]["2026"]["rows"] > 150
    assert all(s["seconds"] > 0 for s in first + second)
    baseline = next(s for s in result["performance_metrics"]["foundation_steps"] if s["name"] == "baseline")
    assert baseline["rows"] > 0
    plain = Simulation(config, tmp_path / "plain.duckdb", census=census).run()
    assert "steps" not in plain["years"]["2025"]
