"""A Ctrl-C or SIGTERM that lands while one of the host's own DuckDB statements runs (not an engine's): DuckDB ends
the statement with an error of its own ("Query interrupted", the KeyboardInterrupt as its cause). The run must still
end interrupted and resumable, never failed (a web workbench's cancel arrives just so; found by
tests/test_serve_e2e.py on a loaded machine)."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from helpers.sims import CensusSpec
from test_run_safety import run_log

from planwise_core.config import PlanwiseConfig
from planwise_core.database import runlog
from planwise_core.orchestrator import Simulation


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_inside_a_host_statement_ends_the_run_interrupted_and_it_resumes(tmp_path, monkeypatch, sig):
    config = PlanwiseConfig().with_overrides(**{"simulation.end_year": 2025})
    census, database = CensusSpec.generated(120, 3).write(tmp_path), tmp_path / "sim.duckdb"
    foundation_done = runlog.foundation_done
    caught: list[BaseException] = []

    def slow_foundation_done(con):  # the foundation is recorded, then a long statement that the signal hits
        foundation_done(con)
        threading.Timer(0.3, os.kill, (os.getpid(), sig)).start()
        try:
            con.execute("select max(hash(range)) from range(100000000000)").fetchall()
        except BaseException as exc:
            caught.append(exc)
            raise

    monkeypatch.setattr(runlog, "foundation_done", slow_foundation_done)
    with pytest.raises(KeyboardInterrupt):
        Simulation(config, database, census=census).run()
    # what DuckDB raised: its own error (so the orchestrator, not DuckDB, makes it an interruption)
    assert "interrupted" in str(caught[0]).lower() and not isinstance(caught[0], KeyboardInterrupt), caught
    named = "SIGTERM" if sig == signal.SIGTERM else "Ctrl-C"
    run_id, status, error = run_log(database)[-1]
    assert (status, error) == ("interrupted", f"interrupted ({named}); it can be resumed")
    monkeypatch.undo()
    result = Simulation(config, database, census=census).run(resume=True)
    assert result.success and run_log(database)[-1][:2] == (run_id, "completed")
