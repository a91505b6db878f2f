"""Batch progress on stderr: one line (a bar on a terminal) per run, and the batch total.

The batch loop calls ``start`` once, ``event`` for each progress line a run appends (started, foundation,
year, year_done, finished), ``finished`` with each run's record, and ``close``. On a terminal the block
of run lines is redrawn in place; elsewhere (a pipe, a log file, CI) each change is one plain line.
"""

from __future__ import annotations

import shutil
import sys
import time

import attrs

from planwise_core.batch import BatchPlan, NullProgress


@attrs.define
class _Run:
    run_id: str
    steps: int  # foundation + one per year
    done: int = 0
    label: str = "queued"
    status: str = "queued"  # queued, running, completed, failed, reused
    started: float | None = None
    seconds: float | None = None


class _Tracker(NullProgress):
    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.runs: dict[str, _Run] = {}
        self.executor = ""
        self.invalid: list[str] = []

    def start(self, plan: BatchPlan, executor: str, reused: list[str]) -> None:
        self.executor = executor
        for spec in plan.runs:
            first, last = spec.years
            run = _Run(spec.run_id, steps=last - first + 2)
            if spec.run_id in reused:
                run.status, run.done, run.label = "reused", run.steps, "complete from an earlier invocation"
            self.runs[spec.run_id] = run
        self.invalid = [i.scenario for i in plan.invalid]

    def event(self, run_id: str, event: dict) -> None:
        run = self.runs.get(run_id)
        if run is None:
            return
        stage = event.get("stage")
        if stage == "started":
            run.status, run.label, run.started, run.done = "running", "starting", time.monotonic(), 0
        elif stage == "foundation":
            run.label = "foundation"
        elif stage == "foundation_done":
            run.done = max(run.done, 1)
        elif stage == "year":
            run.label = f"year {event.get('year')} ({event.get('level')})"
        elif stage == "year_done":
            run.done = min(run.steps, run.done + 1)
            run.label = f"year {event.get('year')} done"
        else:
            return
        self.changed(run, stage)

    def finished(self, record: dict) -> None:
        run = self.runs.get(record["run_id"])
        if run is None:
            return
        run.status = record["status"]
        run.seconds = record.get("seconds")
        if run.status == "completed":
            run.done, run.label = run.steps, "completed"
        else:
            run.label = f"FAILED: {(record.get('error') or '').splitlines()[0] if record.get('error') else ''}"
        self.changed(run, "finished")

    def total(self) -> str:
        counts = {s: sum(r.status == s for r in self.runs.values()) for s in
                  ("completed", "reused", "failed", "running", "queued")}
        finished = counts["completed"] + counts["reused"] + counts["failed"]
        parts = [f"{finished}/{len(self.runs)} runs finished"]
        parts += [f"{counts[s]} {s}" for s in ("completed", "reused", "failed", "running", "queued") if counts[s]]
        if self.invalid:
            parts.append(f"{len(self.invalid)} invalid scenario(s) not run")
        return "batch: " + ", ".join(parts)

    def changed(self, run: _Run, stage: str) -> None:
        raise NotImplementedError


class LineProgress(_Tracker):
    """Plain lines: a run's start, each finished step, its end, each followed by nothing else to redraw."""

    def start(self, plan, executor, reused):
        super().start(plan, executor, reused)
        self._print(f"batch: {len(plan.runs)} run(s) on {executor}; {len(reused)} already complete"
                    + (f"; invalid, not run: {', '.join(self.invalid)}" if self.invalid else ""))

    def changed(self, run: _Run, stage: str) -> None:
        if stage in ("foundation_done", "year_done", "started", "finished"):
            secs = f" in {run.seconds:.1f}s" if stage == "finished" and run.seconds is not None else ""
            self._print(f"[{self._finished()}/{len(self.runs)}] {run.run_id}: {run.label}{secs} "
                        f"({run.done}/{run.steps} steps)")

    def close(self) -> None:
        if self.runs:
            self._print(self.total())

    def _finished(self) -> int:
        return sum(r.status in ("completed", "reused", "failed") for r in self.runs.values())

    def _print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)


class LiveProgress(_Tracker):
    """A block redrawn in place on a terminal: one bar per run, then the batch total."""

    BAR = 20

    def __init__(self, stream=None):
        super().__init__(stream)
        self.drawn = 0

    def start(self, plan, executor, reused):
        super().start(plan, executor, reused)
        print(f"batch on {executor}", file=self.stream, flush=True)
        self.draw()

    def changed(self, run: _Run, stage: str) -> None:
        self.draw()

    def close(self) -> None:
        self.draw()

    def lines(self) -> list[str]:
        width = shutil.get_terminal_size((100, 24)).columns
        rows = list(self.runs.values())
        limit = max(3, shutil.get_terminal_size((100, 24)).lines - 3)
        if len(rows) > limit:  # keep the running and failed runs in view, fold the rest into the total
            rows = [r for r in rows if r.status in ("running", "failed")][:limit]
        name_w = min(max((len(r.run_id) for r in rows), default=10), 40)
        out = []
        for r in rows:
            filled = round(self.BAR * r.done / r.steps) if r.steps else 0
            elapsed = r.seconds if r.seconds is not None else (time.monotonic() - r.started if r.started else 0)
            line = (f"{r.run_id[:name_w]:<{name_w}} [{'#' * filled}{'-' * (self.BAR - filled)}] "
                    f"{r.done}/{r.steps} {elapsed:6.1f}s {r.label}")
            out.append(line[:width - 1])
        out.append(self.total()[:width - 1])
        return out

    def draw(self) -> None:
        lines = self.lines()
        up = f"\x1b[{self.drawn}F" if self.drawn else ""
        self.stream.write(up + "\x1b[J" + "".join(f"{line}\n" for line in lines))
        self.stream.flush()
        self.drawn = len(lines)


def progress_for(stream=None, quiet: bool = False) -> NullProgress:
    """Live bars on a terminal, plain lines elsewhere, nothing when quiet."""
    stream = stream or sys.stderr
    if quiet:
        return NullProgress()
    return LiveProgress(stream) if stream.isatty() else LineProgress(stream)
