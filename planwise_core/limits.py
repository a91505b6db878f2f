"""Bounds on inputs that the CLI declares and the modules enforce; importable without duckdb or dbt."""

# A run needs about 1.15 kB of memory per employee (docs/performance.md): 10 million is ~12 GB.
MAX_GENERATED_EMPLOYEES = 10_000_000
