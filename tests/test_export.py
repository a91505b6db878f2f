"""`planwise export`: the events, snapshot and per-year summary files, re-read and compared with the tables."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from helpers.sims import CensusSpec, SimSpec
from planwise_core.outputs.export import export_results
from helpers.cli import planwise
from helpers.common import file_sha256 as sha256

ROOT = Path(__file__).resolve().parent.parent
# The same run as tests/test_report.py: one simulation serves both modules.
SPEC = SimSpec.make(CensusSpec.generated(800, 3), end_year=2027)
SOURCES = {
    "events": "select * from fct_yearly_events order by simulation_year, employee_id, event_sequence",
    # The band ids come last, so that a spreadsheet sorts the bands in band order.
    "snapshot": "select s.*, a.age_band_id, t.tenure_band_id from fct_workforce_snapshot s "
                "join stg_age_bands a on a.age_band = s.age_band join stg_tenure_bands t on t.tenure_band = s.tenure_band "
                "order by simulation_year, employee_id",
    "summary": "select * from fct_year_summary order by simulation_year",
    "contributions": "select * from fct_dc_contributions order by simulation_year, employee_id",
    "plan_summary": "select * from fct_dc_plan_summary order by simulation_year",
}
NAMES = ("events", "snapshot", "summary", "plan_summary", "contributions")


@pytest.fixture(scope="module")
def database(sims) -> Path:
    return sims.get(SPEC).database


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_files_hold_exactly_the_tables_in_order(database, tmp_path, fmt):
    before = sha256(database)
    paths = export_results(database, fmt, tmp_path / "out")
    assert [p.name for p in paths] == [f"{n}.{fmt}" for n in NAMES]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths)  # no temp files
    assert sha256(database) == before, "export must not write to the database"

    con = duckdb.connect(str(database), read_only=True)
    try:
        for path in paths:
            name = path.name.split(".")[0]
            source = SOURCES[name]
            expected = con.execute(source).fetchall()
            assert expected, name
            types = {c[0]: c[1] for c in con.execute(f"describe {source}").fetchall()}
            if fmt == "parquet":
                reader = f"read_parquet('{path}')"
                assert {c[0]: c[1] for c in con.execute(f"describe select * from {reader}").fetchall()} == types
            else:
                columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in types.items()) + "}"
                reader = f"read_csv('{path}', header = true, columns = {columns})"
                assert path.read_text().splitlines()[0] == ",".join(types), "CSV header"
            got = con.execute(f"select * from {reader}").fetchall()
            assert len(got) == len(expected), name
            assert got == expected, f"{name}.{fmt} differs from its table (or its order)"
        table_rows = {"events": "fct_yearly_events", "snapshot": "fct_workforce_snapshot"}
        for name, table in table_rows.items():
            assert con.execute(f"select count(*) from {table}").fetchone()[0] == len(
                con.execute(SOURCES[name]).fetchall())
        years = [r[0] for r in con.execute("select distinct simulation_year from fct_workforce_snapshot order by 1")
                 .fetchall()]
        assert years == SPEC.years
        # The summary's numbers, recomputed here from the events and the snapshot (not from the mart's SQL).
        independent = con.execute("""
            select s.simulation_year, count(*) filter (where s.employment_status = 'active'),
                   (select count(*) from fct_yearly_events e
                    where e.simulation_year = s.simulation_year and e.event_type = 'hire'),
                   (select count(*) from fct_yearly_events e
                    where e.simulation_year = s.simulation_year and e.event_type = 'termination'),
                   sum(s.prorated_annual_compensation)
            from fct_workforce_snapshot s group by 1 order by 1""").fetchall()
        reader = f"read_parquet('{paths[2]}')" if fmt == "parquet" else f"read_csv('{paths[2]}', header = true)"
        exported = con.execute(f"""select simulation_year, end_headcount, hires, terminations,
                                          payroll::decimal(18, 2) from {reader} order by 1""").fetchall()
        assert [r[0] for r in exported] == years
        assert exported == independent
        money = con.execute("""select simulation_year, sum(employee_deferral), sum(employer_match) + sum(employer_core)
                               from fct_dc_contributions group by 1 order by 1""").fetchall()
        exported = con.execute(f"""select simulation_year, total_employee_deferrals::decimal(18, 2),
                                          total_employer_gross::decimal(18, 2) from {reader} order by 1""").fetchall()
        assert exported == money and all(cost > 0 for _, _, cost in money)
    finally:
        con.close()


def test_csv_export_is_deterministic_and_overwrites(database, tmp_path):
    first = export_results(database, "csv", tmp_path / "a")
    digests = {p.name: sha256(p) for p in first}
    (tmp_path / "a" / "events.csv").write_text("stale\n")
    second = export_results(database, "csv", tmp_path / "a")
    assert {p.name: sha256(p) for p in second} == digests
    third = export_results(database, "csv", tmp_path / "b")
    assert {p.name: sha256(p) for p in third} == digests


def test_bands_sort_in_band_order_by_their_exported_ids(database, tmp_path):
    path = next(p for p in export_results(database, "csv", tmp_path / "out") if p.name == "snapshot.csv")
    with duckdb.connect() as con:
        order = [r[0] for r in con.execute(f"select tenure_band from read_csv('{path}', header = true) "
                                           "group by all order by min(tenure_band_id)").fetchall()]
        by_text = [r[0] for r in con.execute(f"select distinct tenure_band from read_csv('{path}', header = true) "
                                             "order by 1").fetchall()]
        ages = [r[0] for r in con.execute(f"select age_band from read_csv('{path}', header = true) "
                                          "group by all order by min(age_band_id)").fetchall()]
    assert order == ["<2", "2-4", "5-9", "10-19", "20+"] and by_text != order  # text order would be wrong
    assert ages[0] == "<25" and ages[-1] in ("55-64", "65+")


def test_cli_export(database, tmp_path):
    proc = planwise("export", "--database", database, "--format", "csv", "--out", "files", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"wrote {Path('files') / n}.csv" for n in NAMES]
    proc = planwise("export", "--database", database, "--out", "files", cwd=tmp_path)  # default: parquet
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "files").iterdir()) == sorted(
        f"{n}.{e}" for n in NAMES for e in ("csv", "parquet"))


def test_cli_export_refuses_missing_database_and_bad_format(tmp_path):
    proc = planwise("export", "--database", "missing.duckdb", "--format", "csv", "--out", "files", cwd=tmp_path)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("Error: Database missing.duckdb does not exist")
    assert "run a simulation into it first, or pass --database" in proc.stderr
    assert not (tmp_path / "files").exists() and not (tmp_path / "missing.duckdb").exists()

    with duckdb.connect(str(tmp_path / "empty.duckdb")) as con:  # PlanWise's, without results
        con.execute("create table planwise_database (format integer, created_at timestamp)")
    proc = planwise("export", "--database", "empty.duckdb", "--out", "files", cwd=tmp_path)
    assert proc.returncode == 1 and "empty.duckdb holds no simulation results" in proc.stderr, proc.stderr

    proc = planwise("export", "--database", "missing.duckdb", "--format", "xml", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Invalid value for '--format'" in proc.stderr


def test_years_cut_every_file_and_the_plan_tables_are_exported_when_present(database, tmp_path):
    from helpers.money_tables import PLAN_SUMMARY_COLUMNS, with_money_layer

    plan_database, plan = with_money_layer(database, tmp_path / "plan.duckdb")
    paths = export_results(plan_database, "csv", tmp_path / "out", years=(2026, 2027))
    assert [p.name for p in paths] == ["events.csv", "snapshot.csv", "summary.csv", "plan_summary.csv"]
    con = duckdb.connect(str(plan_database), read_only=True)
    try:
        for path in paths:
            got = con.execute(f"select distinct simulation_year from read_csv('{path}', header = true) order by 1")
            assert [r[0] for r in got.fetchall()] == [2026, 2027], path.name
        events = con.execute("select count(*) from fct_yearly_events where simulation_year >= 2026").fetchone()[0]
        assert con.execute(f"select count(*) from read_csv('{paths[0]}', header = true)").fetchone()[0] == events
        header = (tmp_path / "out" / "plan_summary.csv").read_text().splitlines()[0]
        assert header == ",".join(PLAN_SUMMARY_COLUMNS)
        costs = con.execute(f"select simulation_year, total_employer_gross::decimal(18, 2) "
                            f"from read_csv('{paths[3]}', header = true) order by 1").fetchall()
        assert costs == [(y, plan[y]["total_employer_gross"]) for y in (2026, 2027)]
    finally:
        con.close()


def test_csv_export_neutralises_formulas_and_parquet_keeps_the_value(database, tmp_path):
    hostile = '=HYPERLINK("http://example.invalid/x","click")'
    copy = tmp_path / "hostile.duckdb"
    copy.write_bytes(Path(database).read_bytes())
    with duckdb.connect(str(copy)) as con:
        victim = con.execute("select min(employee_id) from fct_workforce_snapshot").fetchone()[0]
        for table in ("fct_workforce_snapshot", "fct_yearly_events"):
            con.execute(f"update {table} set employee_id = ? where employee_id = ?", [hostile, victim])
        con.execute("update fct_yearly_events set event_category = '@SUM(1+1)' where employee_id = ?", [hostile])
    csv_files = export_results(copy, "csv", tmp_path / "csv")
    import csv as csv_module

    with open(csv_files[1], newline="") as handle:
        ids = [r["employee_id"] for r in csv_module.DictReader(handle)]
    with open(csv_files[0], newline="") as handle:
        events = [r for r in csv_module.DictReader(handle) if r["employee_id"] == "'" + hostile]
    assert "'" + hostile in ids and hostile not in ids
    assert events and {e["event_category"] for e in events} == {"'@SUM(1+1)"}
    cells = [cell for path in csv_files for line in csv_module.reader(open(path, newline="")) for cell in line]
    assert not any(cell[:1] and cell[0] in "=+@" for cell in cells), "a cell a spreadsheet would run as a formula"
    parquet = export_results(copy, "parquet", tmp_path / "parquet")
    with duckdb.connect() as con:
        assert con.execute(f"select count(*) from read_parquet('{parquet[1]}') where employee_id = ?",
                           [hostile]).fetchone()[0] > 0
