"""How a configuration section declares its keys: a value with its check, a nested section, or a list of records.

Shared by every section module (schema.py, plan.py) and read by the validator (validate.py).
"""

from typing import Any, Callable

import attrs

CHECK, SECTION, REQUIRED, RECORD = "check", "section", "required", "record"


class Records(tuple):
    """A list of records (e.g. match tiers): dumped back as a list of mappings, even when empty."""


def value_field(default: Any, check: Callable[[Any], Any], required: bool = False) -> Any:
    return attrs.field(default=default, metadata={CHECK: check, REQUIRED: required})


def section_field(factory: Callable[[], Any], required: bool = False) -> Any:
    return attrs.field(factory=factory, metadata={SECTION: True, REQUIRED: required})


def records_field(default: tuple, record: type, rule: Callable[[Records], Records]) -> Any:
    """A list of ``record`` sections; ``rule`` checks the parsed list as a whole (raises Invalid)."""
    return attrs.field(default=Records(default), metadata={RECORD: record, CHECK: rule, REQUIRED: False})


def schema_fields(cls: type) -> list[attrs.Attribute]:
    return [f for f in attrs.fields(cls) if f.metadata]
