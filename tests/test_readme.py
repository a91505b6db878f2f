"""The README works top to bottom: its quick start is `make demo` and `make test`, and its "Model your own plan"
walk runs exactly as written (bash, in a temporary folder that sees the checkout's `.venv` and
`planwise_core/config`), ending with two databases whose match cost differs as the walk says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from helpers.cli import planwise_env

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
WALK_MARKER = "<!-- walk: the fenced block below is run by tests/test_readme.py -->"


def fenced_after(marker: str) -> str:
    tail = README.split(marker, 1)[1]
    return re.search(r"```bash\n(.*?)```", tail, flags=re.S).group(1)


def section(title: str) -> str:
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_quick_start_is_make_demo_and_make_test():
    commands = [line.split("#")[0].strip() for line in re.search(r"```bash\n(.*?)```", section("Quick start"),
                                                                  flags=re.S).group(1).splitlines()]
    assert commands == ["make demo", "make test"]


def test_the_readme_shows_the_copy_of_the_defaults_and_a_database_per_scenario():
    using = section("Using it")
    assert "cp planwise_core/config/simulation_config.yaml my_config.yaml" in using
    assert (ROOT / "planwise_core/config/simulation_config.yaml").is_file()
    diff = next(line for line in using.splitlines() if " diff " in line)
    assert len(re.findall(r"\S+\.duckdb", diff)) == 2
    for command in ("summary --database", "export --database", "--config my_config.yaml run"):
        assert command in using


@pytest.mark.slow
def test_the_walk_runs_as_written(tmp_path):
    walk = fenced_after(WALK_MARKER)
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (tmp_path / "planwise_core").symlink_to(ROOT / "planwise_core")
    # The suite's parse and compiled-SQL cache (PLANWISE_CACHE_DIR or the user's), as every other test: the
    # walk's project is the checkout's, so its parse is the one earlier tests made (a private cache re-parsed).
    env = planwise_env()
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", walk], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "output" / "rich_match" / "results.xlsx").is_file()
    # The richer match costs more, every year (the same census and seed: the same people defer the same rates).
    match = {}
    for name in ("base", "rich_match"):
        with duckdb.connect(str(tmp_path / "output" / f"{name}.duckdb"), read_only=True) as con:
            match[name] = con.execute("select simulation_year, sum(employer_match) from fct_dc_contributions "
                                      "group by 1 order by 1").fetchall()
    assert [y for y, _ in match["base"]] == [2025, 2026]
    assert all(rich > base for (_, base), (_, rich) in zip(match["base"], match["rich_match"]))
    # The diff printed the match's change and the configuration key that differs.
    assert "Employer match" in proc.stdout and "plan.match.tiers" in proc.stdout, proc.stdout[-3000:]
    # The pandas line of the README, on the walk's database.
    line = next(text for text in section("Analysis in pandas").splitlines() if text.startswith(".venv/bin/python -c"))
    line = line.replace("output/planwise.duckdb", "output/base.duckdb")
    proc = subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "simulation_year" in proc.stdout, proc.stderr
