"""The parsed manifest is kept beside dbt's partial parse: a later process loads it instead of parsing."""

from __future__ import annotations

import shutil
import time

from planwise_core.engine.project import (DBT_PROJECT_DIR, MANIFEST_PICKLE, PARTIAL_PARSE, DbtProject, _parse,
                                          project_fingerprint)


def test_a_later_parse_loads_the_saved_manifest_and_a_damaged_one_is_parsed_again(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANWISE_CACHE_DIR", str(tmp_path / "cache"))
    fingerprint = project_fingerprint(DBT_PROJECT_DIR)
    first = _parse(DbtProject(tmp_path / "a" / "results.duckdb"), fingerprint)
    folder = tmp_path / "cache" / "dbt-parse" / fingerprint / "results"
    saved = folder / MANIFEST_PICKLE
    assert saved.is_file()
    # Without dbt's partial parse a parse would take seconds: the manifest comes from the saved file.
    (folder / PARTIAL_PARSE).unlink()
    started = time.perf_counter()
    second = _parse(DbtProject(tmp_path / "b" / "results.duckdb"), fingerprint)
    assert time.perf_counter() - started < 1.5
    assert not (folder / PARTIAL_PARSE).exists(), "dbt did not run"
    assert set(second.nodes) == set(first.nodes)
    assert second.nodes["model.planwise.fct_yearly_events"].database == "results"
    # The copy's lookups are its own, of the right kind (dbt's positional pickling put a full parse's ref
    # lookup into the source lookup's field, and `ref` inside a model failed with a TypeError).
    assert type(second.source_lookup).__name__ == "SourceLookup"
    assert second.ref_lookup.find("stg_census", None, None, second).name == "stg_census"
    assert set(second.fixtures) == set(first.fixtures) and set(second.unit_tests) == set(first.unit_tests)
    # A damaged file is ignored: dbt parses again and the file is replaced by a good one.
    saved.write_bytes(b"not a pickle")
    third = _parse(DbtProject(tmp_path / "c" / "results.duckdb"), fingerprint)
    assert set(third.nodes) == set(first.nodes)
    assert (folder / PARTIAL_PARSE).exists() and saved.read_bytes() != b"not a pickle"


def test_the_fingerprint_follows_the_project_files_but_not_dbts_user_id(tmp_path):
    """dbt writes .user.yml (its anonymous user id) into the project folder the first time it runs without the
    host's environment: that must not change the fingerprint mid-suite (every parse and compiled-SQL cache entry
    would be voided, and a warm run would compile again); a changed model must."""
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", ".user.yml"))
    before = project_fingerprint(project)
    (project / ".user.yml").write_text("id: 00000000-0000-0000-0000-000000000000\n")
    assert project_fingerprint(project) == before
    model = next((project / "models").rglob("*.sql"))
    model.write_text(model.read_text() + "\n")
    assert project_fingerprint(project) != before
