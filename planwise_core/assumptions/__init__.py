"""Parameter tables (assumptions): declared, validated and loaded by the host; see docs/assumptions.md."""

from planwise_core.assumptions.resolve import (
    AssumptionSet, AssumptionsError, builtin_hashes, load_assumptions, resolve_assumptions,
)
from planwise_core.assumptions.spec import REPLACEABLE, SCHEMA, TABLES
