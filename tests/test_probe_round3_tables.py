"""Issue 28, parameter-table folders and files (docs/assumptions.md). No simulation runs here.

N5: a file named after a table in another format (``job_levels.xlsx``, ``.txt``) is refused, ``job_levels.CSV`` is
read, a folder that replaces nothing is an error. N7: numbers beyond what the database and the model carry are
table problems. N12: table files are refused before being read whole (size, rows, not a regular file). N13: no
message quotes more than a few characters of a file's header.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from planwise_core.assumptions import AssumptionsError, resolve_assumptions
from planwise_core.assumptions.spec import DEFAULTS_DIR
from planwise_core.config import PlanwiseConfig
from helpers.cli import clean_failure, planwise

JOB_LEVELS = (DEFAULTS_DIR / "job_levels.csv").read_text()
HEADER = JOB_LEVELS.splitlines()[0]


def problems_of(folder: Path) -> str:
    with pytest.raises(AssumptionsError) as err:
        resolve_assumptions(PlanwiseConfig().with_overrides(assumptions=str(folder)))
    return "\n".join(err.value.problems)


def folder(tmp_path: Path, name: str = "tables", **files: str) -> Path:
    path = tmp_path / name
    path.mkdir()
    for file, text in files.items():
        (path / file.replace("__", ".")).write_text(text)
    return path


@pytest.mark.parametrize("suffix", ["xlsx", "txt", "tsv"])
def test_a_table_saved_in_another_format_is_refused_with_the_fix(tmp_path, suffix):
    found = problems_of(folder(tmp_path, **{f"job_levels__{suffix}": JOB_LEVELS}))
    assert f"job_levels.{suffix}: a parameter table must be a CSV file: save it as CSV (job_levels.csv)" in found


def test_an_upper_case_csv_suffix_is_read(tmp_path):
    text = JOB_LEVELS.replace("1,Staff,0,80000,0.0300", "1,Staff,0,80000,0.5000")
    tables = resolve_assumptions(PlanwiseConfig().with_overrides(
        assumptions=str(folder(tmp_path, job_levels__CSV=text))))
    assert tables.replaced() == ["job_levels"]


def test_a_folder_that_replaces_nothing_is_refused(tmp_path):
    empty = folder(tmp_path, "empty")
    assert "holds no parameter table, so it would replace nothing" in problems_of(empty)
    notes = folder(tmp_path, "notes", README__md="my tables")
    assert "holds no parameter table" in problems_of(notes)


@pytest.mark.slow
def test_the_cli_refuses_an_empty_folder_and_a_spreadsheet_without_writing(tmp_path):
    census = tmp_path / "c.csv"
    census.write_text("employee_id,employee_birth_date,employee_hire_date,employee_gross_compensation\n"
                      "E1,1980-01-01,2015-01-01,50000\n")
    empty = folder(tmp_path, "empty")
    xlsx = folder(tmp_path, "xlsx", job_levels__xlsx="PK")
    for tables, fragment in ((empty, "would replace nothing"), (xlsx, "save it as CSV")):
        proc = planwise("run", "--census", census, "--years", "2025", "--database", tmp_path / "t.duckdb",
                        "--assumptions", tables, cwd=tmp_path)
        clean_failure(proc, 1, "Error:", fragment)
        assert not (tmp_path / "t.duckdb").exists()


@pytest.mark.parametrize("row, fragment", [
    ("1,<25,0,25,1.0,1.0", None),
    ("99999999999,<25,0,25,1.0,1.0", "age_band_id must be in [1, 999]"),
    ("1234567890123456789012345,<25,0,25,1.0,1.0", "age_band_id must be in [1, 999]"),
])
def test_band_ids_beyond_the_column_type_are_table_problems(tmp_path, row, fragment):
    text = (DEFAULTS_DIR / "age_bands.csv").read_text().splitlines()
    text[1] = row
    path = folder(tmp_path, age_bands__csv="\n".join(text) + "\n")
    if fragment is None:
        resolve_assumptions(PlanwiseConfig().with_overrides(assumptions=str(path)))
    else:
        assert fragment in problems_of(path)


def test_salaries_and_irs_limits_beyond_the_model_are_table_problems(tmp_path):
    levels = JOB_LEVELS.replace("275000,400000,0.6", "275000,100000000000000000,0.6")
    irs = (DEFAULTS_DIR / "irs_limits.csv").read_text().splitlines()
    cells = irs[1].split(",")
    cells[1] = "1" + "0" * 30
    irs[1] = ",".join(cells)
    found = problems_of(folder(tmp_path, job_levels__csv=levels, irs_limits__csv="\n".join(irs) + "\n"))
    assert "line 6: hire_max_salary must be in [0, 10000000000]" in found
    assert "line 2: elective_deferral_402g must be in [0, 1000000000]" in found
    assert "census" not in found.lower()


def test_a_huge_table_is_refused_before_it_is_read(tmp_path):
    path = folder(tmp_path)
    row = "1,Staff,0,80000,0.0300,0.40,45000,80000,1.0,1.00\n"
    with (path / "job_levels.csv").open("w") as fh:
        fh.write(HEADER + "\n" + row * (5 * 2**20 // len(row)))
    assert "bytes (at most 4,194,304)" in problems_of(path)


def test_too_many_rows_are_refused_without_reading_the_rest(tmp_path):
    path = folder(tmp_path)
    (path / "new_hire_age_distribution.csv").write_text("age,share\n" + "25,0.5\n" * 10_002)
    assert "has more than 10000 rows" in problems_of(path)


def test_a_table_linked_to_a_device_is_refused_at_once_in_bounded_memory(tmp_path):
    path = folder(tmp_path)
    (path / "job_levels.csv").symlink_to("/dev/zero")
    code = ("import resource; resource.setrlimit(resource.RLIMIT_AS, (800 * 2**20, 800 * 2**20));"
            "from planwise_core.assumptions import resolve_assumptions, AssumptionsError;"
            "from planwise_core.config import PlanwiseConfig;\n"
            f"try: resolve_assumptions(PlanwiseConfig().with_overrides(assumptions={str(path)!r}))\n"
            "except AssumptionsError as e: print(e.problems)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "is not a regular file" in proc.stdout, proc.stderr[-2000:]


def test_a_foreign_file_is_never_quoted_beyond_a_few_characters(tmp_path):
    secret = "root:x:0:0:root:/root:/bin/bash-and-some-more-secret-text"
    path = folder(tmp_path, job_levels__csv=secret + "\nline two of the secret\n")
    found = problems_of(path)
    assert "none of the table's columns" in found and "root:x" not in found
    partly = folder(tmp_path, "partly", job_levels__csv=HEADER + "," + secret + "\n" + JOB_LEVELS.splitlines()[1]
                    + ",x\n")
    found = problems_of(partly)
    assert "unknown column 'root:x:0:0:root:/roo...'" in found and "bin/bash" not in found
