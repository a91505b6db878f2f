"""The compiled engine's parts: the compiled-SQL cache, the compiler (dbt compile) and the executor (DuckDB)."""
