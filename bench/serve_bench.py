"""`planwise serve` performance (docs/serve.md, docs/performance.md): prints one table.

- idle server RSS (MB) after start-up and a few page views;
- submission to the first progress event (`started`, written when the worker process starts) and to the first
  simulation stage (the worker has imported the library and dbt and begun the foundation);
- an N x 5-year run through the server against the same run with `planwise run` (wall seconds, ratio);
- the completed run's report: first view (rendered) and second view (cached).

Usage: python bench/serve_bench.py [--employees 10000] [--years 2025-2029] [--workdir DIR]
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
           "report, cached view (s)": 1.0}


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


def measure(employees: int, years: str, workdir: Path) -> dict:
    token = secrets.token_urlsafe(32)
    census = workdir / f"census_{employees}.csv"
    subprocess.run([sys.executable, "-m", "planwise_core", "census", "generate", "--employees", str(employees),
                    "--seed", "1", "--out", str(census)], check=True, capture_output=True)
    proc, url = start(workdir / "ws", token)
    out: dict = {}
    try:
        for path in ("/api/v1/info", "/api/v1/runs", "/api/v1/scenarios"):
            call(url, token, "GET", path)
        out["idle RSS (MB)"] = round(psutil.Process(proc.pid).memory_info().rss / 2**20, 1)
        cen = _upload(url, token, census)
        started = time.perf_counter()
        run = call(url, token, "POST", "/api/v1/runs", {"census_id": cen, "years": years})
        first = stage = None
        while True:
            events = call(url, token, "GET", f"/api/v1/runs/{run['id']}/events.json")
            kinds = [e["type"] for e in events["items"]]
            now = time.perf_counter() - started
            first = first or (now if "started" in kinds else None)
            stage = stage or (now if "stage" in kinds else None)
            if events["terminal"]:
                break
            time.sleep(0.05 if first is None else 0.5)
        out["submit -> first event (s)"] = round(first, 2)
        out["submit -> first stage (s)"] = round(stage, 2)
        out["server run wall (s)"] = round(time.perf_counter() - started, 1)
        for label in ("report, first view (s)", "report, cached view (s)"):
            t = time.perf_counter()
            call(url, token, "GET", f"/api/v1/runs/{run['id']}/report.html")
            out[label] = round(time.perf_counter() - t, 2)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    first_year, last_year = years.split("-")
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "planwise_core", "run", "--census", str(census), "--start-year", first_year,
                    "--end-year", last_year, "--database", str(workdir / "cli.duckdb")], check=True,
                   capture_output=True)
    out["CLI run wall (s)"] = round(time.perf_counter() - t, 1)
    out["server / CLI wall"] = round(out["server run wall (s)"] / out["CLI run wall (s)"], 3)
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
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="serve-bench-"))
    results = measure(args.employees, args.years, workdir)
    print(f"planwise serve bench: {args.employees:,} employees, {args.years}, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'measure':32} {'value':>10} {'target':>8}  verdict")
    for name, value in results.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else ("met" if value <= target else "missed")
        print(f"{name:32} {value:>10} {'' if target is None else target:>8}  {verdict}")


if __name__ == "__main__":
    main()
