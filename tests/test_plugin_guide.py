"""The example plugin of docs/plugins.md, taken verbatim from the guide, pip-installed and run for real.

The guide's ```toml block (pyproject.toml) and the ```python block labelled with the module's file
name are written to tmp_path as a project, installed with pip into a ``--target`` folder, and that
folder is put on PYTHONPATH of real ``planwise`` processes -- so the test fails when the guide's
example stops being complete, installable or correct against the current host.
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path

import duckdb
import pytest

from helpers.cli import planwise, planwise_env

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "plugins.md"
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = VENV_BIN / "python"

FENCE = re.compile(r"^```(?P<lang>[\w-]*)[ \t]*\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)


# --------------------------------------------------------------------------- the guide


def fenced_blocks(text: str) -> list[tuple[str, str, str]]:
    """(language, label, body) of every fenced block; the label is the last non-blank line before it."""
    blocks = []
    for match in FENCE.finditer(text):
        before = [line.strip() for line in text[:match.start()].splitlines() if line.strip()]
        blocks.append((match["lang"], before[-1] if before else "", match["body"]))
    return blocks


def guide_example() -> dict:
    """The example plugin of the guide: its pyproject text and data, its module name and source."""
    if not GUIDE.exists():
        pytest.fail(f"{GUIDE} is missing")
    text = GUIDE.read_text()
    blocks = fenced_blocks(text)

    tomls = [body for lang, _, body in blocks if lang == "toml"]
    if len(tomls) != 1:
        pytest.fail(f"{GUIDE.name} should have exactly one ```toml block (the example's pyproject.toml), "
                    f"found {len(tomls)}")
    pyproject = tomllib.loads(tomls[0])
    try:
        name = pyproject["project"]["name"]
        version = pyproject["project"]["version"]
        [(plugin, target)] = pyproject["project"]["entry-points"]["planwise"].items()
    except (KeyError, ValueError) as error:
        pytest.fail(f"the ```toml block of {GUIDE.name} should declare [project] name, version and exactly one "
                    f"[project.entry-points.planwise] entry: {error!r}")
    module = target.split(":")[0]
    if "." in module:
        pytest.fail(f"the example's entry point {target!r} should name a top-level module")

    sources = [body for lang, label, body in blocks if lang == "python" and f"`{module}.py`" in label]
    if len(sources) != 1:
        pytest.fail(f"{GUIDE.name} should have exactly one ```python block introduced by `{module}.py`: "
                    f"(the module of entry point {plugin} = {target!r}), found {len(sources)}")

    consoles = [body for lang, _, body in blocks if lang == "console"]
    return {"pyproject": tomls[0], "name": name, "version": version, "plugin": plugin, "module": module,
            "source": sources[0], "console": consoles[0] if consoles else ""}


def documented_plugins_line(console: str, plugin: str) -> str | None:
    """The line the guide shows for ``plugin`` in the output of ``$ planwise plugins``."""
    lines = console.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == "$ planwise plugins":
            for out in lines[i + 1:]:
                if out.startswith("$"):
                    return None
                if out.split()[:1] == [plugin]:
                    return out
    return None


# --------------------------------------------------------------------------- processes


def clean_env(**extra: str) -> dict[str, str]:
    return planwise_env(PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)


def pip_install(project: Path, site: Path, cwd: Path) -> None:
    """Install the project into ``site`` with pip, as a user would.

    First without build isolation (offline, the venv's own setuptools). The venv's setuptools may be
    too old for the example's ``requires = ["setuptools>=68"]`` or lack ``bdist_wheel`` (no ``wheel``
    in the venv); then pip builds it the ordinary way, in an isolated build environment that gets the
    build requirements from the configured package index.
    """
    attempts = []
    for isolation in (["--no-build-isolation"], []):
        proc = subprocess.run([str(PYTHON), "-m", "pip", "install", "--no-deps", *isolation,
                               "--target", str(site), str(project)],
                              cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=180)
        if proc.returncode == 0:
            return
        attempts.append(f"--- pip install {' '.join(isolation) or '(build isolation)'} "
                        f"exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    pytest.fail("could not pip-install the example plugin of docs/plugins.md:\n" + "\n".join(attempts))


# --------------------------------------------------------------------------- the test


@pytest.mark.slow
def test_guide_example_plugin_installs_lists_and_reports_its_metrics(tmp_path):
    example = guide_example()
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(example["pyproject"])
    (project / f"{example['module']}.py").write_text(example["source"])
    site = tmp_path / "site"

    pip_install(project, site, cwd=tmp_path)
    assert (site / f"{example['module']}.py").read_text() == example["source"]

    # planwise plugins --json: the example is seen as an observer from its distribution.
    listed = planwise("plugins", "--json", cwd=tmp_path, site=site)
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert example["plugin"] in rows, f"{example['plugin']!r} not listed: {sorted(rows)}"
    row = rows[example["plugin"]]
    assert (row["distribution"], row["version"]) == (example["name"], example["version"])
    assert row["engine"] is False
    assert row["hooks"] == ["collect_metrics", "process_year"]

    # ... and the text listing matches the one the guide shows.
    documented = documented_plugins_line(example["console"], example["plugin"])
    assert documented is not None, "the guide's console block no longer shows `$ planwise plugins` output"
    text = planwise("plugins", cwd=tmp_path, site=site)
    assert text.returncode == 0, text.stderr
    shown = next((line for line in text.stdout.splitlines() if line.split()[:1] == [example["plugin"]]), "")
    assert shown.split() == documented.split()

    # A real run: the observer's collect_metrics lands in plugin_metrics with the year-end actives.
    census = tmp_path / "c.csv"
    generated = planwise("census", "generate", "--employees", "200", "--seed", "1", "--out", str(census),
                         cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    database = tmp_path / "db.duckdb"
    run = planwise("run", "--census", str(census), "--database", str(database),
                   "--start-year", "2025", "--end-year", "2025", "--json", cwd=tmp_path, site=site)

    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    result = json.loads(run.stdout)
    assert result["success"] and result["completed_years"] == [2025]
    assert result["years"]["2025"]["plugin"] == "compiled"  # the wrapper passed the (default) engine's result through
    with duckdb.connect(str(database), read_only=True) as con:
        actives = con.execute("select count(*) from fct_workforce_snapshot "
                              "where simulation_year = 2025 and employment_status = 'active'").fetchone()[0]
    assert actives > 0
    assert result["plugin_metrics"][example["plugin"]] == {"year_end_actives": {"2025": actives}}
    assert "compiled" in result["plugin_metrics"]  # the engine still reports its own metrics
