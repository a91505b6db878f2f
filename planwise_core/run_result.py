"""The result of a run: what ``Simulation.run()`` returns, and what can be read back from a database's run log.

``to_dict()`` is the documented JSON shape (``planwise run --json``, docs/outputs.md) and the seed-shaped API's
``MultiYearResult.raw``. ``load_run_result(database)`` rebuilds the result of the run that produced a
database's results from its run log (database/runlog.py), for readers that were not there when it ran (the
web server): the timings it did not record (performance, plugin and state metrics) are empty.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import attrs


@attrs.frozen
class YearOutcome:
    """How one simulated year went: the engine and level of its successful attempt."""

    year: int
    plugin: str
    optimization_level: str
    seconds: float
    rows: int
    dbt_invocations: int
    attempts: int
    steps: tuple[dict, ...] | None = None  # each step's timing, in performance mode only

    def to_dict(self) -> dict:
        return {"plugin": self.plugin, "optimization_level": self.optimization_level, "seconds": round(self.seconds, 3),
                "rows": self.rows, "dbt_invocations": self.dbt_invocations, "attempts": self.attempts,
                **({"steps": [dict(s) for s in self.steps]} if self.steps is not None else {})}


@attrs.frozen
class RunResult:
    """One run's outcome. ``years`` holds the years this run simulated (not those it kept or resumed)."""

    simulation_id: str
    success: bool
    database: str
    completed_years: tuple[int, ...]
    failed_years: tuple[int, ...]
    success_rate: float
    total_execution_time: float
    years: tuple[YearOutcome, ...]
    resumed_years: tuple[int, ...]
    error: str | None
    continued_from: dict | None
    performance_metrics: dict
    plugin_metrics: dict
    state_metrics: dict
    summary: tuple[dict, ...]
    census: dict | None
    assumptions: dict
    ndt: tuple[dict, ...] = ()  # one line per tested year (docs/ndt.md); empty when NDT was off

    def to_dict(self) -> dict:
        """The JSON shape of docs/outputs.md, keys in their documented order."""
        out = {name: getattr(self, name) for name in attrs.fields_dict(type(self))}
        for name in ("completed_years", "failed_years", "resumed_years", "summary", "ndt"):
            out[name] = list(out[name])
        out["years"] = {str(y.year): y.to_dict() for y in self.years}
        return out

    def __getitem__(self, key: str):
        """Read by the dict's key (``result["success"]``), as code written against the dict does."""
        return self.to_dict()[key]

    def get(self, key: str, default=None):
        return self.to_dict().get(key, default)


def performance_metrics(years: tuple[YearOutcome, ...], seconds: float, monitor, foundation) -> dict:
    """The run's ``performance_metrics``: throughput, each year's time, the monitor's summary, the foundation's."""
    rows = sum(y.rows for y in years)
    perf = {"records_per_second": round(rows / seconds, 1) if seconds else 0.0,
            "year_times": {str(y.year): round(y.seconds, 3) for y in years}, "monitor": monitor.get_summary()}
    if foundation is not None:
        perf["foundation_seconds"] = round(foundation.seconds, 3)
        perf["foundation_steps"] = [attrs.asdict(s) for s in foundation.steps]
    return perf


def load_run_result(database: Path | str, run_id: str | None = None) -> RunResult | None:
    """The result of the run that produced ``database``'s results (or of ``run_id``) from its run log; None when
    the database records no run. Opens the database read-only."""
    from planwise_core.database import runlog
    from planwise_core.database.sql import open_read_only
    from planwise_core.outputs.summary import census_load, ndt_year_lines, year_summary

    with contextlib.closing(open_read_only(Path(database), "read its run log")) as con:
        run = runlog.results_run(con) if run_id is None else runlog.run_row(con, run_id)
        if run is None:
            return None
        years = tuple(YearOutcome(r["simulation_year"], r["plugin"], r["optimization_level"], r["seconds"] or 0.0,
                                  r["rows_written"] or 0, r["dbt_invocations"] or 0, r["attempts"] or 1)
                      for r in runlog.year_rows(con, run["run_id"]))
        summary = year_summary(con, run["start_year"], run["end_year"])
        census, ndt = census_load(con), ndt_year_lines(con)
    return _from_log(str(Path(database).resolve()), run, years, summary, census, ndt)


def _from_log(database: str, run: dict, years: tuple[YearOutcome, ...], summary: list, census,
              ndt=()) -> RunResult:
    import json

    done = tuple(y.year for y in years)
    planned = tuple(range(run["start_year"], run["end_year"] + 1))
    success = run["status"] == "completed"
    failed = () if success else tuple(y for y in planned if y not in done and (not done or y > done[-1]))
    seconds = ((run["finished_at"] - run["started_at"]).total_seconds()
               if run.get("finished_at") and run.get("started_at") else 0.0)
    continued = ({"run_id": run["continued_from"], "year": done[0] - 1} if run.get("continued_from") and done
                 else None)
    kept = tuple(y for y in planned if y not in done and y not in failed)
    return RunResult(
        simulation_id=run["run_id"], success=success, database=database,
        completed_years=tuple(sorted(kept + done)), failed_years=failed,
        success_rate=round(len(kept + done) / len(planned), 4) if planned else 0.0,
        total_execution_time=round(seconds, 3), years=years, resumed_years=kept, error=run.get("error"),
        continued_from=continued, performance_metrics={}, plugin_metrics={}, state_metrics={},
        summary=tuple(summary), census=census, assumptions=json.loads(run.get("assumptions_json") or "{}"),
        ndt=tuple(ndt))
