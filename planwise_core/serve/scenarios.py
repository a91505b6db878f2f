"""Scenarios: configuration overrides (dotted keys) on the workspace base, plus replaced parameter tables,
validated by the library's own validators with every problem tied to its key (docs/serve.md, "Scenarios")."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import yaml

from planwise_core.fileio import atomic_write_text
from planwise_core.serve.workspace import Workspace

BASE_CONFIG = "base_config.yaml"
TABLES_FOLDER = "tables"
MAX_TABLE_BYTES = 1024 * 1024


class ScenarioError(Exception):
    def __init__(self, status: int, code: str, message: str, problems: list[dict] | None = None):
        super().__init__(message)
        self.status, self.code, self.problems = status, code, problems or []


def problem(text: str, severity: str = "error") -> dict:
    """A library message ``key.path: reason`` as ``{key, message, severity}``."""
    key, sep, message = text.partition(": ")
    if not sep or " " in key.strip():
        return {"key": "", "message": text, "severity": severity}
    return {"key": key.strip(), "message": message, "severity": severity}


def as_dict(ws: Workspace, item) -> dict:
    """A library Problem as the API's ``{key, path, message, severity}``."""
    return {"key": item.key, "path": list(item.path), "message": ws.scrub(item.message), "severity": item.severity}


def base_config(ws: Workspace) -> dict:
    from planwise_core.config import DEFAULT_CONFIG_PATH, load_raw_config

    path = ws.root / BASE_CONFIG
    return load_raw_config(path if path.is_file() else DEFAULT_CONFIG_PATH)


def apply_overrides(base: dict, overrides: dict) -> dict:
    merged = yaml.safe_load(yaml.safe_dump(base))  # a deep copy of plain data
    for dotted, value in overrides.items():
        *parents, leaf = dotted.split(".")
        node = merged
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[leaf] = value
    return merged


def parse_value(text: str):
    """A form field as ``--set`` reads it: YAML (``0.15``, ``true``, ``{2025: 0.03}``), else the text."""
    try:
        return yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        return text


def tables_folder(ws: Workspace, name: str) -> Path:
    return ws.scenario_folder(name) / TABLES_FOLDER


def check(ws: Workspace, name: str, overrides: dict, tables: Path | None = None,
          base: dict | None = None) -> tuple[list[dict], dict]:
    """(problems, effective configuration) of ``overrides`` on the base, with the scenario's tables."""
    from planwise_core.assumptions import AssumptionsError, resolve_assumptions
    from planwise_core.config import check_configuration, config_from_dict
    from planwise_core.errors import ConfigError

    merged = apply_overrides(base_config(ws) if base is None else base, overrides)
    found = check_configuration(merged)
    problems = [as_dict(ws, p) for p in found.items]  # the validator's own key paths (docs/configuration.md)
    folder = tables if tables is not None else tables_folder(ws, name)
    if not found.errors and folder.is_dir() and any(folder.iterdir()):
        try:
            config = config_from_dict({**merged, "assumptions": str(folder)}, source=f"scenario {name}")
            resolve_assumptions(config)
        except AssumptionsError as exc:
            problems += [as_dict(ws, p) for p in exc.items]
        except ConfigError as exc:
            problems += [problem(ws.scrub(p)) for p in exc.problems]
    return problems, merged


def errors_of(problems: list[dict]) -> list[dict]:
    return [p for p in problems if p["severity"] == "error"]


def read(ws: Workspace, name: str) -> dict:
    path = ws.scenario_folder(name) / "scenario.yaml"
    if not path.is_file():
        raise ScenarioError(404, "not_found", f"no scenario named {name}")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    data["tables"] = table_states(ws, name)
    return data


def stored(ws: Workspace, name: str) -> dict:
    """The saved scenario ``name``, or {} when there is none (a run of the base configuration)."""
    return read(ws, name) if (ws.scenario_folder(name) / "scenario.yaml").is_file() else {}


