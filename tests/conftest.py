"""Shared fixtures for the end-to-end simulation tests.

Every successful run the registry hands out has first passed the whole invariant set
(:func:`helpers.invariants.invariant_problems`, with the run's own configuration), so each census and
configuration of the suite meets every invariant, not only the one run of tests/test_invariants.py.

Simulations are expensive (dbt parse + foundation ~4 s, then ~1-2 s per year), so every
test module declares the runs it needs as :class:`SimSpec` values and asks the
session-scoped :func:`sims` registry for them:

* a run is computed once per test session and cached on disk by its spec, shared by every
  xdist worker: the first worker to need a spec builds it under a file lock, the others wait
  for it and read the same database (``replica`` forces a separate database with the same inputs);
* ``SimSpec.make(..., foundation_copy=True)`` runs only the years, on a copy of one foundation database per
  (census, foundation inputs) (tests/helpers/foundations.py): configuration-effect runs share it;
* ``sims.prefetch(specs)`` starts several runs at once on a small process pool when this
  worker has cores to spare (spawned workers keep dbt imported between runs); a module
  waits for its own runs before it finishes.

Environment: ``PLANWISE_TEST_WORKERS`` (default: the cores per xdist worker, at least 1);
``0`` or ``1`` runs every simulation in the test process, one after the other.
"""

from __future__ import annotations

import os

import pytest

from helpers.sims import SimRegistry, session_folder


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: end-to-end runs that take more than a few seconds (still run in CI)")


# The files that take longest on one xdist worker (from --durations and their runs' sizes, docs/testing.md),
# longest first: with --no-loadscope-reorder the workers take files in collection order, so each ends on short ones
# (test_retirement, test_selections and test_sql_identity sort last alphabetically and would end the suite).
LONGEST_FIRST = ("test_engines", "test_config_effects", "test_backtest_calibration", "test_batch", "test_run_safety",
                 "test_ndt_invariants", "test_compiled_engine", "test_resume", "test_invariants",
                 "test_money_invariants", "test_determinism", "test_install", "test_readme", "test_unusual_census",
                 "test_sql_identity", "test_retirement", "test_selections", "test_serve_browser")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """The files of LONGEST_FIRST first, in its order; every other file after them in its own order."""
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))


@pytest.fixture(scope="session")
def sims(tmp_path_factory):
    xdist_workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    default = max(1, (os.cpu_count() or 1) // xdist_workers)
    workers = int(os.environ.get("PLANWISE_TEST_WORKERS", default))
    registry = SimRegistry(session_folder(tmp_path_factory, "planwise_sims"), workers)
    yield registry
    registry.close()
