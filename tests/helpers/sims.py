"""The shared simulation registry of the test suite, its specs and the domain constants the tests recompute with.

A test module declares the runs it reads as :class:`SimSpec` values and asks the session fixture ``sims``
(tests/conftest.py) for them; see docs/testing.md.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import csv
import fcntl
import hashlib
import json
import logging
import multiprocessing
import os
import re
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb

from helpers.foundations import build_foundation, foundation_key, run_on_foundation
from helpers.invariants import invariant_problems

CENSUS_DATE = date(2024, 12, 31)
START_YEAR = 2025
CENSUS_COLUMNS = ("employee_id", "employee_birth_date", "employee_hire_date", "employee_termination_date",
                  "employee_gross_compensation", "employee_deferral_rate", "level_id")

# Domain constants (docs/domain.md section 2) used by the independent Python re-computations.
NEW_HIRE_MIX = {1: Fraction(40, 100), 2: Fraction(30, 100), 3: Fraction(20, 100), 4: Fraction(8, 100),
                5: Fraction(2, 100)}
HIRING_RANGES = {1: (45_000, 80_000), 2: (80_000, 120_000), 3: (120_000, 160_000), 4: (160_000, 275_000),
                 5: (275_000, 400_000)}
NEW_HIRE_ID = re.compile(r"^NH_(\d{4})_(\d{6})$")


# --------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class CensusSpec:
    """Either a generated census (``employees``, ``seed``) or literal CSV rows (``rows``)."""

    name: str
    employees: int = 0
    seed: int = 0
    rows: tuple[tuple[str, ...], ...] = ()

    @staticmethod
    def generated(employees: int, seed: int) -> "CensusSpec":
        return CensusSpec(name=f"gen{employees}_s{seed}", employees=employees, seed=seed)

    @staticmethod
    def literal(name: str, rows) -> "CensusSpec":
        return CensusSpec(name=name, rows=tuple(tuple(str(v) for v in r) for r in rows))

    def write(self, folder: Path) -> Path:
        if self.rows:
            path = folder / f"{self.name}.csv"
            with path.open("w", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(CENSUS_COLUMNS)
                writer.writerows(self.rows)
            return path
        from planwise_core.census import generate_census

        return generate_census(self.employees, self.seed, folder / f"{self.name}.parquet")


@dataclass(frozen=True)
class SimSpec:
    """One simulation: census, first/last year, config overrides (dotted paths), replica number."""

    census: CensusSpec
    end_year: int = START_YEAR
    overrides: tuple[tuple[str, Any], ...] = ()
    replica: int = 0
    start_year: int = START_YEAR
    foundation_copy: bool = False  # years only, on a copy of a shared foundation (helpers/foundations.py)
    engines: bool = False  # both engines through compare_engines: legacy.duckdb (the run) beside optimized.duckdb

    @staticmethod
    def make(census: CensusSpec, end_year: int = START_YEAR, replica: int = 0, foundation_copy: bool = False,
             engines: bool = False, **overrides) -> "SimSpec":
        return SimSpec(census=census, end_year=end_year, overrides=tuple(sorted(overrides.items())),
                       replica=replica, foundation_copy=foundation_copy, engines=engines)

    def all_overrides(self) -> dict[str, Any]:
        base = {"simulation.start_year": self.start_year, "simulation.end_year": self.end_year, "random_seed": 42}
        base.update(dict(self.overrides))
        return base

    @property
    def key(self) -> str:
        payload = json.dumps([self.census.name, self.census.rows, self.start_year, self.end_year,
                              self.overrides, self.replica] + (["foundation_copy"] if self.foundation_copy else [])
                             + (["engines"] if self.engines else []),
                             sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    @property
    def years(self) -> list[int]:
        return list(range(self.start_year, self.end_year + 1))

    def config(self):
        from planwise_core.config import PlanwiseConfig

        return PlanwiseConfig().with_overrides(**self.all_overrides())


# Shared by test_config_effects (baseline, random_seed case) and test_determinism.
SMALL_CENSUS = CensusSpec.generated(1000, 11)
BASELINE_2Y = SimSpec.make(SMALL_CENSUS, end_year=2026)
OTHER_SEED_2Y = SimSpec.make(SMALL_CENSUS, end_year=2026, random_seed=7)


@dataclass
class SimRun:
    spec: SimSpec
    database: Path
    result: dict

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection (several may be open at once; runs never write a finished database)."""
        return duckdb.connect(str(self.database), read_only=True)

    @property
    def optimized(self) -> Path:
        """An ``engines`` run's optimized database (``database`` is the legacy engine's)."""
        return self.database.with_name("optimized.duckdb")


