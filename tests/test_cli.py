"""The `planwise` command line, run as real subprocesses: exit codes, messages, and the docs.

A user mistake must give one clear message (exit 1 for bad input, 2 for bad usage),
never a traceback, and must leave an existing database exactly as it was.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import subprocess
from pathlib import Path

import click
import duckdb
import pytest

from planwise_core.cli import cli
from helpers.cli import finish, planwise, start
from helpers.cli import clean_failure as failed

ROOT = Path(__file__).resolve().parent.parent
UNKNOWN_PLUGIN = "Unknown plugin 'nope'. Choose one of: compiled, legacy, optimized"

VALID_CONFIG = """\
simulation:
  start_year: 2025
  end_year: 2029
workforce:
  total_termination_rate: 0.12
random_seed: 42
orchestration:
  max_retries: 0
"""


def database_fingerprint(database: Path) -> str:
    """A hash of every row of every table (all schemas), independent of row order."""
    digest = hashlib.sha256()
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_type = 'BASE TABLE' order by 1, 2").fetchall()
        for schema, table in tables:
            rows = sorted(repr(r) for r in con.execute(f'select * from "{schema}"."{table}"').fetchall())
            digest.update(f"{schema}.{table}:{len(rows)}:{rows}".encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> dict:
    """A census, a config (2025-2029, seed 42) and a database from a real 1-year run, shared by the module.

    The other expensive commands of the module (a foundation, a run with --seed 7) start at the
    same time, each on its own database, so they overlap instead of queueing. Every test that
    uses this fixture is marked slow: whichever runs first pays for the runs.
    """
    folder = tmp_path_factory.mktemp("cli")
    (folder / "config.yaml").write_text(VALID_CONFIG)
    generated = planwise("census", "generate", "--employees", 200, "--out", "census.csv", cwd=folder)
    assert generated.returncode == 0, generated.stderr
    running = {
        # --config after the command name (the others give it before) and JSON log lines on stderr.
        "base": start("--structured-logs", "run", "--config", "config.yaml", "--census", "census.csv",
                      "--database", "base.duckdb", "--start-year", 2025, "--end-year", 2025, "--json", cwd=folder),
        # the optimized engine's foundation (one `dbt build`, its dbt step and node lines): not the default engine
        "foundation": start("--trace-plugins", "--plugin", "optimized", "foundation", "--census", "census.csv",
                            "--database", "foundation.duckdb", "--json", cwd=folder),
        "seed7": start("--config", "config.yaml", "run", "--census", "census.csv", "--database", "seed7.duckdb",
                       "--seed", 7, "--start-year", 2025, "--end-year", 2026, "--json", cwd=folder),
    }
    done = {name: finish(proc) for name, proc in running.items()}
    for name, proc in done.items():
        assert proc.returncode == 0, (name, proc.stderr)
    return {"dir": folder, "generated": generated, "result": json.loads(done["base"].stdout), "procs": done,
            "db": folder / "base.duckdb", "fingerprint": database_fingerprint(folder / "base.duckdb")}


def assert_untouched(work: dict) -> None:
    assert database_fingerprint(work["db"]) == work["fingerprint"], "a refused command changed the database"


# --------------------------------------------------------------------------- unknown plugin


@pytest.mark.slow
def test_unknown_plugin_exits_1_and_leaves_the_database_alone(work):
    proc = planwise("--plugin", "nope", "run", "--census", "census.csv", "--database", "base.duckdb", cwd=work["dir"])
    assert failed(proc, 1).strip() == f"Error: {UNKNOWN_PLUGIN}"
    assert_untouched(work)


@pytest.mark.slow
def test_unknown_plugin_for_foundation_too(work):
    proc = planwise("--plugin", "nope", "foundation", "--database", "base.duckdb", cwd=work["dir"])
    failed(proc, 1, UNKNOWN_PLUGIN)
    assert_untouched(work)


# --------------------------------------------------------------------------- configuration

BAD_CONFIGS = {
    "unknown_key": (VALID_CONFIG.replace("random_seed: 42", "random_seed: 42\nrandom_sed: 7"),
                    ["random_sed: unknown key (did you mean 'random_seed'?)"]),
    "bad_rate": (VALID_CONFIG.replace("0.12", "1.5"), ["workforce.total_termination_rate: must be in [0, 1] (got 1.5; "
                                                        "did you mean 0.015?)"]),
    "yaml_syntax": ("simulation: [2025\n", ["line 2, column 1: YAML syntax error"]),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_file_exits_1_naming_file_and_key_path(work, case):
    text, fragments = BAD_CONFIGS[case]
    path = work["dir"] / f"{case}.yaml"
    path.write_text(text)

    proc = planwise("--config", path, "run", "--census", "census.csv", "--database", "base.duckdb", cwd=work["dir"])

    failed(proc, 1, f"Error: Invalid configuration in {path}:", *fragments)
    assert_untouched(work)


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_validate_config_invalid_exits_1(work, case):
    text, fragments = BAD_CONFIGS[case]
    path = work["dir"] / f"validate_{case}.yaml"
    path.write_text(text)

    proc = planwise("validate-config", path, cwd=work["dir"])

    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in proc.stdout + proc.stderr


@pytest.mark.slow
def test_validate_config_valid_exits_0(work):
    proc = planwise("validate-config", "config.yaml", cwd=work["dir"])
    assert (proc.returncode, proc.stdout) == (0, "config.yaml: valid\n")


@pytest.mark.slow
def test_validate_config_json_parses_for_valid_and_invalid(work):
    (work["dir"] / "bad_json.yaml").write_text(BAD_CONFIGS["bad_rate"][0])

    good = planwise("validate-config", "config.yaml", "--json", cwd=work["dir"])
    bad = planwise("validate-config", "bad_json.yaml", "--json", cwd=work["dir"])

    assert good.returncode == 0
    assert json.loads(good.stdout) == {"file": "config.yaml", "valid": True, "errors": [], "warnings": []}
    assert bad.returncode == 1
    payload = json.loads(bad.stdout)
    assert payload["valid"] is False
    assert payload["errors"] == ["workforce.total_termination_rate: must be in [0, 1] (got 1.5; did you mean 0.015?)"]


@pytest.mark.slow
def test_validate_config_compat_reports_every_engine(work):
    text = planwise("validate-config", "config.yaml", "--compat", cwd=work["dir"])
    as_json = planwise("validate-config", "config.yaml", "--compat", "--json", cwd=work["dir"])

    assert text.returncode == 0
    assert "engine legacy: compatible" in text.stdout and "engine optimized: compatible" in text.stdout
    compat = json.loads(as_json.stdout)["compatibility"]
    assert compat["config_valid"] and compat["new_system_compatible"] and compat["legacy_compatible"]
    assert compat["engines"] == {"compiled": {"compatible": True, "issues": []},
                                 "legacy": {"compatible": True, "issues": []},
                                 "optimized": {"compatible": True, "issues": []}}


# --------------------------------------------------------------------------- census


@pytest.mark.slow
def test_census_generate_writes_the_file(work):
    proc = work["generated"]
    census = work["dir"] / "census.csv"
    assert (proc.returncode, proc.stdout) == (0, "wrote 200 employees to census.csv\n")
    lines = census.read_text().splitlines()
    assert len(lines) == 201 and lines[0].startswith("employee_id,")


@pytest.mark.slow
def test_census_generate_refuses_a_bad_suffix(work):
    proc = planwise("census", "generate", "--employees", 5, "--out", "census.txt", cwd=work["dir"])
    failed(proc, 1, "must end in .csv or .parquet")
    assert not (work["dir"] / "census.txt").exists()


@pytest.mark.slow
def test_census_generate_ndt_columns(tmp_path):
    proc = planwise("census", "generate", "--employees", 400, "--seed", 3, "--ndt-columns", "--out", "ndt.csv",
                    cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    header, *rows = (tmp_path / "ndt.csv").read_text().splitlines()
    assert header.endswith(",ownership_pct,is_officer,employee_deferral_balance") and len(rows) == 400
    # max(3, 400 // 100) = 4 owners: 30 %, 15 %, 6 % and one at 2 % (docs/census.md).
    owned = sorted((float(r.split(",")[7]) for r in rows if float(r.split(",")[7]) > 0), reverse=True)
    assert owned == [0.30, 0.15, 0.06, 0.02]


@pytest.mark.slow
def test_bad_census_exits_1_naming_file_line_and_column(work):
    lines = (work["dir"] / "census.csv").read_text().splitlines()
    first_id = lines[1].split(",")[0]
    lines[4] = ",".join([first_id, *lines[4].split(",")[1:]])  # line 5 repeats line 2's id
    bad = work["dir"] / "duplicate_ids.csv"
    bad.write_text("\n".join(lines) + "\n")

    proc = planwise("run", "--census", bad, "--database", "base.duckdb", cwd=work["dir"])

    failed(proc, 1, f"Census {bad} is invalid (nothing was loaded",
           f"column employee_id: duplicate id '{first_id}' at lines 2, 5")
    assert_untouched(work)


# --------------------------------------------------------------------------- usage errors


@pytest.mark.slow
@pytest.mark.parametrize("args, message", [
    (("run", "--optimization", "turbo"), "Invalid value for '--optimization': 'turbo' is not one of"),
    (("run", "--max-workers", "0"), "Invalid value for '--max-workers': 0 is not in the range 1<=x<=64"),
    (("run", "--max-workers", "100000"), "Invalid value for '--max-workers': 100000 is not in the range 1<=x<=64"),
    (("run", "--start-year", "99999"), "Invalid value for '--start-year': 99999 is not in the range 1900<=x<=2200"),
    (("run", "--end-year", "0"), "Invalid value for '--end-year': 0 is not in the range 1900<=x<=2200"),
    (("census", "generate", "--employees", "10000001", "--out", "x.csv"),
     "Invalid value for '--employees': 10000001 is not in the range 1<=x<=10000000"),
    (("--log-file", "no/such/folder/x.log", "plugins"), "Invalid value for '--log-file': cannot write"),
    (("--config", "config.yaml", "run", "--config", "other.yaml"),
     "Invalid value for '--config': given before the command as 'config.yaml' and after it as 'other.yaml'"),
    (("run", "--batch-size", "-3"), "Invalid value for '--batch-size'"),
    (("run", "--start-year", "soon"), "Invalid value for '--start-year': 'soon' is not a valid integer"),
    (("census", "generate", "--employees", "0", "--out", "x.csv"), "Invalid value for '--employees'"),
    (("census", "generate", "--out", "x.csv"), "Missing option '--employees'"),
    (("summary", "--database", "missing.duckdb"), "File 'missing.duckdb' does not exist"),
    (("run", "--turbo"), "No such option '--turbo'"),
    (("frobnicate",), "No such command 'frobnicate'"),
], ids=["optimization", "max-workers", "max-workers-huge", "start-year-huge", "end-year-zero", "employees-huge",
        "log-file", "config-twice", "batch-size", "start-year", "employees", "missing-option", "missing-db",
        "unknown-option", "unknown-command"])
def test_bad_arguments_are_usage_errors(work, args, message):
    proc = planwise(*args, "--database", "base.duckdb", cwd=work["dir"]) if "run" in args \
        else planwise(*args, cwd=work["dir"])
    failed(proc, 2, "Usage: planwise", message)
    assert_untouched(work)


@pytest.mark.slow
def test_a_locked_database_is_refused(work):
    lock = work["db"].with_name(work["db"].name + ".lock")
    with open(lock, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        proc = planwise("run", "--census", "census.csv", "--database", "base.duckdb", cwd=work["dir"])
    failed(proc, 1, "is in use by another planwise run", "use another --database")
    assert_untouched(work)


# --------------------------------------------------------------------------- foundation and summary


@pytest.fixture(scope="module")
def foundation(work) -> subprocess.CompletedProcess:
    """`planwise --trace-plugins foundation --json` on its own database (started by ``work``)."""
    return work["procs"]["foundation"]


@pytest.mark.slow
def test_foundation_json_times_each_step(foundation, work):
    payload = json.loads(foundation.stdout)
    assert payload["plugin"] == "optimized"
    assert [s["name"] for s in payload["steps"]] == ["staging", "baseline", "validation"]
    # One `dbt build` of the foundation, timed by its nodes into the three steps.
    assert all(s["seconds"] > 0 for s in payload["steps"]) and sum(s["dbt_invocations"] for s in payload["steps"]) == 1
    assert payload["seconds"] >= sum(s["seconds"] for s in payload["steps"])
    with duckdb.connect(str(work["dir"] / "foundation.duckdb"), read_only=True) as con:
        assert payload["baseline_rows"] == con.execute("select count(*) from int_baseline_workforce").fetchone()[0]
        assert payload["baseline_rows"] == con.execute(
            "select count(*) from raw.census where employee_termination_date is null "
            "or employee_termination_date > date '2024-12-31'").fetchone()[0]


@pytest.mark.slow
def test_verbose_shows_each_dbt_step_and_node_with_its_time(foundation):
    # --trace-plugins implies --verbose: one line per dbt invocation and per model/test it ran, with seconds.
    steps = re.findall(r"planwise\.dbt: (dbt \w+[^:]*): (\d+\.\d{2})s", foundation.stderr)
    assert [s[0].split(" --")[0] for s in steps] == ["dbt build"], steps  # the foundation is one build
    assert re.search(r"planwise\.dbt:   int_baseline_workforce success: \d+\.\d{2}s", foundation.stderr)
    assert re.search(r"planwise\.dbt:   stg_census success: \d+\.\d{2}s", foundation.stderr)


@pytest.mark.slow
def test_structured_logs_keep_level_for_the_logging_level(work):
    records = [json.loads(line) for line in work["procs"]["base"].stderr.splitlines() if line.startswith("{")]
    year = [r for r in records if r.get("event") == "year_completed"]
    assert len(year) == 1, records
    # the default level: max (the compiled engine)
    assert (year[0]["level"], year[0]["optimization_level"], year[0]["year"]) == ("info", "max", 2025)
    assert {r["level"] for r in records} <= {"debug", "info", "warning", "error", "critical"}


@pytest.mark.slow
def test_config_and_plugin_are_accepted_after_the_command(work):
    bad = work["dir"] / "after.yaml"
    bad.write_text(BAD_CONFIGS["bad_rate"][0])
    for command in (["run"], ["foundation"], ["compare"], ["ensemble", "--seeds", "1"]):
        proc = planwise(*command, "--config", bad, "--database", "base.duckdb", cwd=work["dir"]) \
            if command[0] in ("run", "foundation") else planwise(*command, "--config", bad, cwd=work["dir"])
        failed(proc, 1, f"Error: Invalid configuration in {bad}:", BAD_CONFIGS["bad_rate"][1][0])
    proc = planwise("run", "--plugin", "nope", "--census", "census.csv", "--database", "base.duckdb", cwd=work["dir"])
    assert failed(proc, 1).strip() == f"Error: {UNKNOWN_PLUGIN}"
    assert_untouched(work)


@pytest.mark.slow
def test_trace_plugins_logs_each_hook_call(foundation):
    assert "planwise.trace: hook foundation_setup -> optimized" in foundation.stderr
    assert re.search(r"planwise\.trace: hook foundation_setup done in \d+\.\d{3}s", foundation.stderr)
    assert "legacy" not in foundation.stderr


@pytest.mark.slow
def test_summary_prints_the_stored_years(work):
    text = planwise("summary", "--database", "base.duckdb", cwd=work["dir"])
    as_json = planwise("summary", "--database", "base.duckdb", "--json", cwd=work["dir"])

    assert text.returncode == 0 and as_json.returncode == 0
    header, *rows = text.stdout.splitlines()
    assert header.split() == ["year", "2025"] and rows[0].split()[:5] == ["Head", "count", "on", "Jan", "1"]
    census = next(r for r in rows if r.startswith("census:"))
    assert census == "census: 200 rows, 200 loaded, no warnings"
    assert rows[rows.index(census) + 2] == "parameter tables: all built-in"
    assert json.loads(as_json.stdout) == work["result"]["summary"]
    assert_untouched(work)


@pytest.mark.slow
def test_summary_of_a_database_without_results_exits_1(foundation, work):
    proc = planwise("summary", "--database", "foundation.duckdb", cwd=work["dir"])
    failed(proc, 1, "foundation.duckdb holds no simulation results", "run a simulation into it first")


# --------------------------------------------------------------------------- options override the config


def snapshot_of(database: Path, year: int) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute("select employee_id, employment_status, current_compensation from fct_workforce_snapshot "
                           "where simulation_year = ? order by all", [year]).fetchall()


@pytest.mark.slow
def test_start_and_end_year_options_override_the_config(work):
    result = work["result"]  # config says 2025-2029; the run said --start-year 2025 --end-year 2025
    assert result["success"] and result["completed_years"] == [2025] and list(result["years"]) == ["2025"]
    with duckdb.connect(str(work["db"]), read_only=True) as con:
        stored = json.loads(con.execute("select config_json from planwise_run_log").fetchone()[0])
    assert stored["simulation"]["end_year"] == 2025 and stored["random_seed"] == 42


@pytest.mark.slow
def test_seed_option_overrides_the_config_seed(work):
    proc = work["procs"]["seed7"]  # --seed 7 --start-year 2025 --end-year 2026 on the seed-42 config
    assert json.loads(proc.stdout)["completed_years"] == [2025, 2026]
    seed7 = work["dir"] / "seed7.duckdb"
    with duckdb.connect(str(seed7), read_only=True) as con:
        assert json.loads(con.execute("select config_json from planwise_run_log").fetchone()[0])["random_seed"] == 7
    # Same census, same quotas: the head counts agree, but seed 7 picks other people to leave.
    ours, theirs = snapshot_of(seed7, 2025), snapshot_of(work["db"], 2025)
    assert len(ours) == len(theirs) and ours != theirs


# --------------------------------------------------------------------------- the reference in docs/cli.md


def walk(command: click.Command, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from walk(sub, (*path, name))


def doc_sections() -> dict[str, str]:
    """'planwise run' -> the text of its '## planwise run' section in docs/cli.md."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    parts = re.split(r"^## +`?([^`\n]+?)`?\s*$", text, flags=re.MULTILINE)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2])}


