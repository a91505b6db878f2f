"""Two ways to drive the same dbt project: in-process (dbtRunner) and one CLI subprocess per call."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import attrs

from planwise_core.engine.project import DbtProject, parsed_manifest
from planwise_core.errors import SimulationError

log = logging.getLogger("planwise.dbt")

# In-process dbt changes process-wide state: os.environ (the database path, threads), the parsed manifests of
# engine/project.py and dbt-duckdb's connection manager. The dbt engines hold this lock around a whole run
# (engines.Engine.lock); re-entrant, so that a run whose fallback chain holds both engines takes it once.
DBT_PROCESS_LOCK = threading.RLock()


@attrs.frozen
class DbtCall:
    """One finished dbt invocation."""

    args: tuple[str, ...]
    seconds: float
    # The nodes it ran, as (name, resource type, tags, seconds), when the invoker can tell (in-process dbt).
    nodes: tuple[tuple[str, str, tuple[str, ...], float], ...] = ()


class Invoker:
    """Counts and times invocations; subclasses run them."""

    def __init__(self, project: DbtProject, dbt_vars: dict):
        self.project = project
        self.vars = dict(dbt_vars)
        self.calls: list[DbtCall] = []

    @property
    def invocations(self) -> int:
        return len(self.calls)

    def invoke(self, command: str, *args: str, year: int | None = None, dbt_vars: dict | None = None) -> DbtCall:
        """One dbt command with the run's vars (or ``dbt_vars`` instead) and ``year`` as simulation_year."""
        dbt_vars = dict(self.vars if dbt_vars is None else dbt_vars,
                        **({"simulation_year": year} if year is not None else {}))
        full = [command, *self.project.common_args(), "--vars", json.dumps(dbt_vars, sort_keys=True), *args]
        label = f"dbt {command} {' '.join(args)}".strip()
        started = time.perf_counter()
        nodes = self._run(full, label)
        call = DbtCall(tuple([command, *args]), time.perf_counter() - started, tuple(nodes or ()))
        self.calls.append(call)
        log.debug("%s%s: %.2fs", label, f" (year {year})" if year is not None else "", call.seconds,
                  extra={"event": "dbt_step", "step": label, "year": year, "seconds": round(call.seconds, 3)})
        return call

    def _run(self, args: list[str], label: str) -> list | None:
        """Run one dbt command; the nodes it ran (see ``DbtCall.nodes``) when known."""
        raise NotImplementedError


def log_node(name: str, status: str, seconds: float) -> None:
    """One model or test of an invocation, for --verbose."""
    log.debug("  %s %s: %.2fs", name, status, seconds,
              extra={"event": "dbt_node", "node": name, "status": status, "seconds": round(seconds, 3)})


class InProcessDbt(Invoker):
    """dbtRunner in this process: the project is parsed once per process and database name, then reused."""

    def __init__(self, project: DbtProject, dbt_vars: dict):
        super().__init__(project, dbt_vars)
        self._runner = None
        self.parse_seconds = 0.0
        self.last_result = None

    def _ensure_parsed(self) -> None:
        if self._runner is not None:
            return
        from dbt.cli.main import dbtRunner

        os.environ.update(self.project.env())
        started = time.perf_counter()
        self._runner = dbtRunner(manifest=parsed_manifest(self.project))
        self.parse_seconds = time.perf_counter() - started

    def _run(self, args: list[str], label: str) -> list:
        self._ensure_parsed()
        os.environ.update(self.project.env())
        _forget_injected_ctes(self._runner.manifest)
        result = self._runner.invoke([*args, "--log-level", "none", "--no-write-json"])
        self.last_result = result  # what a caller reads besides success (the compiled engine: compiled nodes)
        _release_duckdb()
        nodes = []
        for node in getattr(result.result, "results", None) or []:
            if getattr(node, "node", None) is not None:
                log_node(node.node.name, str(node.status).lower().rsplit(".", 1)[-1], node.execution_time or 0.0)
                nodes.append((node.node.name, str(node.node.resource_type), tuple(node.node.tags),
                              node.execution_time or 0.0))
        if not result.success:
            raise SimulationError(f"{label} failed: {_failure_detail(result)}")
        return nodes


def _forget_injected_ctes(manifest) -> None:
    """A reused manifest keeps each node's injected ephemeral CTEs from the last invocation; dbt would then skip
    injecting them into the freshly compiled SQL (it checks extra_ctes_injected) and leave the CTEs undefined."""
    for node in manifest.nodes.values():
        if getattr(node, "extra_ctes_injected", False):
            node.extra_ctes_injected = False
            node.extra_ctes = []
            node.compiled = False


def _release_duckdb() -> None:
    """dbt-duckdb keeps the file open between invocations; other processes (legacy dbt, readers) need it."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    DuckDBConnectionManager.close_all_connections()


def _failure_detail(result) -> str:
    if result.exception is not None:
        return str(result.exception)
    failures = [f"{r.node.name}: {r.message}" for r in getattr(result.result, "results", [])
                if str(r.status).lower() in ("error", "fail", "runtimeerror")]
    return "; ".join(failures) or "unknown dbt error"


class SubprocessDbt(Invoker):
    """One `dbt` CLI process per call, as the original orchestrator ran it."""

    def _run(self, args: list[str], label: str) -> None:
        env = dict(os.environ, **self.project.env())
        # --no-write-json: no manifest.json or run_results.json that a later process could find half-written.
        proc = self.spawn([dbt_executable(), *args, "--no-write-json"], env)
        for match in _NODE_LINE.finditer(_ANSI.sub("", proc.stdout)):
            status = match["status"].lower()
            log_node(match["name"], "success" if status in ("ok", "insert") else status, float(match["seconds"]))
        if proc.returncode != 0:
            lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
            errors = [ln for ln in lines if "error" in ln.lower()] or lines[-15:]
            raise SimulationError(f"{label} failed (exit {proc.returncode}): " + " | ".join(errors[-10:]))

    def spawn(self, argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
        """Run one dbt command line as its own process; its exit code and captured output (the legacy engine forks
        it from a launcher instead: plugins/planwise_legacy/launcher.py)."""
        return subprocess.run(argv, env=env, capture_output=True, text=True)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# dbt's console line for a finished node, e.g. "1 of 9 OK created sql table model main.int_hires ... [OK in 0.12s]"
_NODE_LINE = re.compile(r"\d+ of \d+ (?:OK|PASS|FAIL|ERROR|WARN|SKIP)\b.*? (?:\w+\.)*(?P<name>\w+) \.+ "
                        r"\[(?P<status>\w+)[^\]]*? in (?P<seconds>[\d.]+)s\]")


def dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else (shutil.which("dbt") or "dbt")
