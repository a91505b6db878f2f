"""The configuration schema as data: every key path with its type, default, range, choices and description.

Read from the same attrs fields the validator uses (each check carries what it accepts, config/checks.py), so a
form built from it cannot drift from what the validator refuses. Descriptions are in config/descriptions.py.
See docs/configuration.md ("The schema as data").
"""

from __future__ import annotations

from typing import Any

from planwise_core.config.checks import check_info
from planwise_core.config.descriptions import DESCRIPTIONS
from planwise_core.config.fields import CHECK, RECORD, REQUIRED, SECTION, schema_fields
from planwise_core.config.schema import PlanwiseConfig, dump

RECORD_MARK = "[]"  # a field of every record of a list: plan.match.tiers[].rate


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _entry(path: str, kind: str, default: Any, required: bool, **info: Any) -> dict[str, Any]:
    return {"key": path, "type": kind, "default": default, "required": required,
            "description": DESCRIPTIONS.get(path, ""), **info}


def _walk(default: Any, path: str, out: dict[str, dict]) -> None:
    """Every key of the section ``default`` (an instance: its values are the section's defaults)."""
    for field in schema_fields(type(default)):
        key, value = _join(path, field.name), getattr(default, field.name)
        required = field.metadata[REQUIRED]
        if field.metadata.get(SECTION):
            out[key] = _entry(key, "section", None, required, fields=_names(type(value)))
            _walk(value, key, out)
        elif field.metadata.get(RECORD):
            record = field.metadata[RECORD]
            out[key] = _entry(key, "records", _json(dump(value)), required, fields=_names(record))
            _walk(record(), key + RECORD_MARK, out)
        else:
            info = check_info(field.metadata[CHECK])
            out[key] = _entry(key, info.pop("type", "any"), _json(dump(value)), required, **info)


def _json(value: Any) -> Any:
    """Mapping keys as strings (a distribution's rates, a vesting schedule's years), as JSON writes them."""
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    return [_json(v) for v in value] if isinstance(value, list) else value


def _names(cls: type) -> list[str]:
    return [f.name for f in schema_fields(cls)]


def config_schema() -> dict[str, dict[str, Any]]:
    """Key path -> ``{key, type, default, required, description}`` plus, when they apply, ``min``, ``max``,
    ``min_exclusive``, ``max_exclusive``, ``choices``, ``nullable``, ``by_year``, ``pattern`` and ``fields``.

    In file order. Types: ``integer``, ``number``, ``boolean``, ``string``, ``date`` (ISO), ``distribution``
    (mapping rate -> share), ``vesting_steps`` (mapping years -> fraction), ``assumptions``, ``section`` (its
    ``fields``) and ``records`` (a list of mappings; each record's keys are listed as ``path[].field``).
    ``by_year``: one value or a mapping year -> value. Defaults are as ``PlanwiseConfig().to_dict()`` writes them.
    JSON-safe.
    """
    out: dict[str, dict[str, Any]] = {}
    _walk(PlanwiseConfig(), "", out)
    for entry in out.values():
        if "choices" in entry:
            entry["choices"] = list(entry["choices"])
    return out


def schema_keys() -> list[str]:
    """Every key path of the schema (sections and record fields included)."""
    return list(config_schema())
