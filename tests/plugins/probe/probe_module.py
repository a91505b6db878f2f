"""A third-party observer plugin: logs every process_year call, reports one metric."""

import os

from planwise_core import hookimpl
from planwise_core.results import PluginMetrics

LOG_ENV = "PLANWISE_PROBE_LOG"


@hookimpl
def process_year(year):
    # Append, not overwrite: the log must show every call, retries included.
    path = os.environ.get(LOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"process_year {year}\n")
    return None  # an observer: the engine's result must win


@hookimpl
def collect_metrics():
    return PluginMetrics("probe", {"answer": 42})
