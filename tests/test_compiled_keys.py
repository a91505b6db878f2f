"""The compiled-SQL cache keyed by the vars each phase's compile read (docs/compiled_engine.md, "The cache"): a
configuration shares every phase whose compile did not look up what it changes, and the SQL it reuses gives the
tables a compile of its own gives."""

from __future__ import annotations

import json
import shutil

import pytest

from helpers.sims import BASELINE_2Y, SMALL_CENSUS
from test_compiled_engine import _key, _run, differences

from planwise_core.engine.compiled.cache import entry_file, fingerprint, known_reads
from planwise_core.engine.cache_auth import read_authenticated
from planwise_core.engine.project import DbtProject, parse_cache_dir

pytestmark = pytest.mark.slow


def _own_cache(root, monkeypatch):
    """A cache folder with the suite's parse of the project and no compiled SQL, used by this process from now."""
    shared = parse_cache_dir() / fingerprint(DbtProject(root / "planwise.duckdb"))
    shutil.copytree(shared, root / "dbt-parse" / shared.name, ignore=shutil.ignore_patterns("compiled"))
    monkeypatch.setenv("PLANWISE_CACHE_DIR", str(root))


def _compiled(result: dict) -> tuple[int, int]:
    assert result["success"], result["error"]
    metrics = result["plugin_metrics"]["compiled"]
    return metrics["phases_compiled"], metrics["cache_hits"]


def test_a_configuration_shares_the_phases_that_did_not_read_what_it_changes(sims, tmp_path, monkeypatch):
    assert sims.get(BASELINE_2Y).result["success"]  # the suite's parse of the project exists
    census = SMALL_CENSUS.write(tmp_path)
    base = BASELINE_2Y.config()
    cola = base.with_overrides(**{"compensation.cola_rate": 0.031})  # read by the yearly models only
    _own_cache(tmp_path / "cache", monkeypatch)
    for name in ("base", "cola", "age", "alone"):
        (tmp_path / name).mkdir()
    assert _compiled(_run(base, tmp_path / "base" / "planwise.duckdb", census)) == (5, 0)
    # the foundation's compile looked up a handful of vars, the year start's a few more, not the COLA
    project = DbtProject(tmp_path / "base" / "planwise.duckdb")
    foundation = json.loads(read_authenticated(entry_file(project, _key(project, base, "foundation", None))))["key"]
    assert "plan_enabled" in foundation["reads"] and "cola_rate" not in foundation["reads"]
    assert set(foundation["vars"]) <= set(foundation["reads"]) and len(foundation["reads"]) < 20
    assert foundation["reads"] in known_reads(project, foundation)
    # the COLA changes: the two yearly phases are compiled, the foundation and both year starts reused
    assert _compiled(_run(cola, tmp_path / "cola" / "planwise.duckdb", census)) == (2, 3)
    # a var the foundation and the year starts read too: nothing is reused
    age = base.with_overrides(**{"eligibility.minimum_age": 30})
    assert _compiled(_run(age, tmp_path / "age" / "planwise.duckdb", census)) == (5, 0)
    # the COLA configuration compiled alone, from an empty cache: the same tables as with the shared phases
    _own_cache(tmp_path / "other_cache", monkeypatch)
    assert _compiled(_run(cola, tmp_path / "alone" / "planwise.duckdb", census)) == (5, 0)
    assert differences(tmp_path / "cola" / "planwise.duckdb", tmp_path / "alone" / "planwise.duckdb") == {}
    assert differences(tmp_path / "cola" / "planwise.duckdb", tmp_path / "base" / "planwise.duckdb") != {}
