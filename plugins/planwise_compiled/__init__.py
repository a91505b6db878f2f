"""The compiled engine: dbt compiles each phase once per project and configuration (cached, signed); the engine
runs the compiled SQL in DuckDB itself, with no dbt in the yearly loop on a warm cache (docs/compiled_engine.md)."""

from planwise_core.engine.compiled.engine import CompiledEngine

plugin = CompiledEngine()
