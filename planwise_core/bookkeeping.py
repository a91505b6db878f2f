"""The run's bookkeeping around the engine hooks: its run-log rows, each finished year's record, and the build
held open from one year to the next.

A year is recorded (its checkpoint file, its year-log row) and then the build is checkpointed once: from that
moment a killed run resumes after that year. For an engine that shares the database with this process, and that
no other plugin observes, the build stays open across the years (``HeldBuild``), so recording a year and starting
the next one cost no DuckDB re-open and no checkpoint besides that one (docs/performance.md).
"""

from __future__ import annotations

import logging
from pathlib import Path

from planwise_core.database import connect, runlog
from planwise_core.database.checkpoints import StateManager
from planwise_core.database.connection import Keeper
from planwise_core.database.workspace import mark
from planwise_core.hooks import Hooks
from planwise_core.results import YearResult

log = logging.getLogger("planwise.run")


class HeldBuild:
    """The build kept open by the host between engine hooks, for the engines whose ``Hooks.holds_build`` says so.

    ``hold_for`` before each hook call: a level whose engine cannot share the file (a dbt subprocess) gets it
    released first. ``release`` before the build is published, read by another process, or when the run ends.
    """

    def __init__(self, build: Path):
        self._keeper = Keeper(build)

    def hold_for(self, hooks: Hooks) -> None:
        self._keeper.hold(hooks.holds_build())

    def release(self) -> None:
        self._keeper.close()


def log_start(database: Path, record: runlog.RunRecord, start_year: int, end_year: int) -> None:
    """The database's run log says this attempt is running (the database is created when new)."""
    with connect(database) as con:
        mark(con)
        runlog.start(con, record, start_year, end_year)


def log_end(database: Path, run_id: str, status: str, error: str | None) -> None:
    """Record how the attempt ended in the database's run log; never hides the error that ended it."""
    try:
        with connect(database) as con:
            runlog.finish(con, run_id, status, error)
    except Exception as exc:  # noqa: BLE001 - the original failure matters more
        log.error("could not record the run as %s in %s: %s", status, database, exc)


def record_year(build: Path, state: StateManager, run_id: str, result: YearResult, level_name: str,
                attempts: int) -> None:
    """The year's checkpoint file and year-log row, then one DuckDB checkpoint of the build: the year is done."""
    with connect(build) as con:
        state.checkpoint(con, result.year)
        runlog.log_year(con, run_id, result.year, result.plugin, level_name, result.seconds, result.rows,
                        result.dbt_invocations, attempts)
        con.execute("checkpoint")
    log.info("year %s completed by %s (%s) in %.2fs", result.year, result.plugin, level_name, result.seconds,
             extra={"event": "year_completed", "year": result.year, "plugin": result.plugin,
                    "optimization_level": level_name, "seconds": round(result.seconds, 3)})
