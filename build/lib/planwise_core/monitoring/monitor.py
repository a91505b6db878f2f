"""PerformanceMonitor: wall time per checkpoint and memory of this process and its dbt children."""

from __future__ import annotations

import resource
import time

import psutil


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    """Peak resident memory of this process and of its finished children (dbt subprocesses)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return max(own, children)


class PerformanceMonitor:
    """Records named checkpoints with elapsed time and resident memory."""

    def __init__(self):
        self._started: float | None = None
        self._last: float = 0.0
        self._samples: list[float] = []
        self.checkpoints: dict[str, dict] = {}

    def start(self) -> None:
        """Start (or restart) monitoring."""
        self._started = self._last = time.perf_counter()
        self._samples = [_rss_mb()]
        self.checkpoints = {}

    def checkpoint(self, name: str) -> float:
        """Record a checkpoint; returns seconds since the previous one."""
        if self._started is None:
            self.start()
        now = time.perf_counter()
        elapsed, self._last = now - self._last, now
        rss = _rss_mb()
        self._samples.append(rss)
        self.checkpoints[name] = {"seconds": round(elapsed, 4), "elapsed": round(now - self._started, 4),
                                  "rss_mb": round(rss, 1)}
        return elapsed

    def get_summary(self) -> dict:
        """total_time, peak_memory_mb, avg_memory_mb, memory_efficiency (avg / peak) and checkpoints."""
        if self._started is None:
            self.start()
        peak = max(peak_rss_mb(), *self._samples)
        avg = sum(self._samples) / len(self._samples)
        return {"total_time": time.perf_counter() - self._started, "peak_memory_mb": round(peak, 1),
                "avg_memory_mb": round(avg, 1), "memory_efficiency": round(avg / peak, 4) if peak else 1.0,
                "checkpoints": dict(self.checkpoints)}