def table_states(ws: Workspace, name: str) -> dict:
    from planwise_core.assumptions import REPLACEABLE, builtin_hashes

    folder = tables_folder(ws, name)
    states = {}
    for table in sorted(REPLACEABLE):
        path = folder / f"{table}.csv"
        states[table] = {"source": "replaced" if path.is_file() else "built-in",
                         "sha256": builtin_hashes().get(table) if not path.is_file() else _csv_sha(path)}
    return states


def _csv_sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def listing(ws: Workspace) -> list[dict]:
    folder = ws.root / "scenarios"
    names = sorted(p.name for p in folder.iterdir() if (p / "scenario.yaml").is_file()) if folder.is_dir() else []
    return [read(ws, n) for n in names]


def field_problems(state: dict) -> list[dict]:
    """Problems of the scenario's own settings: ``seeds`` (what ``planwise batch`` takes: a count or a list of
    distinct whole numbers) and ``plugin`` (an installed engine plugin)."""
    from planwise_core.batch.plan import MAX_SEEDS

    problems = []
    seeds = state.get("seeds")
    whole = lambda v: isinstance(v, int) and not isinstance(v, bool)  # noqa: E731
    if seeds is not None and not ((whole(seeds) and 1 <= seeds <= MAX_SEEDS) or (
            isinstance(seeds, list) and seeds and all(whole(v) for v in seeds) and len(set(seeds)) == len(seeds))):
        problems.append({"key": "seeds", "severity": "error", "message": f"a count from 1 to {MAX_SEEDS} or a list "
                         f"of distinct whole numbers (got {str(seeds)[:40]})"})
    plugin = state.get("plugin")
    if plugin is not None:
        from planwise_core.manager import engine_names, get_plugin_manager

        engines = sorted(engine_names(get_plugin_manager()))
        if plugin not in engines:
            problems.append({"key": "plugin", "severity": "error", "message": f"unknown engine plugin "
                             f"{str(plugin)[:40]!r}; installed: {', '.join(engines)}"})
    return problems


def create(ws: Workspace, name: str, state: dict) -> dict:
    """A new scenario, from the defaults or from ``base`` (a saved scenario): its overrides, replaced tables,
    seeds and engine are the starting point, the request's own values on top; ``base`` is recorded."""
    base = state.get("base") or "defaults"
    if base == "defaults":
        return save(ws, name, {**state, "base": base}, None, create=True)
    try:
        source = read(ws, base if isinstance(base, str) else "")
    except (ScenarioError, ValueError):
        raise ScenarioError(422, "invalid_base", "base must be \"defaults\" or a saved scenario", [
            {"key": "base", "message": f"no scenario named {str(base)[:64]}", "severity": "error"}]) from None
    merged = {k: source.get(k) for k in ("seeds", "plugin", "census_id", "description")}
    merged.update(state, overrides={**(source.get("overrides") or {}), **(state.get("overrides") or {})})
    return save(ws, name, merged, None, create=True, tables=tables_folder(ws, base))


def save(ws: Workspace, name: str, state: dict, revision: int | None, create: bool = False,
         tables: Path | None = None) -> dict:
    """Validate, then write ``scenario.yaml`` (revision + 1); nothing is written when there is an error.
    ``tables``: a folder of replaced tables the new scenario starts from (copied with it)."""
    folder = ws.scenario_folder(name)
    exists = (folder / "scenario.yaml").is_file()
    if create and exists:
        raise ScenarioError(409, "exists", f"a scenario named {name} exists")
    current = read(ws, name) if exists else None
    if current and revision is not None and revision != current.get("revision"):
        raise ScenarioError(409, "stale_revision", f"the scenario changed in another tab (revision "
                                                   f"{current.get('revision')}); reload it")
    overrides = state.get("overrides") or {}
    if not isinstance(overrides, dict):
        raise ScenarioError(422, "invalid_configuration", "overrides must be a mapping of dotted keys")
    problems = check(ws, name, overrides, tables)[0] + field_problems(state)
    if errors_of(problems):
        raise ScenarioError(422, "invalid_configuration",
                            f"Invalid configuration ({len(errors_of(problems))} problems); nothing was saved.",
                            problems)
    kept = current or {}
    record = {"name": name, "description": str(state.get("description") or kept.get("description", "")),
              "base": kept.get("base", state.get("base", "defaults")), "overrides": overrides,
              **{k: state.get(k, kept.get(k)) for k in ("census_id", "seeds", "plugin")},
              "revision": kept.get("revision", 0) + 1, "updated_at": dt.datetime.now().isoformat(timespec="seconds")}
    folder.mkdir(parents=True, exist_ok=True)
    if tables is not None and tables.is_dir():
        shutil.copytree(tables, tables_folder(ws, name), dirs_exist_ok=True)
    atomic_write_text(folder / "scenario.yaml", yaml.safe_dump(record, sort_keys=False))
    return read(ws, name)


