"""Scenario batches and seed ensembles: many independent runs, on a local process pool or a Dask cluster.

A *plan* is built and validated in full before anything runs (:func:`plan_batch`, :func:`plan_ensemble`):
every scenario's overrides are applied to the base configuration and checked like any configuration.
A problem that belongs to one scenario makes that scenario *invalid* (reported, not run); a problem with
the file itself (YAML syntax, duplicate names, ...) refuses the whole batch before anything is touched.

Each run is one :class:`planwise_core.orchestrator.Simulation` into its own folder
``<output>/runs/<scenario>/seed-<seed>/`` (its DuckDB file, dbt target and log folders, year checkpoints,
``run.json`` and ``progress.jsonl``), so no two runs share anything a writer could fight over.
:func:`execute_run` is the one function an executor runs; the local process pool and Dask distributed
(``Client.get_executor()``) are both ``concurrent.futures`` executors, so one submission loop drives either.
A run that completed with the same inputs (its fingerprint) is reused on the next invocation; a failed
or interrupted one resumes from its last completed year when it can.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import multiprocessing
import os
import re
import shutil
import socket
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import attrs
import yaml

from .config import PlanwiseConfig, _unknown_key, _yaml_problem, config_from_dict
from .errors import ConfigError, PlanwiseError

log = logging.getLogger("planwise.batch")

RUN_DATABASE = "simulation.duckdb"
SCENARIO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
FILE_KEYS = ("base_config", "census", "plugin", "seeds", "scenarios")
SCENARIO_KEYS = ("name", "description", "config", "overrides", "seeds", "census", "plugin")
MAX_SEEDS = 10_000
DASK_CONNECT_TIMEOUT = "15s"

# Peak RSS of one run, measured by bench/run_bench.py (10K: 313 MB, 100K: 479 MB, 1M: 1,427 MB, 5 years):
# about 300 MB of Python + dbt + DuckDB, plus ~1.15 kB per census employee.
RUN_MEMORY_BASE = 300 * 2**20
RUN_MEMORY_PER_EMPLOYEE = 1_150
MEMORY_HEADROOM = 0.8
BUILTIN_EMPLOYEES = 10_000


class BatchError(PlanwiseError):
    """The batch file or arguments are refused as a whole; nothing ran."""


# --------------------------------------------------------------------------------------------- plan


@attrs.frozen(kw_only=True)
class RunSpec:
    """One run of a batch: everything a worker needs, as plain picklable values."""

    run_id: str
    scenario: str
    seed: int
    config: dict = attrs.field(repr=False)
    census: str | None
    plugin: str | None
    folder: str
    fingerprint: str
    overrides: dict = attrs.field(factory=dict, repr=False)

    @property
    def database(self) -> Path:
        return Path(self.folder) / RUN_DATABASE

    @property
    def years(self) -> tuple[int, int]:
        sim = self.config["simulation"]
        return int(sim["start_year"]), int(sim["end_year"])


@attrs.frozen(kw_only=True)
class InvalidScenario:
    scenario: str
    problems: tuple[str, ...]
    seeds: tuple[int, ...] = ()


@attrs.frozen(kw_only=True)
class BatchPlan:
    kind: str  # "batch" or "ensemble"
    source: str
    output: Path
    runs: tuple[RunSpec, ...]
    invalid: tuple[InvalidScenario, ...] = ()


def _fingerprint(config: PlanwiseConfig, census: Path | None, plugin: str | None) -> str:
    """What decides a run's tables: the behavioural config, the census file (path, size, mtime), the engine."""
    behaviour = {k: v for k, v in config.to_dict().items() if k != "orchestration"}
    if census is None:
        census_id = f"builtin:{BUILTIN_EMPLOYEES}"
    else:
        stat = census.stat()
        census_id = f"{census}:{stat.st_size}:{stat.st_mtime_ns}"
    payload = json.dumps({"config": behaviour, "census": census_id, "plugin": plugin}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _flatten(overrides: dict, cls: type = PlanwiseConfig, prefix: str = "") -> dict[str, Any]:
    """Nested or dotted override keys -> dotted paths; a mapping under a section key recurses, any other
    mapping (e.g. a deferral rate distribution) is a value and replaces the base value whole."""
    flat: dict[str, Any] = {}
    sections = {f.name: f for f in attrs.fields(cls)}
    for key, value in overrides.items():
        key = str(key)
        head, _, rest = key.partition(".")
        field = sections.get(head)
        section_cls = _section_class(field) if field is not None else None
        if rest and section_cls is not None:
            flat.update(_flatten({rest: value}, section_cls, f"{prefix}{head}."))
        elif not rest and section_cls is not None and isinstance(value, dict):
            flat.update(_flatten(value, section_cls, f"{prefix}{head}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _section_class(field: attrs.Attribute) -> type | None:
    default = field.default
    if isinstance(default, attrs.Factory) and attrs.has(default.factory):
        return default.factory
    if attrs.has(type(default)):
        return type(default)
    return None


def _seeds(value: Any, where: str, default_seed: int) -> tuple[list[int], list[str]]:
    """``seeds: N`` (N seeds from the scenario's random_seed on) or ``seeds: [s1, s2, ...]``."""
    if value is None:
        return [default_seed], []
    if isinstance(value, bool):
        return [], [f"{where}.seeds: expected a count or a list of integers, got {value!r}"]
    if isinstance(value, int):
        if not 1 <= value <= MAX_SEEDS:
            return [], [f"{where}.seeds: a count must be between 1 and {MAX_SEEDS}, got {value}"]
        return [default_seed + i for i in range(value)], []
    if isinstance(value, list) and value and all(isinstance(s, int) and not isinstance(s, bool) for s in value):
        dupes = sorted({s for s in value if value.count(s) > 1})
        if dupes:
            return [], [f"{where}.seeds: listed more than once: {dupes}"]
        return list(value), []
    return [], [f"{where}.seeds: expected a count or a non-empty list of integers, got {value!r}"]


def _load_base(value: Any, where: str, relative_to: Path) -> tuple[PlanwiseConfig | None, list[str]]:
    """A run configuration file named in the scenario file (relative to it)."""
    from .config import load_config

    path = Path(str(value)).expanduser()
    path = path if path.is_absolute() else relative_to / path
    try:
        return load_config(path), []
    except ConfigError as exc:
        return None, [f"{where}: {p} ({exc.source})" for p in exc.problems]


def _census_path(value: Any, where: str, relative_to: Path) -> tuple[Path | None, list[str]]:
    if value is None:
        return None, []
    if not isinstance(value, str) or not value:
        return None, [f"{where}.census: expected a file path, got {value!r}"]
    path = Path(value).expanduser()
    path = (relative_to / path if not path.is_absolute() else path).resolve()
    if not path.is_file():
        return None, [f"{where}.census: file not found: {path}"]
    return path, []


def _engines() -> list[str]:
    from .plugins import engine_names, get_plugin_manager

    return engine_names(get_plugin_manager())


def plan_batch(scenario_file: str | Path, output: str | Path, base_config: PlanwiseConfig | None = None,
               census: str | Path | None = None, plugin: str | None = None) -> BatchPlan:
    """Read and validate a scenario file (docs/batch.md); raises BatchError if the file is unusable."""
    path = Path(scenario_file)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchError(f"Cannot read scenario file {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise BatchError(f"Invalid scenario file {path}: {_yaml_problem(exc)}") from None
    return plan_scenarios(data, output, source=str(path), relative_to=path.resolve().parent,
                          base_config=base_config, census=census, plugin=plugin)


def plan_scenarios(data: Any, output: str | Path, *, source: str = "<scenarios>", relative_to: Path | None = None,
                   base_config: PlanwiseConfig | None = None, census: str | Path | None = None,
                   plugin: str | None = None, kind: str = "batch") -> BatchPlan:
    """Validate scenario definitions (the parsed YAML: a list of scenarios or a mapping with ``scenarios``)."""
    relative_to = relative_to or Path.cwd()
    output = Path(output).resolve()
    file_problems: list[str] = []
    if isinstance(data, list):
        data = {"scenarios": data}
    if not isinstance(data, dict) or "scenarios" not in data:
        raise BatchError(f"Invalid scenario file {source}: expected a list of scenarios, or a mapping with a "
                         f"'scenarios' list (see docs/batch.md).")
    for key in data:
        if key not in FILE_KEYS:
            file_problems.append(f"{key}: {_unknown_key(key, list(FILE_KEYS))}")
    base = base_config or PlanwiseConfig()
    if data.get("base_config") is not None:
        base, problems = _load_base(data["base_config"], "base_config", relative_to)
        file_problems += problems
    # --census (the caller's census) replaces the file's default census, not a scenario's own.
    if census is not None:
        default_census, problems = _census_path(str(census), "--census", Path.cwd())
    else:
        default_census, problems = _census_path(data.get("census"), "census", relative_to)
    file_problems += problems
    engines = _engines() if plugin or data.get("plugin") or any(
        isinstance(e, dict) and e.get("plugin") for e in data.get("scenarios") or []) else []
    default_plugin = data.get("plugin", plugin)
    if default_plugin is not None and default_plugin not in engines:
        file_problems.append(f"plugin: unknown engine plugin {default_plugin!r}; choose one of: {', '.join(engines)}")
    scenarios = data["scenarios"]
    if not isinstance(scenarios, list) or not scenarios:
        file_problems.append("scenarios: expected a non-empty list of scenarios")
        scenarios = []
    names = []
    for i, entry in enumerate(scenarios, start=1):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not SCENARIO_NAME.match(name):
            file_problems.append(f"scenarios[{i}].name: every scenario needs a name of letters, digits, '_', '.' or "
                                 f"'-' (at most 64, used as a folder name), got {name!r}")
        names.append(name)
    dupes = sorted({n for n in names if isinstance(n, str) and names.count(n) > 1})
    if dupes:
        file_problems.append(f"scenarios: names must be unique, repeated: {', '.join(dupes)}")
    if file_problems:
        lines = "\n".join(f"  - {p}" for p in file_problems)
        raise BatchError(f"Invalid scenario file {source} (nothing was run):\n{lines}")

    runs, invalid = [], []
    for i, entry in enumerate(scenarios, start=1):
        name = entry["name"]
        where = f"scenarios[{i}] ({name})"
        problems = [f"{where}.{k}: {_unknown_key(k, list(SCENARIO_KEYS))}" for k in entry if k not in SCENARIO_KEYS]
        overrides = entry.get("overrides") or {}
        config = None
        scenario_base = base
        if entry.get("config") is not None:
            scenario_base, config_problems = _load_base(entry["config"], f"{where}.config", relative_to)
            problems += config_problems
        if not isinstance(overrides, dict):
            problems.append(f"{where}.overrides: expected a mapping of configuration keys, got {overrides!r}")
        elif scenario_base is not None:
            try:
                config = scenario_base.with_overrides(**_flatten(overrides))
            except ConfigError as exc:
                problems += [f"{where}.overrides: {p}" for p in exc.problems]
        scenario_census, census_problems = _census_path(entry.get("census"), where, relative_to)
        problems += census_problems
        scenario_census = scenario_census or default_census
        scenario_plugin = entry.get("plugin", default_plugin)
        if scenario_plugin is not None and scenario_plugin not in engines:
            problems.append(f"{where}.plugin: unknown engine plugin {scenario_plugin!r}; choose one of: "
                            f"{', '.join(engines)}")
        seeds, seed_problems = _seeds(entry.get("seeds", data.get("seeds")), where,
                                      (config or scenario_base or base).random_seed)
        problems += seed_problems
        if problems:
            invalid.append(InvalidScenario(scenario=name, problems=tuple(problems), seeds=tuple(seeds)))
            continue
        for seed in seeds:
            run_config = config if seed == config.random_seed else config.with_overrides(random_seed=seed)
            runs.append(RunSpec(
                run_id=f"{name}/seed-{seed}", scenario=name, seed=seed, config=run_config.to_dict(),
                census=str(scenario_census) if scenario_census else None, plugin=scenario_plugin,
                folder=str(output / "runs" / name / f"seed-{seed}"),
                fingerprint=_fingerprint(run_config, scenario_census, scenario_plugin), overrides=overrides))
    return BatchPlan(kind=kind, source=source, output=output, runs=tuple(runs), invalid=tuple(invalid))


def plan_ensemble(seeds: int, output: str | Path, base_config: PlanwiseConfig | None = None,
                  census: str | Path | None = None, plugin: str | None = None, first_seed: int | None = None,
                  name: str = "ensemble") -> BatchPlan:
    """One configuration over ``seeds`` consecutive seeds from ``first_seed`` (default: the config's seed)."""
    base = base_config or PlanwiseConfig()
    first = base.random_seed if first_seed is None else first_seed
    scenario = {"name": name, "seeds": [first + i for i in range(seeds)]}
    if not 1 <= seeds <= MAX_SEEDS:
        raise BatchError(f"--seeds must be between 1 and {MAX_SEEDS}, got {seeds}.")
    if not SCENARIO_NAME.match(name):
        raise BatchError(f"--name must be letters, digits, '_', '.' or '-' (at most 64; it names the run folders), "
                         f"got {name!r}.")
    plan = plan_scenarios([scenario], output, source=f"ensemble of {seeds} seeds", base_config=base,
                          census=census, plugin=plugin, kind="ensemble")
    if plan.invalid:
        raise BatchError("Invalid ensemble:\n" + "\n".join(f"  - {p}" for p in plan.invalid[0].problems))
    return plan


# ------------------------------------------------------------------------------------------ one run

# A Dask worker may run several tasks in threads of one process; dbt's in-process runner and the engine
# environment are process-wide, so one simulation at a time per process.
_PROCESS_LOCK = threading.Lock()


def _write_json(path: Path, payload: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


def read_run_record(folder: Path) -> dict | None:
    try:
        return json.loads((Path(folder) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class _ProgressFile:
    """The Simulation progress callback of a run, appended as JSON lines the batch process follows."""

    def __init__(self, path: Path):
        self.fh = path.open("a", encoding="utf-8")

    def __call__(self, stage: str, **info) -> None:
        event = {"t": time.time(), "stage": stage}
        if "year" in info:
            event["year"] = info["year"]
        if "level" in info:
            event["level"] = info["level"]
        self.fh.write(json.dumps(event) + "\n")
        self.fh.flush()

    def close(self) -> None:
        self.fh.close()


def execute_run(spec: RunSpec) -> dict:
    """Run one simulation of a batch into its folder; returns (and writes to run.json) its record.

    Never raises for a failed run: the error is in the record. Runs in a pool process or a Dask worker.
    """
    with _PROCESS_LOCK:
        return _execute(spec)


def _execute(spec: RunSpec) -> dict:
    from .orchestrator import Simulation

    folder = Path(spec.folder)
    previous = read_run_record(folder)
    if previous is not None and previous.get("fingerprint") != spec.fingerprint:
        shutil.rmtree(folder)  # the inputs changed: nothing of the old run is reusable
        previous = None
    folder.mkdir(parents=True, exist_ok=True)
    resumable = previous is not None and spec.database.exists()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    record = {"run_id": spec.run_id, "scenario": spec.scenario, "seed": spec.seed, "fingerprint": spec.fingerprint,
              "status": "running", "worker": worker, "database": str(spec.database),
              "started_at": dt.datetime.now().isoformat(timespec="seconds")}
    _write_json(folder / "run.json", record)
    (folder / "config.yaml").write_text(yaml.safe_dump(spec.config, sort_keys=False), encoding="utf-8")
    handler = logging.FileHandler(folder / "run.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("planwise")
    saved = root.level, root.propagate
    root.addHandler(handler)
    # The run's log goes to its run.log only: a worker's stderr is not the batch's progress display.
    root.setLevel(logging.INFO)
    root.propagate = False
    progress = _ProgressFile(folder / "progress.jsonl")
    started = time.perf_counter()
    result: dict | None = None
    try:
        config = config_from_dict(spec.config, source=f"{spec.run_id}/config.yaml")
        progress("started")
        if resumable:
            try:
                result = Simulation(config, spec.database, census=spec.census, plugin=spec.plugin,
                                    progress=progress).run(resume=True)
            except PlanwiseError as exc:  # nothing (or nothing consistent) to resume: start over
                log.info("%s: not resumable (%s); running from the start", spec.run_id, exc)
        if result is None:
            result = Simulation(config, spec.database, census=spec.census, plugin=spec.plugin,
                                progress=progress).run()
        error = None if result["success"] else f"years {result['failed_years']} failed: {result['error']}"
    except PlanwiseError as exc:
        error = str(exc)
    except Exception as exc:  # an unexpected failure of this run must not stop the others
        error = f"{type(exc).__name__}: {exc}"
        (folder / "error.log").write_text(traceback.format_exc(), encoding="utf-8")
    finally:
        progress("finished")
        progress.close()
        root.removeHandler(handler)
        root.setLevel(saved[0])
        root.propagate = saved[1]
        handler.close()
    record.update({
        "status": "completed" if error is None else "failed", "error": error,
        "seconds": round(time.perf_counter() - started, 3),
        "completed_years": result["completed_years"] if result else [],
        "failed_years": result["failed_years"] if result else [],
        "resumed_years": result.get("resumed_years", []) if result else [],
        "dbt_invocations": sum(m.get("dbt_invocations") or 0 for m in (result.get("plugin_metrics") or {}).values()
                               if isinstance(m, dict)) if result else 0,
        "rows": sum(y.get("rows") or 0 for y in result["years"].values()) if result else 0,
        "peak_memory_mb": (result.get("performance_metrics") or {}).get("peak_memory_mb") if result else None,
        "finished_at": dt.datetime.now().isoformat(timespec="seconds"),
    })
    _write_json(folder / "run.json", record)
    return record


# -------------------------------------------------------------------------------------------- sizing


def census_employees(census: str | None) -> int:
    """Rows of a census file (a fast count; the run validates it), or the built-in census size."""
    if census is None:
        return BUILTIN_EMPLOYEES
    path = Path(census)
    if path.suffix.lower() == ".parquet":
        import duckdb

        con = duckdb.connect()
        try:
            return int(con.execute("select sum(num_rows) from parquet_file_metadata(?)", [str(path)]).fetchone()[0])
        except duckdb.Error:
            return BUILTIN_EMPLOYEES
        finally:
            con.close()
    lines = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            lines += chunk.count(b"\n")
    return max(lines - 1, 1)


def run_memory_estimate(employees: int) -> int:
    return RUN_MEMORY_BASE + RUN_MEMORY_PER_EMPLOYEE * employees


def size_local_pool(plan: BatchPlan, requested: int | None = None) -> tuple[int, str]:
    """Concurrent local runs: the cores, capped so the largest run fits ``MEMORY_HEADROOM`` of free memory."""
    import psutil

    runs = len(plan.runs) or 1
    # Each census file counted once, however many runs share it.
    employees = max((census_employees(c) for c in {r.census for r in plan.runs}), default=BUILTIN_EMPLOYEES)
    per_run = run_memory_estimate(employees)
    available = psutil.virtual_memory().available
    by_memory = max(1, int(available * MEMORY_HEADROOM // per_run))
    cores = os.cpu_count() or 1
    why = (f"{cores} cores; {available / 2**30:.1f} GiB available, ~{per_run / 2**30:.2f} GiB per "
           f"{employees:,}-employee run -> at most {by_memory} by memory")
    if requested:
        if requested > by_memory:
            log.warning("--max-concurrent %s exceeds what fits in memory (%s)", requested, why)
        return requested, f"--max-concurrent {requested} ({why})"
    n = max(1, min(cores, by_memory, runs))
    return n, f"{n} concurrent ({why}, {runs} runs)"


# ----------------------------------------------------------------------------------------- executors


@attrs.define
class ExecutorHandle:
    """A concurrent.futures executor plus how to rebuild it (a broken local pool) and its description."""

    executor: cf.Executor
    description: str
    slots: int
    rebuild: Callable[[], cf.Executor] | None = None


@contextlib.contextmanager
def local_executor(workers: int) -> Iterator[ExecutorHandle]:
    # spawn, not fork: dbt and DuckDB hold threads and locks a forked child must not inherit.
    def make() -> cf.Executor:
        return cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))

    handle = ExecutorHandle(make(), f"local process pool of {workers}", workers, make)
    try:
        yield handle
    finally:
        handle.executor.shutdown(wait=True, cancel_futures=True)


def _check_dask_address(address: str) -> None:
    if address != "local" and not re.match(r"^(tcp|tls|ucx|inproc|ws|wss)://\S+$", address):
        raise BatchError(f"--dask must be 'local' or a scheduler address such as tcp://HOST:8786, got {address!r}.")


def _worker_probe(output: str) -> dict:
    """Runs on every Dask worker before the batch: can it import PlanWise and see the output folder?"""
    from importlib.metadata import version

    return {"planwise": version("planwise"), "sees_output": Path(output).is_dir()}


@contextlib.contextmanager
def dask_executor(address: str, output: Path, workers: int | None = None) -> Iterator[ExecutorHandle]:
    """``address`` "local": a LocalCluster of ``workers`` single-threaded worker processes on this machine;
    otherwise the address of a running scheduler (e.g. tcp://host:8786)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - distributed is a dependency
        raise BatchError(f"--dask needs the 'distributed' package: {exc}") from None
    from importlib.metadata import version

    with contextlib.ExitStack() as stack:
        if address == "local":
            import dask

            n = workers or (os.cpu_count() or 1)
            # Dask's statistical profiler samples every worker thread's stack every 10 ms; dbt's stacks are deep,
            # and measured here it cost about 7 % of a batch's wall time (docs/performance.md).
            stack.enter_context(dask.config.set({"distributed.worker.profile.enabled": False}))
            cluster = stack.enter_context(LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                                       dashboard_address=None))
            client = stack.enter_context(Client(cluster))
            where = f"Dask LocalCluster of {n} worker process{'' if n == 1 else 'es'}"
        else:
            _check_dask_address(address)
            try:
                client = stack.enter_context(Client(address, timeout=DASK_CONNECT_TIMEOUT))
            except (OSError, TimeoutError) as exc:
                raise BatchError(f"Cannot reach the Dask scheduler at {address}: {exc}. Is it running, and is "
                                 "the address right?") from None
            where = f"Dask scheduler {address}"
        try:
            client.wait_for_workers(1, timeout=60)
        except TimeoutError:
            raise BatchError(f"{where} has no workers (waited 60 s): start some with "
                             f"`dask worker {address} --nthreads 1`.") from None
        probes = client.run(_worker_probe, str(output))
        mine = version("planwise")
        for worker, probe in sorted(probes.items()):
            if probe["planwise"] != mine:
                raise BatchError(f"Dask worker {worker} has planwise {probe['planwise']}, this client {mine}: "
                                 "install the same version on every worker.")
            if not probe["sees_output"]:
                raise BatchError(f"Dask worker {worker} cannot see the batch output folder {output}: put --output "
                                 "on storage that the client and every worker mount at the same path.")
        threads = sum(w["nthreads"] for w in client.scheduler_info()["workers"].values())
        yield ExecutorHandle(client.get_executor(pure=False),
                             f"{where} ({_plural(len(probes), 'worker')}, {_plural(threads, 'thread')})", threads)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# ----------------------------------------------------------------------------------------- the batch


@attrs.define
class BatchResult:
    kind: str
    source: str
    output: Path
    database: Path | None
    report: Path | None
    executor: str
    runs: list[dict]
    seconds: float

    @property
    def failures(self) -> list[dict]:
        return [r for r in self.runs if r["status"] != "completed"]

    @property
    def success(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict:
        counts = collections.Counter(r["status"] for r in self.runs)
        return {"kind": self.kind, "source": self.source, "output": str(self.output),
                "database": str(self.database) if self.database else None,
                "report": str(self.report) if self.report else None, "executor": self.executor,
                "success": self.success, "seconds": self.seconds, "planned_runs": len(self.runs),
                "completed_runs": counts["completed"], "failed_runs": counts["failed"],
                "invalid_runs": counts["invalid"], "reused_runs": sum(bool(r.get("reused")) for r in self.runs),
                "runs": self.runs}


class NullProgress:
    """The progress interface the batch loop reports to (see planwise_core.batch_progress)."""

    def start(self, plan: BatchPlan, executor: str, reused: list[str]) -> None: ...

    def event(self, run_id: str, event: dict) -> None: ...

    def finished(self, record: dict) -> None: ...

    def close(self) -> None: ...


@contextlib.contextmanager
def _output_lock(output: Path) -> Iterator[None]:
    output.mkdir(parents=True, exist_ok=True)
    fd = os.open(output / ".batch.lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchError(f"Another batch is writing to {output}; wait for it or use another --output.") from None
        yield
    finally:
        os.close(fd)


def run_batch(plan: BatchPlan, *, max_concurrent: int | None = None, dask: str | None = None,
              progress: NullProgress | None = None, force: bool = False, report: bool = True) -> BatchResult:
    """Run every valid run of ``plan`` not already completed, then aggregate into ``batch.duckdb``.

    ``dask``: None for the local process pool, "local" for a Dask LocalCluster, or a scheduler address.
    ``force``: redo completed runs too.
    """
    progress = progress or NullProgress()
    started = time.perf_counter()
    if dask is not None:
        _check_dask_address(dask)
    with _output_lock(plan.output):
        reused, todo = [], []
        for spec in plan.runs:
            previous = None if force else read_run_record(Path(spec.folder))
            if (previous and previous.get("status") == "completed" and previous.get("fingerprint") == spec.fingerprint
                    and spec.database.exists()):
                reused.append({**previous, "reused": True})
            else:
                todo.append(spec)
        if force:
            for spec in plan.runs:
                shutil.rmtree(spec.folder, ignore_errors=True)
        records = {r["run_id"]: r for r in reused}
        executor_name = "none (every run was already complete)"
        if todo:
            if dask:
                context = dask_executor(dask, plan.output, max_concurrent)
            else:
                workers, why = size_local_pool(attrs.evolve(plan, runs=tuple(todo)), max_concurrent)
                log.info("batch: %s", why)
                context = local_executor(workers)
            with context as handle:
                executor_name = handle.description
                progress.start(plan, executor_name, [r["run_id"] for r in reused])
                for record in _submit_all(handle, todo, max_concurrent or handle.slots, progress):
                    records[record["run_id"]] = {**record, "reused": False}
        else:
            progress.start(plan, executor_name, [r["run_id"] for r in reused])
        progress.close()
        runs = [{**records[s.run_id], "overrides_json": json.dumps(s.overrides, sort_keys=True, default=str)}
                for s in plan.runs]
        runs += [_invalid_record(i, seed) for i in plan.invalid for seed in (i.seeds or (None,))]
        result = BatchResult(kind=plan.kind, source=plan.source, output=plan.output, database=None, report=None,
                             executor=executor_name, runs=runs, seconds=0.0)
        result.database = _aggregate(plan, runs)
        if report:
            from .batch_report import write_batch_report

            result.report = write_batch_report(result.database, plan.output / "report.html")
        result.seconds = round(time.perf_counter() - started, 3)
        _write_json(plan.output / "batch.json", result.to_dict())
    return result


def _invalid_record(invalid: InvalidScenario, seed: int | None) -> dict:
    run_id = f"{invalid.scenario}/seed-{seed}" if seed is not None else invalid.scenario
    return {"run_id": run_id, "scenario": invalid.scenario, "seed": seed, "status": "invalid",
            "error": "; ".join(invalid.problems), "problems": list(invalid.problems), "reused": False,
            "completed_years": [], "failed_years": [], "seconds": 0.0, "database": None, "overrides_json": "{}"}


def _submit_all(handle: ExecutorHandle, todo: list[RunSpec], slots: int, progress: NullProgress) -> Iterator[dict]:
    """Keep at most ``slots`` runs in flight on the executor; yield each run's record as it finishes."""
    pending = collections.deque(todo)
    inflight: dict[cf.Future, RunSpec] = {}
    offsets: dict[str, int] = {}
    while pending or inflight:
        while pending and len(inflight) < max(1, slots):
            spec = pending.popleft()
            _reset_progress(spec)
            try:
                inflight[handle.executor.submit(execute_run, spec)] = spec
            except cf.process.BrokenProcessPool:
                pending.appendleft(spec)
                _rebuild(handle)
        done, _ = cf.wait(inflight, timeout=0.5, return_when=cf.FIRST_COMPLETED)
        for spec in inflight.values():
            _follow(spec, offsets, progress)
        for future in done:
            spec = inflight.pop(future)
            _follow(spec, offsets, progress)
            try:
                record = future.result()
            except Exception as exc:  # the worker died (killed, out of memory) or the task was lost
                record = _lost_run(spec, exc)
                if isinstance(exc, cf.process.BrokenProcessPool):
                    _rebuild(handle)
            progress.finished(record)
            yield record


def _rebuild(handle: ExecutorHandle) -> None:
    if handle.rebuild is None:
        raise BatchError("The executor is broken and cannot be rebuilt.")
    handle.executor.shutdown(wait=False, cancel_futures=True)
    handle.executor = handle.rebuild()


def _lost_run(spec: RunSpec, exc: BaseException) -> dict:
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    record = {"run_id": spec.run_id, "scenario": spec.scenario, "seed": spec.seed, "fingerprint": spec.fingerprint,
              "status": "failed", "error": f"the worker running this run was lost ({reason})",
              "database": str(spec.database), "completed_years": [], "failed_years": [], "seconds": None,
              "finished_at": dt.datetime.now().isoformat(timespec="seconds")}
    folder = Path(spec.folder)
    if folder.is_dir():
        _write_json(folder / "run.json", record)
    return record


def _reset_progress(spec: RunSpec) -> None:
    path = Path(spec.folder) / "progress.jsonl"
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _follow(spec: RunSpec, offsets: dict[str, int], progress: NullProgress) -> None:
    """Pass on the progress lines a run appended since the last look."""
    path = Path(spec.folder) / "progress.jsonl"
    try:
        with path.open("rb") as fh:
            fh.seek(offsets.get(spec.run_id, 0))
            data = fh.read()
    except FileNotFoundError:
        return
    complete = data[:data.rfind(b"\n") + 1]
    offsets[spec.run_id] = offsets.get(spec.run_id, 0) + len(complete)
    for line in complete.splitlines():
        with contextlib.suppress(ValueError):
            progress.event(spec.run_id, json.loads(line))


def _aggregate(plan: BatchPlan, runs: list[dict]) -> Path:
    from .batch_store import BATCH_DATABASE, run_year_rows, write_batch_database

    specs = {s.run_id: s for s in plan.runs}
    years = []
    for run in runs:
        spec = specs.get(run["run_id"])
        if spec is None or run["status"] != "completed":
            continue
        first, last = spec.years
        for row in run_year_rows(spec.database, first, last):
            years.append({"run_id": run["run_id"], "scenario": run["scenario"], "seed": run["seed"], **row})
    info = {"batch_id": uuid.uuid4().hex[:12], "kind": plan.kind, "source": plan.source, "output": str(plan.output)}
    return write_batch_database(plan.output / BATCH_DATABASE, info, runs, years)


def summarize_failures(result: BatchResult) -> str:
    lines = [f"  - {r['run_id']} ({r['status']}): {r['error']}" for r in result.failures]
    return (f"{len(result.failures)} of {len(result.runs)} runs did not complete:\n" + "\n".join(lines) +
            f"\nThe other runs' results are in {result.database}. Fix the cause and run the same command again: "
            "completed runs are kept, only these are redone.")

