"""Scenario forms generated from the configuration schema: one typed field per key, its default, its value
in the scenario and the problems the library's validator reports for it."""

from __future__ import annotations

import datetime as dt

import attrs
import yaml

from planwise_core.config.fields import RECORD, SECTION, schema_fields

SKIP_SECTIONS = ("orchestration",)  # how a run executes, not what it simulates: set per run, not per scenario


def _kind(default) -> str:
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if isinstance(default, dt.date):
        return "date"
    return "yaml"


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, int, float, str, dt.date)):
        return str(value).lower() if isinstance(value, bool) else str(value)
    return yaml.safe_dump(_plain(value), default_flow_style=True, sort_keys=False).strip()


def _plain(value):
    if attrs.has(type(value)):
        return {k: _plain(v) for k, v in attrs.asdict(value, recurse=False).items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def fields(cls=None, prefix: str = "") -> list[dict]:
    from planwise_core.config import PlanwiseConfig

    cls = cls or PlanwiseConfig
    default_obj = cls()
    out = []
    for field in schema_fields(cls):
        key = f"{prefix}{field.name}"
        value = getattr(default_obj, field.name)
        if field.metadata.get(SECTION):
            if key not in SKIP_SECTIONS:
                out += fields(type(value), key + ".")
        elif field.metadata.get(RECORD):
            out.append({"key": key, "type": "records", "default": _text(value)})
        elif key != "assumptions":
            out.append({"key": key, "type": _kind(value), "default": _text(value)})
    return out


def _described(field: dict) -> dict:
    """The field with the validator's own description, range and choices (config.describe)."""
    from planwise_core.config.describe import config_schema

    info = config_schema().get(field["key"], {})
    low, high = info.get("min"), info.get("max")
    span = ""
    if low is not None or high is not None:
        span = (f"{'(' if info.get('min_exclusive') else '['}{'' if low is None else low}, "
                f"{'' if high is None else high}{')' if info.get('max_exclusive') else ']'}")
    return {**field, "description": info.get("description", ""), "range": span,
            "choices": [str(c) for c in info.get("choices") or []]}


def schema() -> list[dict]:
    sections: dict[str, list] = {}
    for field in map(_described, fields()):
        section = field["key"].split(".")[0] if "." in field["key"] else "general"
        sections.setdefault(section, []).append(field)
    return [{"name": name, "keys": keys} for name, keys in sections.items()]


def form_sections(overrides: dict, problems: list[dict], submitted: dict | None = None) -> list[dict]:
    """The schema's sections with each field's current text, whether it is changed, and its problems."""
    by_key: dict[str, list] = {}
    for p in problems:
        owner = next((f["key"] for f in fields() if p["key"] == f["key"] or p["key"].startswith(f["key"] + ".")
                      or p["key"].startswith(f["key"] + "[")), "")
        by_key.setdefault(owner, []).append(p)
    sections = schema()
    for section in sections:
        for field in section["keys"]:
            key = field["key"]
            if submitted is not None and key in submitted:
                field["value"] = submitted[key]
            else:
                field["value"] = _text(overrides[key]) if key in overrides else field["default"]
            field["changed"] = field["value"] != field["default"]
            field["problems"] = by_key.get(key, [])
    unplaced = by_key.get("", [])
    return sections + ([{"name": "other problems", "keys": [], "problems": unplaced}] if unplaced else [])


def overrides_from_form(form: dict) -> tuple[dict, dict]:
    """(overrides, submitted texts): a field is an override when its text differs from the default's."""
    from planwise_core.serve.scenarios import parse_value

    overrides, submitted = {}, {}
    for field in fields():
        key = field["key"]
        if field["type"] == "bool":
            text = "true" if form.get(key) in ("true", "on") else "false"
        elif key in form:
            text = str(form[key]).strip()
        else:
            continue
        submitted[key] = text
        if text != field["default"]:
            overrides[key] = parse_value(text)
    return overrides, submitted