def delete(ws: Workspace, name: str) -> None:
    read(ws, name)
    shutil.rmtree(ws.scenario_folder(name))


def save_table(ws: Workspace, name: str, table: str, text: str) -> dict:
    """Validate the CSV with every other table of the scenario; saved only when the library accepts it."""
    from planwise_core.assumptions import REPLACEABLE

    if table not in REPLACEABLE:
        raise ScenarioError(404, "not_found", f"no replaceable parameter table named {table}")
    if len(text.encode()) > MAX_TABLE_BYTES:
        raise ScenarioError(413, "too_large", "parameter tables hold at most 1 MB")
    scenario = read(ws, name)
    live = tables_folder(ws, name)
    with tempfile.TemporaryDirectory(dir=ws.serve_dir / "tmp") as tmp:
        trial = Path(tmp)
        if live.is_dir():
            shutil.copytree(live, trial, dirs_exist_ok=True)
        (trial / f"{table}.csv").write_text(text, encoding="utf-8")
        problems = errors_of(check(ws, name, scenario.get("overrides") or {}, trial)[0])
    if problems:
        for p in problems:
            p["message"] = p["message"].replace(str(trial), f"scenarios/{name}/tables")
        raise ScenarioError(422, "invalid_table", f"The table {table} is refused; nothing was saved.", problems)
    live.mkdir(parents=True, exist_ok=True)
    atomic_write_text(live / f"{table}.csv", text)
    return table_states(ws, name)[table]


def reset_table(ws: Workspace, name: str, table: str) -> None:
    read(ws, name)
    path = tables_folder(ws, name) / f"{table}.csv"
    if table not in table_states(ws, name) or not path.is_file():
        raise ScenarioError(404, "not_found", f"{table} is not replaced in {name}")
    path.unlink()


def table_csv(ws: Workspace, name: str, table: str) -> str:
    import importlib.resources

    if table not in table_states(ws, name):
        raise ScenarioError(404, "not_found", f"no replaceable parameter table named {table}")
    path = tables_folder(ws, name) / f"{table}.csv"
    if path.is_file():
        return path.read_text(encoding="utf-8")
    return importlib.resources.files("planwise_core.assumptions").joinpath("defaults", f"{table}.csv").read_text(
        encoding="utf-8")


def batch_file(ws: Workspace, names: list[str] | None = None) -> str:
    """The scenarios as a ``planwise batch`` file, run from the workspace folder."""
    entries = []
    for scenario in listing(ws):
        if names and scenario["name"] not in names:
            continue
        entry = {"name": scenario["name"], "description": scenario.get("description") or "",
                 "overrides": scenario.get("overrides") or {}}
        entry.update({k: scenario[k] for k in ("seeds", "plugin") if scenario.get(k) is not None})
        if any(t["source"] == "replaced" for t in scenario["tables"].values()):
            entry["assumptions"] = f"scenarios/{scenario['name']}/{TABLES_FOLDER}"
        entries.append(entry)
    data = {"scenarios": entries}
    if (ws.root / BASE_CONFIG).is_file():
        data = {"base_config": BASE_CONFIG, **data}
    return ("# planwise batch scenarios.yaml --output batches/cli  (run from the workspace folder)\n"
            + yaml.safe_dump(data, sort_keys=False))
