"""The examples of docs/serve.md run as written (bash with curl and jq, and Python) against a live server on
127.0.0.1 with the quick fake worker; two completed runs with real result databases (the shared registry's
report run) make the compare and workbook examples real."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers.serve import TOKEN, app_client, completed_run, threaded_server
from test_report import SPEC

pytestmark = pytest.mark.slow
DOCS = Path(__file__).resolve().parent.parent / "docs" / "serve.md"


def blocks(kind: str) -> list[str]:
    return re.findall(rf"^```{kind}\n(.*?)^```", DOCS.read_text(encoding="utf-8"), re.S | re.M)


@pytest.fixture(scope="module")
def live(sims, tmp_path_factory):
    if not shutil.which("jq") or not shutil.which("curl"):
        pytest.skip("curl and jq are needed to run the documented session")
    workspace = tmp_path_factory.mktemp("docs") / "workspace"
    _client, gate = app_client(workspace)
    for run_id in ("run_20260101_000000_dddd01", "run_20260101_000000_dddd02"):
        completed_run(workspace, sims.get(SPEC).database, run_id)
        job = workspace / "runs" / run_id / "job.json"
        job.write_text(job.read_text().replace('"report-spec"', '"baseline"'))
    gate.app.state.scheduler.load()
    saved_step = os.environ.get("FAKE_WORKER_STEP")
    os.environ["FAKE_WORKER_STEP"] = "1.0"  # slow enough to cancel a running run in the documented session
    server, thread, url = threaded_server(gate)
    gate.settings.allowed_hosts = (url.removeprefix("http://"),)
    yield url, tmp_path_factory.mktemp("docs-cwd")
    server.should_exit = True
    thread.join(15)
    os.environ.pop("FAKE_WORKER_STEP") if saved_step is None else os.environ.update(FAKE_WORKER_STEP=saved_step)


def test_the_documented_sessions_run_as_written(live):
    url, cwd = live
    env = {**os.environ, "PLANWISE_URL": url, "PLANWISE_TOKEN": TOKEN}
    scripts = blocks("bash")
    assert len(scripts) == 3
    outputs = []
    for number, script in enumerate(scripts, 1):
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=env, cwd=cwd, capture_output=True,
                              text=True, timeout=90)
        assert proc.returncode == 0, f"docs/serve.md bash block {number}:\n{proc.stdout}\n{proc.stderr}"
        outputs.append(proc.stdout)
    assert "completed\nplanwise run --config runs/run_" in outputs[0]
    assert outputs[1].splitlines()[:3] == ["cancelling", "2", "Head count on Dec 31 (actives)"]
    bands = [line.split() for line in outputs[2].splitlines()]
    assert [(b[0], b[1]) for b in bands] == [("2025", "2"), ("2026", "2")] and all(float(b[2]) < float(b[3]) for b in bands)
    import openpyxl

    assert len(openpyxl.load_workbook(cwd / "results.xlsx", read_only=True).sheetnames) >= 3


def test_the_python_example_runs_as_written(live, capsys, monkeypatch):
    url, _cwd = live
    monkeypatch.setenv("PLANWISE_URL", url)
    monkeypatch.setenv("PLANWISE_TOKEN", TOKEN)
    for number, block in enumerate(blocks("python"), 1):
        exec(compile(block, f"docs/serve.md python block {number}", "exec"), {})
    assert "completed runs; the last one: run_" in capsys.readouterr().out
