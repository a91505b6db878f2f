"""BatchSimulationProcessor: scenario batches and seed ensembles from async code."""

from __future__ import annotations

import asyncio
from typing import Any

from pathlib import Path

from planwise_core.api.runs import OptimizationLevel, load_base_config
from planwise_core.config import SHORTHANDS
from planwise_core.errors import require_path


# API scenario keys that are shorthands for configuration overrides (their paths: config.SHORTHANDS).
_SCENARIO_SHORTHANDS = ("start_year", "end_year", "random_seed", "optimization_level", "max_workers", "fail_fast")


def _scenario_entry(i: int, scenario: dict[str, Any]) -> dict[str, Any]:
    """An API scenario dict -> a scenario-file entry (docs/batch.md)."""
    entry = {k: v for k, v in scenario.items() if k not in _SCENARIO_SHORTHANDS and
             k not in ("config_path", "census_path")}
    entry.setdefault("name", f"scenario_{i}")
    overrides = dict(entry.get("overrides") or {})
    for key in _SCENARIO_SHORTHANDS:
        if scenario.get(key) is not None:
            value = scenario[key]
            overrides[SHORTHANDS[key]] = value.value if isinstance(value, OptimizationLevel) else value
    if overrides:
        entry["overrides"] = overrides
    if scenario.get("config_path") is not None:
        entry["config"] = str(Path(scenario["config_path"]).resolve())
    if scenario.get("census_path") is not None:
        entry["census"] = str(Path(scenario["census_path"]).resolve())
    return entry


class BatchSimulationProcessor:
    """Runs many scenarios at once: at most ``max_concurrent`` runs, each in its own process and database.

    ``executor``: "local" (a process pool on this machine) or "dask" (Dask distributed; ``dask_address``
    "local" starts a LocalCluster of ``max_concurrent`` workers, otherwise the scheduler address such as
    "tcp://host:8786"). Runs, the aggregated ``batch.duckdb`` and ``report.html`` go under ``output_dir``;
    calling again with the same scenarios reuses the runs that completed. ``last_result`` is the last
    :class:`planwise_core.batch.BatchResult`. See docs/batch.md.
    """

    def __init__(self, max_concurrent: int = 4, *, executor: str = "local", dask_address: str = "local",
                 output_dir: str | Path = "output/batches/api", base_config_path: str | Path | None = None,
                 census_path: str | Path | None = None, plugin: str | None = None, report: bool = True,
                 progress=None):
        if executor not in ("local", "dask"):
            raise ValueError(f"executor must be 'local' or 'dask' (got {executor!r})")
        if not isinstance(max_concurrent, int) or max_concurrent < 1:
            raise ValueError(f"max_concurrent must be a positive integer (got {max_concurrent!r})")
        require_path(output_dir, "output_dir", optional=False)
        require_path(base_config_path, "base_config_path")
        require_path(census_path, "census_path")
        self.max_concurrent = max_concurrent
        self.executor = executor
        self.dask_address = dask_address
        self.output_dir = Path(output_dir)
        self.base_config_path = base_config_path
        self.census_path = census_path
        self.plugin = plugin
        self.report = report
        self.progress = progress
        self.last_result = None

    async def process_scenarios(self, scenarios: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run every scenario (over its ``seeds``) and return one dict per run.

        A scenario: ``name``, ``overrides`` (dotted or nested config keys), ``seeds`` (a count or a list),
        ``config_path``, ``census_path``, ``plugin``, and the shorthands ``start_year``, ``end_year``,
        ``random_seed``, ``optimization_level``, ``max_workers``, ``fail_fast``. Each run dict has
        run_id, scenario, seed, status ("completed", "failed", "invalid"), success, error, database,
        completed_years, failed_years, seconds, reused. A file-level problem (duplicate names, ...) raises
        BatchError before anything runs; a scenario's own problem makes its runs "invalid".
        """
        from planwise_core.batch import plan_scenarios

        if not isinstance(scenarios, (list, tuple)) or not all(isinstance(s, dict) for s in scenarios):
            raise TypeError(f"scenarios must be a list of scenario dicts, got {type(scenarios).__name__}")
        entries = [_scenario_entry(i, s) for i, s in enumerate(scenarios, start=1)]
        plan = plan_scenarios(entries, self.output_dir, source="BatchSimulationProcessor.process_scenarios",
                              base_config=load_base_config(self.base_config_path), census=self.census_path,
                              plugin=self.plugin)
        return await asyncio.to_thread(self._run, plan)

    async def process_ensemble(self, seeds: int, *, first_seed: int | None = None, name: str = "ensemble",
                               overrides: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """One configuration (the base config plus ``overrides``) over ``seeds`` consecutive seeds."""
        from planwise_core.batch import plan_ensemble

        base = load_base_config(self.base_config_path)
        if overrides:
            base = base.with_overrides(**overrides)
        plan = plan_ensemble(seeds, self.output_dir, base_config=base, census=self.census_path, plugin=self.plugin,
                             first_seed=first_seed, name=name)
        return await asyncio.to_thread(self._run, plan)

    def _run(self, plan) -> list[dict[str, Any]]:
        from planwise_core.batch import run_batch

        # The runs happen in worker processes, so this needs no engine lock; the batch folder has its own.
        dask = self.dask_address if self.executor == "dask" else None
        self.last_result = run_batch(plan, max_concurrent=self.max_concurrent, dask=dask, progress=self.progress,
                                     report=self.report)
        return [{**run, "success": run["status"] == "completed"} for run in self.last_result.runs]