# --------------------------------------------------------------------------- running


@contextlib.contextmanager
def file_lock(path: Path):
    """An exclusive lock shared by every process of the test session (xdist workers, pool workers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class DbtLog(logging.Handler):
    """Keeps the dbt step and node records (what ``--verbose`` shows) as JSON-able dicts."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[dict] = []

    def emit(self, record):
        if getattr(record, "event", None) in ("dbt_step", "dbt_node"):
            self.records.append({"event": record.event, "node": getattr(record, "node", None),
                                 "seconds": getattr(record, "seconds", None)})


def compare_engines_job(folder: Path, census: Path, config) -> dict:
    """Both engines on the same inputs (planwise_core.engine_comparison) with what its tests read besides the
    result: the progress events ``[engine, stage, year]`` and the dbt step and node log records."""
    from planwise_core.engine_comparison import compare_engines

    events, handler, logger = [], DbtLog(), logging.getLogger("planwise.dbt")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        result = compare_engines(config, folder, census=census, progress=lambda engine, event: events.append(
            [engine, event.stage, getattr(event, "year", None)]))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    both = result["legacy"]["success"] and result["optimized"]["success"]
    return dict(result, success=both, completed_years=result["legacy"]["completed_years"], progress=events,
                dbt_log=handler.records)


def one_run_job(database: Path, census: Path, config, foundation: str | None) -> dict:
    """One simulation (on a copy of ``foundation`` when given: only the years run); the JSON-able part of it."""
    from planwise_core.orchestrator import Simulation

    if foundation is not None:
        base = Path(foundation)
        with file_lock(base.with_name(".build.lock")):
            if not base.exists():
                build_foundation(base, census, config)
        years = list(range(config.simulation.start_year, config.simulation.end_year + 1))
        result = run_on_foundation(base, database, config, years)
    else:
        result = Simulation(config, database, census=census).run().to_dict()
    keep = ("success", "completed_years", "failed_years", "error", "summary", "total_execution_time")
    return {k: result.get(k) for k in keep}


def run_simulation_job(database: str, census: str, overrides: dict, foundation: str | None = None,
                       engines: bool = False) -> dict:
    """Run one simulation once per session (in a pool worker or in-process); the JSON-able part of its result.

    The result is kept beside the database: whichever process asks first builds it under the folder's lock,
    later ones (other xdist workers included) wait for the lock and read it back. With ``foundation`` (a path
    in the session's foundations folder) only the years run, on a copy of that foundation, built once. With
    ``engines`` both engines run (:func:`compare_engines_job`): ``database`` is legacy's, the whole comparison kept.
    """
    folder = Path(database).parent
    recorded = folder / "result.json"
    with file_lock(folder / ".build.lock"):
        if recorded.exists():
            return json.loads(recorded.read_text())
        from planwise_core.config import PlanwiseConfig

        config = PlanwiseConfig().with_overrides(**overrides)
        payload = (compare_engines_job(folder, Path(census), config) if engines
                   else one_run_job(Path(database), Path(census), config, foundation))
        payload = json.loads(json.dumps(payload, default=str))
        partial = folder / ".result.json.tmp"
        partial.write_text(json.dumps(payload))
        os.replace(partial, recorded)
        return payload


class _Done:
    """A finished 'future' for in-process execution."""

    def __init__(self, fn, *args):
        try:
            self._value, self._error = fn(*args), None
        except BaseException as exc:  # noqa: BLE001 - re-raised by result()
            self._value, self._error = None, exc

    def result(self):
        if self._error is not None:
            raise self._error
        return self._value


