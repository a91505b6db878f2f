"""`planwise serve` performance (docs/serve.md, docs/performance.md): prints one table.

- idle server RSS (MB) after start-up and a few page views;
- submission to the first progress event (`started`, written when the worker process starts) and to the first
  simulation stage (the worker has imported the library and dbt and begun the foundation);
- N x 5-year runs through the server against the same runs with `planwise run`, interleaved (--pairs), wall
  seconds and CPU seconds (the kernel's count for the stopped server with its workers, and for the CLI), ratios;
- with --big N: one N-employee run through the server, then its run page and report, first and second view.

Usage: python bench/serve_bench.py [--employees 10000] [--years 2025-2029] [--pairs 2] [--big 100000] [--workdir DIR]
The machine is shared: run it once, on a machine as quiet as you can get, and read the figures with the load.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

TARGETS = {"idle RSS (MB)": 150, "submit -> first event (s)": 1.0, "server / CLI wall": 1.1,
           "server / CLI CPU": 1.1, "report, cached view (s)": 1.0, "run page, second view (s)": 1.0}


def call(url: str, token: str, method: str, path: str, body=None):
    request = urllib.request.Request(url + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=3600) as response:
        raw = response.read()
        return json.loads(raw) if response.headers.get("content-type", "").startswith("application/json") else raw


def start(workspace: Path, token: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PLANWISE_SERVE_TOKEN": token}
    proc = subprocess.Popen([sys.executable, "-m", "planwise_core", "serve", str(workspace), "--port", "0",
                             "--max-concurrent", "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    record = workspace / ".serve" / "server.json"
    while not record.is_file():
        time.sleep(0.05)
    return proc, json.loads(record.read_text())["url"]


def _stop(proc: subprocess.Popen) -> float:
    """Stop the server; the CPU seconds it and its (waited-for) workers used, from the kernel's accounting."""
    proc.send_signal(signal.SIGINT)
    _pid, _status, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return usage.ru_utime + usage.ru_stime


def _wait_run(url: str, token: str, run_id: str, started: float) -> tuple[float, float | None, float | None]:
    first = stage = None
    while True:
        events = call(url, token, "GET", f"/api/v1/runs/{run_id}/events.json")
        kinds = [e["type"] for e in events["items"]]
        now = time.perf_counter() - started
        first = first or (now if "started" in kinds else None)
        stage = stage or (now if "stage" in kinds else None)
        if events["terminal"]:
            return time.perf_counter() - started, first, stage
        time.sleep(0.05 if first is None else 0.5)


def server_run(workdir: Path, census: Path, years: str, out: dict, label: str) -> str:
    """One run through a fresh server: wall (submission to the terminal event) and CPU (server + worker)."""
    token = secrets.token_urlsafe(32)
    workspace = workdir / f"ws-{label}"
    proc, url = start(workspace, token)
    try:
        for path in ("/api/v1/info", "/api/v1/runs", "/api/v1/scenarios"):
            call(url, token, "GET", path)
        out.setdefault("idle RSS (MB)", round(psutil.Process(proc.pid).memory_info().rss / 2**20, 1))
        cen = _upload(url, token, census)
        started = time.perf_counter()
        run = call(url, token, "POST", "/api/v1/runs", {"census_id": cen, "years": years})
        wall, first, stage = _wait_run(url, token, run["id"], started)
        out.setdefault("submit -> first event (s)", round(first, 2))
        out.setdefault("submit -> first stage (s)", round(stage, 2))
        out[f"server run wall {label} (s)"] = round(wall, 1)
        if label.startswith("big"):
            for name in ("run page, first view (s)", "report, first view (s)", "report, cached view (s)",
                         "run page, second view (s)"):
                t = time.perf_counter()
                call(url, token, "GET", f"/api/v1/runs/{run['id']}/report.html" if "report" in name else
                     f"/runs/{run['id']}")
                out[name] = round(time.perf_counter() - t, 2)
    finally:
        out[f"server run CPU {label} (s)"] = round(_stop(proc), 1)
    return run["id"]


def cli_run(workdir: Path, census: Path, years: str, out: dict, label: str) -> None:
    first_year, last_year = years.split("-")
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "planwise_core", "run", "--census", str(census), "--start-year",
                             first_year, "--end-year", last_year, "--database", str(workdir / f"cli-{label}.duckdb")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    assert status == 0, f"planwise run failed ({status})"
    out[f"CLI run wall {label} (s)"] = round(time.perf_counter() - t, 1)
    out[f"CLI run CPU {label} (s)"] = round(usage.ru_utime + usage.ru_stime, 1)


def generate(workdir: Path, employees: int) -> Path:
    census = workdir / f"census_{employees}.csv"
    subprocess.run([sys.executable, "-m", "planwise_core", "census", "generate", "--employees", str(employees),
                    "--seed", "1", "--out", str(census)], check=True, capture_output=True)
    return census


def measure(employees: int, years: str, workdir: Path, pairs: int, big: int) -> dict:
    """``pairs`` server runs and CLI runs of ``employees`` interleaved (server, CLI, server, CLI...), then one
    ``big`` run through the server whose run page and report are timed (0: none)."""
    census = generate(workdir, employees)
    out: dict = {}
    for pair in range(1, pairs + 1):
        server_run(workdir, census, years, out, str(pair))
        cli_run(workdir, census, years, out, str(pair))
    for kind in ("wall", "CPU"):
        server = sum(out[f"server run {kind} {p} (s)"] for p in range(1, pairs + 1))
        cli = sum(out[f"CLI run {kind} {p} (s)"] for p in range(1, pairs + 1))
        out[f"server / CLI {kind}"] = round(server / cli, 3)
    if big:
        server_run(workdir, generate(workdir, big), years, out, f"big {big}")
    return out


def _upload(url: str, token: str, census: Path) -> str:
    request = urllib.request.Request(url + "/api/v1/censuses/upload?name=bench", method="PUT",
                                     data=census.read_bytes(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"})
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())["id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--years", default="2025-2029")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--pairs", type=int, default=2, help="server and CLI runs, interleaved")
    parser.add_argument("--big", type=int, default=0, help="then one run of this many employees, its page timed")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="serve-bench-"))
    results = measure(args.employees, args.years, workdir, args.pairs, args.big)
    print(f"planwise serve bench: {args.employees:,} employees, {args.years}, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'measure':32} {'value':>10} {'target':>8}  verdict")
    for name, value in results.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else ("met" if value <= target else "missed")
        print(f"{name:32} {value:>10} {'' if target is None else target:>8}  {verdict}")


if __name__ == "__main__":
    main()
