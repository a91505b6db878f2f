"""Third-party plugins from a fake *installed* distribution: loaded, broken on import, blocked.

The distributions are folders in tests/plugins/ (a module plus its ``*.dist-info``);
each test copies one into tmp_path and puts it on sys.path or PYTHONPATH, so the
real ``importlib.metadata.entry_points`` machinery finds it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from planwise_core.errors import PluginError
from planwise_core.manager import describe_plugins, engine_names, get_plugin_manager
from helpers.cli import copy_dist, planwise

ROOT = Path(__file__).resolve().parent.parent
PROBE_ROW = {"name": "probe", "engine": False, "hooks": ["collect_metrics", "process_year"],
             "distribution": "probe-dist", "version": "1.0"}


@pytest.fixture
def install_dist(tmp_path, monkeypatch):
    """Put a fixture distribution on sys.path, as if pip-installed; forget its module afterwards."""
    monkeypatch.delenv("PLANWISE_BLOCK_PLUGINS", raising=False)

    def install(name: str) -> Path:
        site = copy_dist(name, tmp_path)
        monkeypatch.syspath_prepend(str(site))  # also invalidates the import caches
        return site

    yield install
    for module in ("probe_module", "probe_broken"):
        sys.modules.pop(module, None)


def assert_one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> str:
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


# --------------------------------------------------------------------------- success


def test_installed_plugin_is_listed_with_its_distribution(install_dist):
    install_dist("probe")
    pm = get_plugin_manager()

    rows = {r["name"]: r for r in describe_plugins(pm)}
    assert rows["probe"] == PROBE_ROW
    assert set(rows) == {"compiled", "legacy", "optimized", "probe"}
    assert rows["optimized"]["distribution"] == "planwise"
    assert engine_names(pm) == ["compiled", "legacy", "optimized"]  # an observer is not an engine


def test_load_entrypoints_false_ignores_installed_plugins(install_dist):
    install_dist("broken")  # would fail if it were imported
    assert {name for name, _ in get_plugin_manager(load_entrypoints=False).list_name_plugin()} \
        == {"compiled", "legacy", "optimized"}


def test_plugins_command_lists_the_installed_plugin(tmp_path):
    site = copy_dist("probe", tmp_path)

    text = planwise("plugins", cwd=tmp_path, site=site)
    as_json = planwise("plugins", "--json", cwd=tmp_path, site=site)

    assert text.returncode == 0, text.stderr
    probe_line = next(line for line in text.stdout.splitlines() if line.startswith("probe "))
    assert probe_line.split() == ["probe", "plugin", "probe-dist", "1.0", "hooks:", "collect_metrics,", "process_year"]
    assert as_json.returncode == 0, as_json.stderr
    assert PROBE_ROW in json.loads(as_json.stdout)


@pytest.mark.slow
def test_run_calls_the_installed_plugin_and_reports_its_metrics(tmp_path):
    site = copy_dist("probe", tmp_path)
    probe_log = tmp_path / "probe.log"
    census = tmp_path / "census.csv"
    generated = planwise("census", "generate", "--employees", "200", "--out", str(census), cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr

    proc = planwise("run", "--census", str(census), "--start-year", "2025", "--end-year", "2025",
                    "--database", str(tmp_path / "db" / "run.duckdb"), "--json",
                    cwd=tmp_path, site=site, PLANWISE_PROBE_LOG=str(probe_log))

    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["success"] and result["completed_years"] == [2025]
    assert probe_log.read_text() == "process_year 2025\n"
    assert result["plugin_metrics"]["probe"] == {"answer": 42}
    assert result["years"]["2025"]["plugin"] == "compiled"  # the observer returned None: the default engine won


# --------------------------------------------------------------------------- import error


def test_import_error_is_a_plugin_error_naming_plugin_and_distribution(install_dist):
    install_dist("broken")
    with pytest.raises(PluginError) as error:
        get_plugin_manager()
    message = str(error.value)
    assert message.startswith("Plugin 'probe' (distribution probe-dist) failed to import")
    assert "frobnicate" in message  # the plugin's own reason
    assert "PLANWISE_BLOCK_PLUGINS=probe" in message  # and the way out


@pytest.mark.parametrize("args", [("plugins",), ("run", "--database", "db/x.duckdb")], ids=["plugins", "run"])
def test_cli_exits_1_with_one_line_when_a_plugin_fails_to_import(tmp_path, args):
    site = copy_dist("broken", tmp_path)
    proc = planwise(*args, cwd=tmp_path, site=site)
    assert_one_line_error(proc, "Plugin 'probe'", "probe-dist", "failed to import", "PLANWISE_BLOCK_PLUGINS=probe")
    assert not (tmp_path / "db").exists()


# --------------------------------------------------------------------------- blocked


def test_blocked_plugin_is_not_imported_even_when_broken(install_dist, monkeypatch):
    install_dist("broken")
    monkeypatch.setenv("PLANWISE_BLOCK_PLUGINS", "probe")
    pm = get_plugin_manager()
    assert pm.get_plugin("probe") is None and pm.is_blocked("probe")
    assert "probe_broken" not in sys.modules


def test_blocked_argument_works_like_the_env_var(install_dist):
    install_dist("probe")
    pm = get_plugin_manager(blocked=("probe",))
    assert pm.get_plugin("probe") is None and pm.is_blocked("probe")
    assert "probe_module" not in sys.modules


def test_describe_plugins_leaves_out_blocked_names(install_dist):
    install_dist("probe")
    pm = get_plugin_manager(blocked=("probe",))
    assert [r["name"] for r in describe_plugins(pm)] == ["compiled", "legacy", "optimized"]


def test_cli_with_the_broken_plugin_blocked_runs_normally(tmp_path):
    site = copy_dist("broken", tmp_path)
    proc = planwise("plugins", "--json", cwd=tmp_path, site=site, PLANWISE_BLOCK_PLUGINS="probe")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    rows = {r["name"]: r for r in json.loads(proc.stdout)}
    assert rows["optimized"]["engine"] and rows["legacy"]["engine"]
    assert rows.get("probe", {}).get("hooks", []) == []  # never imported, so it brings no hooks


def test_cli_plugins_does_not_list_a_blocked_plugin(tmp_path):
    site = copy_dist("broken", tmp_path)
    proc = planwise("plugins", cwd=tmp_path, site=site, PLANWISE_BLOCK_PLUGINS="probe")
    assert proc.returncode == 0, proc.stderr
    assert [line.split()[0] for line in proc.stdout.splitlines()] == ["compiled", "legacy", "optimized"]
