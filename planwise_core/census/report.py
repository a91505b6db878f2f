"""Telling the user what a census load kept, left out and found suspicious (on the planwise.census logger)."""

from __future__ import annotations

import logging
from pathlib import Path

from planwise_core.census.validate import CensusSummary

log = logging.getLogger("planwise.census")


def log_census(summary: CensusSummary, rejects: Path) -> None:
    """Warnings and dropped rows at WARNING (shown by default), ignored columns at INFO."""
    if summary.dropped:
        log.warning("census %s: %d of %d rows left out as invalid, listed in %s (once the run completes)",
                    summary.path, summary.dropped,
                    summary.rows, rejects, extra={"event": "census_rows_dropped", "dropped": summary.dropped,
                                                  "rows": summary.rows, "rejects_file": str(rejects)})
        for problem in summary.dropped_problems:
            log.warning("census: dropped: %s", problem)
    if summary.warning_rows:
        log.warning("census %s: %d rows with warnings (simulated as given)", summary.path, summary.warning_rows,
                    extra={"event": "census_warnings", "warning_rows": summary.warning_rows})
        for warning in summary.warnings:
            log.warning("census: warning: %s", warning)
    if summary.extra_columns:
        log.info("census %s: columns ignored: %s", summary.path, ", ".join(summary.extra_columns),
                 extra={"event": "census_extra_columns", "columns": list(summary.extra_columns)})
