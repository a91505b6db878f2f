"""Where runs execute: a local process pool sized to cores and memory, or Dask distributed."""

from __future__ import annotations

import ast
import concurrent.futures as cf
import contextlib
import logging
import multiprocessing
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import attrs

from planwise_core.batch.plan import BUILTIN_EMPLOYEES, BatchError, BatchPlan
from planwise_core.errors import option

log = logging.getLogger("planwise.batch")

def unguarded_main_line() -> tuple[str, int] | None:
    """(script, line) when the main script is running its own top-level code outside an
    ``if __name__ == "__main__":`` block right now: a worker process (spawned) imports the main script
    first and would run that line, and so the whole batch, again. None when there is no such script
    (interactive, ``python -c``, a notebook) or the call is guarded."""
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    frame = sys._current_frames().get(threading.main_thread().ident)
    while frame is not None and not (frame.f_globals is getattr(main, "__dict__", None)
                                     and frame.f_code.co_name == "<module>"):
        frame = frame.f_back
    if script is None or frame is None:
        return None
    line = frame.f_lineno
    try:
        tree = ast.parse(Path(script).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return None
    guarded = any(isinstance(node, ast.If) and _is_main_test(node.test) and node.lineno <= line <= node.end_lineno
                  for node in ast.walk(tree))
    return None if guarded else (script, line)


def _is_main_test(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = {s.id for s in sides if isinstance(s, ast.Name)}
    values = {s.value for s in sides if isinstance(s, ast.Constant)}
    return names == {"__name__"} and values == {"__main__"}


def require_main_guard() -> None:
    """Refuse, before anything is written, a batch started by unguarded top-level code of the main script."""
    where = unguarded_main_line()
    if where is not None:
        script, line = where
        raise BatchError(
            f"{script}, line {line}, starts a batch from the top level of the script, outside an "
            "`if __name__ == \"__main__\":` block. Batch workers are new Python processes that import the "
            "main script first, so each of them would start the batch again. Put the code that starts the "
            "batch under `if __name__ == \"__main__\":` (docs/batch.md, Python API).")


def census_employees(census: str | None) -> int:
    """Rows of a census file (a fast count; the run validates it), or the built-in census size."""
    if census is None:
        return BUILTIN_EMPLOYEES
    path = Path(census)
    if path.suffix.lower() == ".parquet":
        import duckdb

        from planwise_core.census.sql import literal_path

        con = duckdb.connect()
        try:
            return int(con.execute(f"select sum(num_rows) from parquet_file_metadata({literal_path(path)})")
                       .fetchone()[0])
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
            log.warning("%s concurrent runs requested: more than fits in memory (%s)", requested, why)
        return requested, f"{requested} concurrent as requested ({why})"
    n = max(1, min(cores, by_memory, runs))
    return n, f"{n} concurrent ({why}, {runs} runs)"


DASK_CONNECT_TIMEOUT = "15s"

# Peak RSS of one run with the plan's money layer, measured by `make bench` (10K: 555 MB, 100K: 865 MB,
# 1M: 2,931 MB, 5 years, 2026-12-02): about 520 MB of Python + dbt + DuckDB, plus ~2.4 kB per census employee.
RUN_MEMORY_BASE = 520 * 2**20
RUN_MEMORY_PER_EMPLOYEE = 2_400
MEMORY_HEADROOM = 0.8


@attrs.define
class ExecutorHandle:
    """A concurrent.futures executor plus how to rebuild it (a broken local pool) and its description."""

    executor: cf.Executor
    description: str
    slots: int
    rebuild: Callable[[], cf.Executor] | None = None
    # Why the executor cannot run anything now, and whether that is final (None: it is fine).
    trouble: Callable[[], tuple[str, bool] | None] | None = None


@contextlib.contextmanager
def local_executor(workers: int) -> Iterator[ExecutorHandle]:
    # spawn, not fork: dbt and DuckDB hold threads and locks a forked child must not inherit.
    def make() -> cf.Executor:
        return cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                      initializer=start_worker, initargs=(os.getpid(), workers))

    handle = ExecutorHandle(make(), f"local process pool of {workers}", workers, make)
    try:
        yield handle
    finally:
        handle.executor.shutdown(wait=True, cancel_futures=True)


def start_worker(parent_pid: int, workers: int) -> None:
    """Pool worker initializer: share the cores (DuckDB threads = cores / workers), and die with the parent."""
    from planwise_core.database.connection import DUCKDB_THREADS_ENV

    os.environ.setdefault(DUCKDB_THREADS_ENV, str(max(1, (os.cpu_count() or 1) // workers)))
    die_with_parent(parent_pid)


PARENT_CHECK_SECONDS = 0.5
ORPHANED_EXIT = 70


def die_with_parent(parent_pid: int) -> None:
    """Pool worker initializer: end this worker as soon as the batch process that started it is gone.

    A killed batch must not leave a worker finishing a run nobody waits for: it would hold the run's database
    lock against the rerun and write a run.json that contradicts the rerun's record. Dying mid-year is safe:
    the run's results are built aside (database/workspace.py) and the rerun resumes them.
    """
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(ORPHANED_EXIT)

    threading.Thread(target=watch, name="planwise-parent-watch", daemon=True).start()


def check_dask_address(address: str) -> None:
    if address != "local" and not re.match(r"^(tcp|tls|ucx|inproc|ws|wss)://\S+$", address):
        raise BatchError(f"{option('dask')} must be 'local' or a scheduler address such as tcp://HOST:8786, got {address!r}.")


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
        raise BatchError(f"A Dask executor needs the 'distributed' package: {exc}") from None
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
            check_dask_address(address)
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
                raise BatchError(f"Dask worker {worker} cannot see the batch output folder {output}: put the "
                                 f"{option('output')} folder on storage that the client and every worker mount at the same path.")
        threads = sum(w["nthreads"] for w in client.scheduler_info()["workers"].values())
        yield ExecutorHandle(client.get_executor(pure=False),
                             f"{where} ({_plural(len(probes), 'worker')}, {_plural(threads, 'thread')})", threads,
                             trouble=lambda: client_trouble(client, where))


def client_trouble(client, where: str) -> tuple[str, bool] | None:
    """(reason, final) while the Dask client is not connected: reconnecting is temporary, closed is final."""
    status = str(getattr(client, "status", "running"))
    if status == "running":
        return None
    final = status != "connecting"
    return (f"the connection to the {where} was lost (client {status})", final)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