class SimRegistry:
    def __init__(self, root: Path, workers: int):
        self.root = root
        self.workers = workers
        self._pool: cf.ProcessPoolExecutor | None = None
        self._futures: dict[str, Any] = {}
        self._runs: dict[str, SimRun] = {}
        self._census: dict[CensusSpec, Path] = {}
        (root / "census").mkdir(parents=True, exist_ok=True)

    def _census_path(self, spec: CensusSpec) -> Path:
        if spec not in self._census:
            folder = self.root / "census"
            with file_lock(folder / f".{spec.name}.lock"):
                written = [p for p in folder.glob(f"{spec.name}.*") if p.suffix in (".csv", ".parquet")]
                self._census[spec] = written[0] if written else spec.write(folder)
        return self._census[spec]

    def _database(self, spec: SimSpec) -> Path:
        folder = self.root / f"{spec.census.name}_{spec.key}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / ("legacy.duckdb" if spec.engines else "sim.duckdb")

    def _submit(self, spec: SimSpec) -> None:
        if spec.key in self._futures:
            return
        foundation = None
        if spec.foundation_copy:
            key = foundation_key(spec.census.name + json.dumps(spec.census.rows), spec.config())
            foundation = str(self.root / "foundations" / f"{spec.census.name}_{key}" / "foundation.duckdb")
            Path(foundation).parent.mkdir(parents=True, exist_ok=True)
        args = (str(self._database(spec)), str(self._census_path(spec.census)), spec.all_overrides(), foundation,
                spec.engines)
        if self.workers <= 1:
            self._futures[spec.key] = _Done(run_simulation_job, *args)
            return
        if self._pool is None:
            self._pool = cf.ProcessPoolExecutor(max_workers=self.workers,
                                                mp_context=multiprocessing.get_context("spawn"))
        self._futures[spec.key] = self._pool.submit(run_simulation_job, *args)

    def prefetch(self, specs) -> None:
        """Submit every spec not yet run (longest runs first would be the caller's ordering)."""
        for spec in specs:
            self._submit(spec)

    def get(self, spec: SimSpec) -> SimRun:
        """The finished run; a successful run is first checked against the whole invariant set (once)."""
        if spec.key not in self._runs:
            self._submit(spec)
            result = self._futures[spec.key].result()
            run = SimRun(spec, self._database(spec), result)
            if result.get("success"):
                with run.connect() as con:
                    problems = invariant_problems(con, spec.years, spec.config())
                assert problems == {}, f"{spec.census.name} {dict(spec.overrides)}: invariants broken: {problems}"
            self._runs[spec.key] = run
        return self._runs[spec.key]

    def wait(self, specs) -> None:
        """Block until every spec has finished (its failure is reported by the test that uses it)."""
        for spec in specs:
            try:
                self.get(spec)
            except Exception:  # noqa: BLE001 - surfaced again by get() in the owning test
                pass

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def session_folder(tmp_path_factory, name: str) -> Path:
    """A folder shared by every xdist worker of this session (each worker's basetemp is inside one folder)."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def selected_params(request, module_name: str) -> set[str]:
    """The parametrize ids of the selected tests of a module (to prefetch only the runs needed)."""
    ids = set()
    for item in request.session.items:
        module = getattr(item, "module", None)
        if module is not None and module.__name__.endswith(module_name) and hasattr(item, "callspec"):
            ids.update(str(v) for v in item.callspec.params.values())
    return ids


def largest_remainder(total: int, shares: dict[int, Fraction] = NEW_HIRE_MIX) -> dict[int, int]:
    """Exact largest-remainder allocation; ties go to the lower level."""
    quotas = {k: total * s for k, s in shares.items()}
    alloc = {k: int(q) for k, q in quotas.items()}  # floor (quotas are non-negative)
    left = total - sum(alloc.values())
    for k in sorted(quotas, key=lambda k: (-(quotas[k] - alloc[k]), k))[:left]:
        alloc[k] += 1
    return alloc


def days_in_year(year: int) -> int:
    return (date(year, 12, 31) - date(year, 1, 1)).days + 1
