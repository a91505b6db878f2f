"""PlanWise away from this checkout: two copies of the dbt project sharing one parse cache, and a wheel installed
into a fresh virtual environment, run from another folder."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from helpers.sql import table_digest
from helpers.cli import planwise
from test_serve_vendor import HTMX_SHA256 as VENDORED_HTMX_SHA256

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "planwise_core" / "dbt_project"


def hazard_and_digest(database: Path) -> tuple[float, str]:
    with duckdb.connect(str(database), read_only=True) as con:
        rate = float(con.execute("select base_rate from stg_promotion_hazard").fetchone()[0])
        return rate, table_digest(con, "fct_workforce_snapshot")


@dataclass
class ProjectCopies:
    """Copies of the dbt project (PLANWISE_DBT_DIR) sharing one parse cache; A's first run is from an empty cache."""

    base: Path
    census: Path
    env: dict
    first: tuple[float, str] = (0.0, "")  # A's promotion hazard and snapshot digest
    parse: Path | None = None  # A's folder in the cache: dbt's partial parse and PlanWise's manifest

    def simulate(self, clone: Path, name: str, *options: str) -> tuple[float, str]:
        database = self.base / name / "planwise.duckdb"  # the same file name for every run
        proc = planwise("run", "--census", self.census, "--database", database, "--end-year", "2025", *options,
                        cwd=self.base, env=dict(self.env, PLANWISE_DBT_DIR=str(clone)))
        assert proc.returncode == 0, proc.stderr
        return hazard_and_digest(database)


@pytest.fixture(scope="module")
def copy_a(tmp_path_factory) -> ProjectCopies:
    """Shared by the two tests below: A's first run is the cold run both need (each test passes on its own)."""
    from planwise_core.census import generate_census

    base = tmp_path_factory.mktemp("copies")
    census = generate_census(120, 3, base / "census.csv")
    shutil.copytree(PROJECT, base / "a" / "dbt", ignore=shutil.ignore_patterns("target", "logs"))
    copies = ProjectCopies(base, census, dict(os.environ, PLANWISE_CACHE_DIR=str(base / "cache")))
    copies.first = copies.simulate(base / "a" / "dbt", "run-a")
    (copies.parse,) = {p.parent for p in (base / "cache").rglob("partial_parse.msgpack.signed")}
    return copies


def test_two_project_copies_never_share_a_parse(copy_a):
    clone_a, clone_b = copy_a.base / "a" / "dbt", copy_a.base / "b" / "dbt"
    shutil.copytree(PROJECT, clone_b, ignore=shutil.ignore_patterns("target", "logs"))
    # B's copy of a model differs (the parameter tables are not in the project any more: the host loads them)
    model = clone_b / "models" / "staging" / "stg_promotion_hazard.sql"
    model.write_text(model.read_text().replace("select * from source", "select 0.30::double as base_rate, "
                                               "min_raise, max_raise, effective_month, effective_day from source"))
    edited_b = copy_a.simulate(clone_b, "run-b")
    assert copy_a.first[0] == 0.10 and edited_b[0] == 0.30
    assert copy_a.simulate(clone_a, "run-a2") == copy_a.first  # B's parse and models never leak into A
    shutil.rmtree(copy_a.base / "b")
    assert copy_a.simulate(clone_a, "run-a3") == copy_a.first  # and A does not need B's folder


def test_a_damaged_parse_cache_is_rebuilt(copy_a):
    # dbt's saved partial parse and PlanWise's saved manifest beside it, both damaged (as by a full disk).
    saved = list(copy_a.parse.glob("*.signed"))
    assert {p.name for p in saved} == {"partial_parse.msgpack.signed", "manifest.pickle.signed"}
    for path in saved:
        path.write_bytes(path.read_bytes()[:1000])
    # The optimized engine parses with dbt in every run (the default, compiled, would run its cached SQL instead);
    # its tables are the compiled first run's.
    clone_a = copy_a.base / "a" / "dbt"
    assert copy_a.simulate(clone_a, "run-damaged", "--optimization", "high") == copy_a.first
    assert all(p.stat().st_size > 1000 for p in saved)  # parsed again and replaced


