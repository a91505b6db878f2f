"""Progress bars on a terminal; silence with --json or when stderr is not a terminal."""

from __future__ import annotations

import os
import re
import pty
import subprocess

import pytest

from helpers.cli import PLANWISE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def census(tmp_path_factory):
    path = tmp_path_factory.mktemp("progress") / "census.csv"
    subprocess.run([str(PLANWISE), "census", "generate", "--employees", "150", "--seed", "2", "--out", str(path)], check=True)
    return path


def _run_with_tty_stderr(args) -> str:
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait()
    os.close(master)
    assert proc.returncode == 0
    return b"".join(chunks).decode(errors="replace")


def _args(census, database, *extra):
    return [str(PLANWISE), "run", "--census", str(census), "--database", str(database), "--start-year", "2025",
            "--end-year", "2025", *extra]


def test_a_terminal_gets_a_bar_naming_each_step(tmp_path, census):
    shown = _run_with_tty_stderr(_args(census, tmp_path / "tty.duckdb"))
    assert "foundation" in shown
    assert re.search(r"foundation \d+s \(usually about \d+s\), \d+s in all", shown), shown[-500:]
    assert "year 2025 (max)" in shown  # the default level: max, the compiled engine
    assert "2/2" in shown  # foundation + one year


def test_json_and_pipes_are_silent(tmp_path, census):
    shown = _run_with_tty_stderr(_args(census, tmp_path / "json.duckdb", "--json"))
    assert "year 2025" not in shown and "foundation" not in shown
    piped = subprocess.run(_args(census, tmp_path / "pipe.duckdb"), capture_output=True, text=True)
    assert piped.returncode == 0 and piped.stderr == ""


def test_a_batch_on_a_terminal_redraws_one_bar_per_run_and_the_total(tmp_path, census):
    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text(f"census: {census}\nscenarios:\n"
                         "  - {name: alpha, overrides: {simulation.end_year: 2025}}\n"
                         "  - {name: beta, overrides: {simulation.end_year: 2025, compensation.cola_rate: 0.01}}\n")
    shown = _run_with_tty_stderr([str(PLANWISE), "batch", str(scenarios), "--output", str(tmp_path / "out"),
                                  "--max-concurrent", "1", "--no-report"])
    assert "\x1b[" in shown, "the block is redrawn in place"
    last_frame = shown.rsplit("\x1b[J", 1)[1].splitlines()
    assert last_frame[0].startswith("alpha/seed-42 [####################] 2/2") and "completed" in last_frame[0]
    assert last_frame[1].startswith("beta/seed-42  [####################] 2/2") and "completed" in last_frame[1]
    assert last_frame[2] == "batch: 2/2 runs finished, 2 completed"
