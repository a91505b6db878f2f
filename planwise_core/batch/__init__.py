"""Scenario batches and seed ensembles: many independent runs, on a local process pool or a Dask cluster.

A *plan* is built and validated in full before anything runs (:func:`plan_batch`, :func:`plan_ensemble`):
every scenario's overrides are applied to the base configuration and checked like any configuration.
A problem that belongs to one scenario makes that scenario *invalid* (reported, not run); a problem with
the file itself (YAML syntax, duplicate names, ...) refuses the whole batch before anything is touched.

Each run is one :class:`planwise_core.orchestrator.Simulation` into its own folder
``<output>/runs/<scenario>/seed-<seed>/`` (its DuckDB file, dbt target and log folders, year checkpoints,
``run.json`` and ``progress.jsonl``), so no two runs share anything a writer could fight over.
:func:`execute_run` is the one function an executor runs; the local process pool and Dask distributed
(``Client.get_executor()``) are both ``concurrent.futures`` executors, so one submission loop drives either.
A run that completed with the same inputs (its fingerprint) is reused on the next invocation; a failed
or interrupted one resumes from its last completed year when it can.
"""

from planwise_core.batch.loop import BatchResult, NullProgress, run_batch, summarize_failures
from planwise_core.batch.plan import (
    BatchError, BatchPlan, InvalidScenario, RunSpec, plan_batch, plan_ensemble, plan_scenarios,
)
from planwise_core.batch.runner import execute_run, read_run_record
