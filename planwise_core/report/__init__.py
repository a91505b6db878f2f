"""Self-contained HTML pages: the run report and the batch report."""

from planwise_core.report.run_report import write_report  # noqa: F401
