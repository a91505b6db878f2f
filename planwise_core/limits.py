"""Bounds on inputs that the CLI declares and the modules enforce; importable without duckdb or dbt."""

# A run needs about 2.4 kB of memory per employee (docs/performance.md): 10 million is ~24 GB.
MAX_GENERATED_EMPLOYEES = 10_000_000
