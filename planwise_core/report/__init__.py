"""Self-contained HTML pages: the run report (run_report) and the batch report (batch_report).

Each page module reads its database and turns it into plain values: figures (charts.Figure: the chart's
geometry plus the table of its numbers), tables (tables.Table, cells formatted by formatting) and cards.
page renders them through the Jinja2 templates of ``templates/`` (one layout, shared macros, one template
per page) with the stylesheet and script of ``static/`` inlined, and writes the file atomically.
"""

from planwise_core.report.run_report import write_report
