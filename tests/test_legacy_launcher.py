"""The legacy engine's dbt processes are forked from one launcher that imported dbt once
(plugins/planwise_legacy/launcher.py, docs/architecture.md "The two engines"): each command is its own process
with the engine's environment and folder, its output, exit code and errors are those of the `dbt` executable,
and the launcher ends with its session. Whole legacy runs (tables identical to the optimized engine's, 21
processes a year, dbt's console lines for --verbose) are tests/test_engines.py's."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planwise_core.engine.invokers import SubprocessDbt
from planwise_core.engine.project import DbtProject
from planwise_core.errors import SimulationError
from planwise_legacy.launcher import ForkedDbt, Launcher

DBT = str(Path(sys.executable).parent / "dbt")


def _gone(pid: int, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_each_command_is_a_new_process_with_the_dbt_executables_output_and_exit_code(tmp_path):
    launcher = Launcher(dict(os.environ))
    try:
        assert launcher.ready
        results, pids = [], []
        for argv in ([DBT, "--help"], [DBT, "run", "--no-such-option"], [DBT, "run", "--help"]):
            forked = launcher.run(argv, dict(os.environ))
            pids.append(launcher.last_pid)
            plain = subprocess.run(argv, capture_output=True, text=True)
            results.append((forked.returncode, plain.returncode))
            assert (forked.returncode, forked.stdout, forked.stderr) == (plain.returncode, plain.stdout, plain.stderr)
        assert results == [(0, 0), (2, 2), (0, 0)]
        assert launcher.served == 3 and len(set(pids)) == 3 and launcher.pid not in pids
    finally:
        launcher.close()
    assert _gone(launcher.pid)


def test_a_failing_command_raises_with_dbts_error_and_the_launcher_ends_with_the_session(tmp_path):
    """The engine's session (ForkedDbt) forks its commands in its own environment (PLANWISE_DATABASE names the
    session's database) and folder; a failed command is the same SimulationError as from the `dbt` executable."""
    invoker = ForkedDbt(DbtProject(tmp_path / "sim.duckdb"), {"simulation_year": 2025})
    with pytest.raises(SimulationError, match=r"dbt run --no-such-option failed \(exit 2\): .*No such option") as forked:
        invoker.invoke("run", "--no-such-option")
    with pytest.raises(SimulationError) as plain:
        SubprocessDbt(DbtProject(tmp_path / "sim.duckdb"), {"simulation_year": 2025}).invoke("run", "--no-such-option")
    assert str(forked.value) == str(plain.value)
    launcher = invoker.launcher
    assert launcher.served == 1 and invoker.invocations == 0
    pid = launcher.pid
    del invoker, launcher, forked  # the exception's traceback holds the session too
    gc.collect()
    assert _gone(pid), "the launcher outlived its engine session"
