"""Careless and hostile input at the edges: paths, log files, scripts, log lines, error types.

Each case gives one clear message (never a traceback for a user mistake) and touches nothing. No
simulation runs here: every case is refused before the first write.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from planwise_core import api
from planwise_core.errors import PlanwiseError
from planwise_core.monitoring.logs import JsonFormatter
from helpers.cli import clean_failure, planwise


# --------------------------------------------------------------------------- paths the system refuses


@pytest.mark.parametrize("args", [
    ("run", "--census", "{long}.csv", "--database", "x.duckdb"),
    ("run", "--database", "{long}.duckdb"),
    ("--config", "{long}.yaml", "run", "--database", "x.duckdb"),
    ("census", "generate", "--employees", "5", "--out", "{long}.csv"),
    ("export", "--database", "x.duckdb", "--out", "{long}"),
], ids=["census", "database", "config", "generate", "export"])
def test_a_very_long_path_is_one_clear_message(tmp_path, args):
    long = str(tmp_path / ("a" * 300))
    proc = planwise(*(a.format(long=long) for a in args), cwd=tmp_path)
    clean_failure(proc, 1, "File name too long")
    assert len(proc.stderr) < 700, proc.stderr  # the path is shortened, not repeated in full
    assert not (tmp_path / "x.duckdb").exists(), "a refused command created the database"


@pytest.mark.parametrize("log_file", ["no/such/folder/run.log", "{folder}", "{readonly}"],
                         ids=["missing-folder", "a-folder", "read-only"])
def test_an_unwritable_log_file_is_a_usage_error(tmp_path, log_file):
    readonly = tmp_path / "readonly.log"
    readonly.write_text("")
    readonly.chmod(0o444)
    if os.geteuid() == 0 and log_file == "{readonly}":
        pytest.skip("root can write a read-only file")
    proc = planwise("--log-file", log_file.format(folder=tmp_path, readonly=readonly), "plugins", cwd=tmp_path)
    clean_failure(proc, 2, "Invalid value for '--log-file'")


def test_validate_config_refuses_non_utf8_and_alias_bombs_cleanly(tmp_path):
    latin = tmp_path / "latin1.yaml"
    latin.write_bytes("simulation:\n  # \xe9t\xe9\n".encode("latin-1"))
    clean_failure(planwise("validate-config", latin, cwd=tmp_path), 1,
                  "line 2: the configuration file is not UTF-8 text (byte 0xe9)")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi")))
    clean_failure(planwise("--config", bomb, "run", cwd=tmp_path), 1, "aliases expand to more than 100,000 values")
    clean_failure(planwise("validate-config", bomb, cwd=tmp_path), 1, "aliases expand to more than 100,000 values")
    assert not (tmp_path / "output").exists()


# --------------------------------------------------------------------------- batches from scripts


SCRIPT = """\
import asyncio
from planwise_core import BatchSimulationProcessor

{body}
"""
START = ('processor = BatchSimulationProcessor(max_concurrent=1, output_dir="out", report=False)\n'
         'asyncio.run(processor.process_scenarios([{"name": "a", "start_year": 2025, "end_year": 2025}]))\n'
         'print("finished")\n')


def run_script(folder: Path, body: str) -> subprocess.CompletedProcess:
    script = folder / "script.py"
    script.write_text(SCRIPT.format(body=body))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, str(script)], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=180)


@pytest.mark.parametrize("body", [
    START,
    "def main():\n" + textwrap.indent(START, "    ") + "\nmain()\n",
], ids=["top-level", "main-called-unguarded"])
def test_a_batch_started_by_an_unguarded_script_is_refused_before_anything_runs(tmp_path, body):
    proc = run_script(tmp_path, body)
    assert proc.returncode != 0, proc.stdout
    assert "finished" not in proc.stdout
    assert 'outside an `if __name__ == "__main__":` block' in proc.stderr, proc.stderr
    assert f"{tmp_path / 'script.py'}, line " in proc.stderr
    assert not (tmp_path / "out").exists(), "nothing may be written: no batch folder, no worker"


@pytest.mark.parametrize("guarded", [
    "from planwise_core.batch.executors import unguarded_main_line\n"
    "if __name__ == '__main__':\n    print('where', unguarded_main_line())\n",
    "from planwise_core.batch.executors import unguarded_main_line\n"
    "def main():\n    print('where', unguarded_main_line())\n"
    "if '__main__' == __name__:\n    try:\n        main()\n    finally:\n        pass\n",
], ids=["guarded", "guarded-reversed-and-nested"])
def test_a_guarded_script_is_not_refused(tmp_path, guarded):
    proc = run_script(tmp_path, guarded)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "where None"


# --------------------------------------------------------------------------- structured log lines


def test_an_event_field_never_replaces_the_logging_level():
    record = logging.LogRecord("planwise.run", logging.INFO, __file__, 1, "year done", None, None)
    record.level, record.message_id, record.event = "high", 7, "year_completed"
    payload = json.loads(JsonFormatter().format(record))
    assert payload["level"] == "info" and payload["field_level"] == "high"
    assert payload["message"] == "year done" and payload["event"] == "year_completed"


# --------------------------------------------------------------------------- error_context keeps the type


@pytest.mark.parametrize("error", [MemoryError(), KeyError("k"), FileNotFoundError(2, "No such file"),
                                   UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")],
                         ids=["MemoryError", "KeyError", "FileNotFoundError", "UnicodeDecodeError"])
def test_error_context_keeps_the_original_type_catchable(error):
    with pytest.raises(type(error)) as caught:
        with api.error_context("Loading"):
            raise error
    assert isinstance(caught.value, api.OperationError) and isinstance(caught.value, PlanwiseError)
    assert caught.value.__cause__ is error and str(caught.value).startswith("Loading failed:")
    import pickle

    again = pickle.loads(pickle.dumps(caught.value))
    assert isinstance(again, type(error)) and isinstance(again, api.OperationError)
    assert (again.operation, str(again)) == ("Loading", str(caught.value))


# --------------------------------------------------------------------------- values out of range


def test_values_out_of_range_are_refused_by_validate_config_and_run_before_anything(tmp_path):
    config = tmp_path / "wild.yaml"
    config.write_text("simulation: {start_year: 99999, end_year: 0}\nworkforce: {total_termination_rate: 0.1}\n"
                      "eligibility: {waiting_period_days: 100000000000}\norchestration: {max_workers: 100000}\n"
                      "random_seed: 1\n")
    expected = ["simulation.start_year: must be in [1900, 2200] (got 99999)",
                "simulation.end_year: must be in [1900, 2200] (got 0)",
                "eligibility.waiting_period_days: must be in [0, 3650] (got 100000000000)",
                "orchestration.max_workers: must be in [1, 64] (got 100000)"]
    checked = planwise("validate-config", config, "--json", cwd=tmp_path)
    assert checked.returncode == 1 and json.loads(checked.stdout)["errors"] == expected
    run = planwise("--config", config, "run", "--database", "x.duckdb", cwd=tmp_path)
    clean_failure(run, 1, *expected)
    assert not (tmp_path / "x.duckdb").exists() and not (tmp_path / "x.duckdb.lock").exists()