def test_the_wheel_installs_and_runs_from_another_folder(tmp_path):
    # Built from a copy of the sources, so the build leaves nothing in the checkout.
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", ".cache", "output", "build",
                                                                "*.egg-info", "__pycache__", ".pytest_cache"))
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(wheels), str(source)], check=True, capture_output=True, cwd=tmp_path, timeout=600)
    wheel = next(wheels.glob("planwise-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "planwise_core/dbt_project/dbt_project.yml" in names
    assert "planwise_core/assumptions/defaults/promotion_hazard.csv" in names
    assert not any("/seeds/" in n for n in names)
    assert "planwise_core/config/simulation_config.yaml" in names
    assert any(n.startswith("planwise_core/dbt_project/models/marts/") for n in names)

    # A fresh venv: planwise from the wheel only; its dependencies from this environment's site-packages
    # (a .pth path entry, which adds the folder but runs none of its .pth files, so no editable checkout).
    venv = tmp_path / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    new_site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; "
                                    "print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True,
                                   check=True).stdout.strip())
    (new_site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps",
                    "--no-index", "-q", str(wheel)], check=True, capture_output=True, timeout=600)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PLANWISE_DBT_DIR")}
    env["PLANWISE_CACHE_DIR"] = str(tmp_path / "cache")
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import planwise_core; print(planwise_core.__file__)"],
                           capture_output=True, text=True, cwd=elsewhere, env=env, check=True).stdout
    assert where.startswith(str(new_site)), where
    census = planwise("census", "generate", "--employees", "120", "--out", "census.csv", cwd=elsewhere, env=env,
                    exe=str(venv / "bin" / "planwise"))
    assert census.returncode == 0, census.stderr
    proc = planwise("run", "--census", "census.csv", "--database", "out/sim.duckdb", "--end-year", "2025", cwd=elsewhere,
                    env=env, exe=str(venv / "bin" / "planwise"))
    assert proc.returncode == 0, proc.stderr
    assert hazard_and_digest(elsewhere / "out" / "sim.duckdb")[0] == 0.10

    # An installed wheel's parameter tables are replaced per run, without editing site-packages.
    builtin = new_site / "planwise_core" / "assumptions" / "defaults" / "promotion_hazard.csv"
    before = builtin.read_bytes()
    (elsewhere / "tables").mkdir()
    (elsewhere / "tables" / "promotion_hazard.csv").write_text(before.decode().replace("0.10,", "0.30,", 1))
    proc = planwise("run", "--census", "census.csv", "--database", "out/replaced.duckdb", "--end-year", "2025",
                    "--assumptions", "tables", cwd=elsewhere, env=env, exe=str(venv / "bin" / "planwise"))
    assert proc.returncode == 0, proc.stderr
    assert hazard_and_digest(elsewhere / "out" / "replaced.duckdb")[0] == 0.30
    assert builtin.read_bytes() == before
    summary = planwise("summary", "--database", "out/replaced.duckdb", cwd=elsewhere, env=env,
                       exe=str(venv / "bin" / "planwise"))
    assert "parameter tables: 1 replaced (promotion_hazard), the others built-in" in summary.stdout

    # `planwise serve` from the wheel: its templates, static files and the vendored htmx are package data.
    assert "planwise_core/serve/static/vendor/htmx-2.0.11.min.js" in names
    assert "planwise_core/serve/templates/login.html" in names
    server = subprocess.Popen([str(venv / "bin" / "planwise"), "serve", "ws", "--port", "0"], cwd=elsewhere, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        record = elsewhere / "ws" / ".serve" / "server.json"
        for _ in range(600):
            if record.is_file() or server.poll() is not None:
                break
            time.sleep(0.1)
        url = json.loads(record.read_text())["url"]
        with urllib.request.urlopen(url + "/static/vendor/htmx-2.0.11.min.js", timeout=30) as response:
            assert hashlib.sha256(response.read()).hexdigest() == VENDORED_HTMX_SHA256
        with urllib.request.urlopen(url + "/login", timeout=30) as response:
            assert response.status == 200 and "Sign in" in response.read().decode()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)
