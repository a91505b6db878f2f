"""The results database: connections, the run lock, year bookkeeping and year checkpoints."""

from planwise_core.database.connection import (
    completed_years, connect, delete_years, run_lock, table_exists, year_row_counts,
)
from planwise_core.database import runlog