def test_docs_cli_lists_every_command_and_option():
    sections, missing = doc_sections(), []
    for path, command in walk(cli):
        title = " ".join(("planwise", *path))
        if title not in sections:
            missing.append(f"section '## {title}'")
            continue
        for param in command.params:
            names = param.opts if isinstance(param, click.Option) else [param.human_readable_name]
            missing += [f"{title} {name}" for name in names if name not in sections[title]]
    assert not missing, f"docs/cli.md does not document: {missing}"


def test_version_option(tmp_path):
    proc = planwise("--version", cwd=tmp_path)
    assert (proc.returncode, proc.stdout.strip()) == (0, "planwise, version 0.1.0")


def test_compare_is_an_alias_of_compare_engines_and_not_listed(tmp_path):
    listed = planwise("--help", cwd=tmp_path).stdout
    assert re.search(r"^  compare-engines +Regression check of the engines", listed, flags=re.M)
    assert not re.search(r"^  compare ", listed, flags=re.M)
    for name in ("compare-engines", "compare"):
        proc = planwise(name, "--help", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("Usage: planwise compare-engines [OPTIONS]") and "--quiet" in proc.stdout
    proc = planwise("compare", "--start-year", "x", cwd=tmp_path)  # the alias parses the same options
    assert proc.returncode == 2 and "Invalid value for '--start-year'" in proc.stderr
