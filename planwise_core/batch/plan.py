"""Batch plans: scenario files and ensembles validated in full before anything runs."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any

import attrs

from planwise_core.census.generate import BUILTIN_CENSUS
from planwise_core.config import PlanwiseConfig, unknown_key_message
from planwise_core.config.checks import short_repr
from planwise_core.config.yaml_io import load_yaml_file
from planwise_core.errors import ConfigError, PlanwiseError, option
from planwise_core.manager import engine_choice

log = logging.getLogger("planwise.batch")

RUN_DATABASE = "simulation.duckdb"
# fullmatch, never match + "$": "$" also matches before a trailing newline, and a name becomes a folder.
SCENARIO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
FILE_KEYS = ("base_config", "census", "plugin", "seeds", "scenarios")
SCENARIO_KEYS = ("name", "description", "config", "overrides", "assumptions", "seeds", "census", "plugin")
MAX_SEEDS = 10_000

BUILTIN_EMPLOYEES = BUILTIN_CENSUS[0]


class BatchError(PlanwiseError):
    """The batch file or arguments are refused as a whole; nothing ran."""


@attrs.frozen(kw_only=True)
class RunSpec:
    """One run of a batch: everything a worker needs, as plain picklable values."""

    run_id: str
    scenario: str
    seed: int
    config: dict = attrs.field(repr=False)
    census: str | None
    plugin: str | None
    folder: str
    fingerprint: str
    overrides: dict = attrs.field(factory=dict, repr=False)

    @property
    def database(self) -> Path:
        return Path(self.folder) / RUN_DATABASE

    @property
    def years(self) -> tuple[int, int]:
        sim = self.config["simulation"]
        return int(sim["start_year"]), int(sim["end_year"])


@attrs.frozen(kw_only=True)
class InvalidScenario:
    scenario: str
    problems: tuple[str, ...]
    seeds: tuple[int, ...] = ()


@attrs.frozen(kw_only=True)
class ScenarioInfo:
    """What the scenario file says about a scenario, for the batch report: its place in the file (1 = first),
    its description and its overrides as written (valid or not)."""

    scenario: str
    position: int
    description: str = ""
    overrides: dict = attrs.field(factory=dict)
    replaced_tables: tuple[str, ...] = ()  # parameter tables the scenario's runs replace (not built-in)


@attrs.frozen(kw_only=True)
class BatchPlan:
    kind: str  # "batch" or "ensemble"
    source: str
    output: Path
    runs: tuple[RunSpec, ...]
    invalid: tuple[InvalidScenario, ...] = ()
    scenarios: tuple[ScenarioInfo, ...] = ()  # every scenario of the file, in file order


def _fingerprint(config: PlanwiseConfig, census: Path | None, plugin: str | None, tables: dict | None = None) -> str:
    """What decides a run's tables: the behavioural config, the parameter tables' hashes, the census file (path,
    size, mtime), the engine."""
    behaviour = {k: v for k, v in config.to_dict().items() if k != "orchestration"}
    behaviour["assumption_tables"] = tables or {}
    if census is None:
        census_id = f"builtin:{BUILTIN_EMPLOYEES}"
    else:
        stat = census.stat()
        census_id = f"{census}:{stat.st_size}:{stat.st_mtime_ns}"
    payload = json.dumps({"config": behaviour, "census": census_id, "plugin": plugin}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _flatten(overrides: dict, cls: type = PlanwiseConfig, prefix: str = "") -> dict[str, Any]:
    """Nested or dotted override keys -> dotted paths; a mapping under a section key recurses, any other
    mapping (e.g. a deferral rate distribution) is a value and replaces the base value whole."""
    flat: dict[str, Any] = {}
    sections = {f.name: f for f in attrs.fields(cls)}
    for key, value in overrides.items():
        key = str(key)
        head, _, rest = key.partition(".")
        field = sections.get(head)
        section_cls = _section_class(field) if field is not None else None
        if rest and section_cls is not None:
            flat.update(_flatten({rest: value}, section_cls, f"{prefix}{head}."))
        elif not rest and section_cls is not None and isinstance(value, dict):
            flat.update(_flatten(value, section_cls, f"{prefix}{head}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _section_class(field: attrs.Attribute) -> type | None:
    default = field.default
    if isinstance(default, attrs.Factory) and attrs.has(default.factory):
        return default.factory
    if attrs.has(type(default)):
        return type(default)
    return None


def _scenario_assumptions(entry: dict, config: PlanwiseConfig | None, where: str, relative_to: Path,
                          problems: list[str]):
    """The scenario's config with its ``assumptions:`` (a folder relative to the batch file, or tables inline),
    and the tables in force, validated in full now; (config, None) after a problem (added to ``problems``)."""
    from planwise_core.assumptions import AssumptionsError, resolve_assumptions
    from planwise_core.config.load import anchor_assumptions

    if config is None:
        return None, None
    if "assumptions" in entry:
        try:
            spec = anchor_assumptions({"assumptions": entry["assumptions"]}, relative_to)["assumptions"]
            config = config.with_overrides(f"{where}.assumptions", assumptions=spec)
        except ConfigError as exc:
            problems += [f"{where}.{p}" for p in exc.problems]
            return config, None
    try:
        return config, resolve_assumptions(config, where=f"{where}.assumptions")
    except AssumptionsError as exc:
        problems += [f"{where}: {p}" for p in exc.problems]
        return config, None


def _seeds(value: Any, where: str, default_seed: int) -> tuple[list[int], list[str]]:
    """``seeds: N`` (N seeds from the scenario's random_seed on) or ``seeds: [s1, s2, ...]``."""
    if value is None:
        return [default_seed], []
    if isinstance(value, bool):
        return [], [f"{where}.seeds: expected a count or a list of integers, got {short_repr(value)}"]
    if isinstance(value, int):
        if not 1 <= value <= MAX_SEEDS:
            return [], [f"{where}.seeds: a count must be between 1 and {MAX_SEEDS}, got {value}"]
        return [default_seed + i for i in range(value)], []
    if isinstance(value, list) and value and all(isinstance(s, int) and not isinstance(s, bool) for s in value):
        dupes = sorted({s for s in value if value.count(s) > 1})
        if dupes:
            return [], [f"{where}.seeds: listed more than once: {dupes}"]
        return list(value), []
    return [], [f"{where}.seeds: expected a count or a non-empty list of integers, got {short_repr(value)}"]


def _load_base(value: Any, where: str, relative_to: Path,
               recorded: bool = False) -> tuple[PlanwiseConfig | None, list[str]]:
    """A run configuration file named in the scenario file (relative to it).

    ``recorded``: the problems are kept in batch.json and the report, so they name the file and the key
    paths only, never a value: the file may be anything (only a parsed, valid configuration is recorded).
    """
    from planwise_core.config import load_config

    path = Path(str(value)).expanduser()
    path = path if path.is_absolute() else relative_to / path
    try:
        return load_config(path), []
    except ConfigError as exc:
        if not recorded:
            return None, [f"{where}: {p} ({exc.source})" for p in exc.problems]
        keys = [p.split(": ", 1)[0] for p in exc.problems]
        return None, [f"{where}: {path} is not a valid configuration (problems at: {', '.join(keys)}; "
                      f"`planwise validate-config {path}` lists them)"]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _census_path(value: Any, where: str, relative_to: Path) -> tuple[Path | None, list[str]]:
    if value is None:
        return None, []
    if not isinstance(value, str) or not value:
        return None, [f"{where}.census: expected a file path, got {short_repr(value)}"]
    path = Path(value).expanduser()
    path = (relative_to / path if not path.is_absolute() else path).resolve()
    if not path.is_file():
        return None, [f"{where}.census: file not found: {path}"]
    return path, []


def _engines() -> list[str]:
    from planwise_core.manager import engine_names, get_plugin_manager

    return engine_names(get_plugin_manager())


def plan_batch(scenario_file: str | Path, output: str | Path, base_config: PlanwiseConfig | None = None,
               census: str | Path | None = None, plugin: str | None = None) -> BatchPlan:
    """Read and validate a scenario file (docs/batch.md); raises BatchError if the file is unusable."""
    path = Path(scenario_file)
    try:
        data = load_yaml_file(path, "scenario file")
    except ConfigError as exc:
        raise BatchError(f"Invalid scenario file {path}: {'; '.join(exc.problems)}") from None
    return plan_scenarios(data, output, source=str(path), relative_to=path.resolve().parent,
                          base_config=base_config, census=census, plugin=plugin)


@attrs.frozen
class _FileDefaults:
    """What a scenario file gives every scenario that does not say otherwise."""

    base: PlanwiseConfig
    census: Path | None
    plugin: str | None
    engines: list
    seeds: Any
    output: Path
    relative_to: Path


def plan_scenarios(data: Any, output: str | Path, *, source: str = "<scenarios>", relative_to: Path | None = None,
                   base_config: PlanwiseConfig | None = None, census: str | Path | None = None,
                   plugin: str | None = None, kind: str = "batch") -> BatchPlan:
    """Validate scenario definitions (the parsed YAML: a list of scenarios or a mapping with ``scenarios``)."""
    if isinstance(data, list):
        data = {"scenarios": data}
    if not isinstance(data, dict) or "scenarios" not in data:
        raise BatchError(f"Invalid scenario file {source}: expected a list of scenarios, or a mapping with a "
                         f"'scenarios' list (see docs/batch.md).")
    defaults, file_problems = _file_defaults(data, base_config, census, plugin, relative_to or Path.cwd(),
                                             Path(output).resolve())
    scenarios = data["scenarios"]
    file_problems += _name_problems(scenarios)
    if file_problems:
        lines = "\n".join(f"  - {p}" for p in file_problems)
        raise BatchError(f"Invalid scenario file {source} (nothing was run):\n{lines}")
    runs, invalid, infos = [], [], []
    for i, entry in enumerate(scenarios, start=1):
        info, scenario_runs, problem = _scenario_runs(i, entry, defaults)
        infos.append(info)
        runs += scenario_runs
        invalid += [problem] if problem else []
    return BatchPlan(kind=kind, source=source, output=defaults.output, runs=tuple(runs), invalid=tuple(invalid),
                     scenarios=tuple(infos))


def _file_defaults(data: dict, base_config, census, plugin, relative_to: Path,
                   output: Path) -> tuple[_FileDefaults, list[str]]:
    """The file's own keys, checked: its base configuration, census and engine (the caller's replace them)."""
    problems = [f"{key}: {unknown_key_message(key, list(FILE_KEYS))}" for key in data if key not in FILE_KEYS]
    base = base_config or PlanwiseConfig()
    if data.get("base_config") is not None:
        base, base_problems = _load_base(data["base_config"], "base_config", relative_to)
        problems += base_problems
    # ``census`` (the caller's census, --census) replaces the file's default census, not a scenario's own.
    if census is not None:
        default_census, census_problems = _census_path(str(census), option("census"), Path.cwd())
    else:
        default_census, census_problems = _census_path(data.get("census"), "census", relative_to)
    problems += census_problems
    engines = _engines() if plugin or data.get("plugin") or any(
        isinstance(e, dict) and e.get("plugin") for e in data.get("scenarios") or []) else []
    default_plugin = data.get("plugin", plugin)
    if default_plugin is not None and default_plugin not in engines:
        problems.append(f"plugin: unknown engine plugin {short_repr(default_plugin)}; "
                        f"{_lower_first(engine_choice(engines))}")
    return _FileDefaults(base, default_census, default_plugin, engines, data.get("seeds"), output,
                         relative_to), problems


def _name_problems(scenarios: Any) -> list[str]:
    """Every scenario has a name fit for a folder, and no two share one."""
    if not isinstance(scenarios, list) or not scenarios:
        return ["scenarios: expected a non-empty list of scenarios"]
    problems, names = [], []
    for i, entry in enumerate(scenarios, start=1):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not SCENARIO_NAME.fullmatch(name):
            problems.append(f"scenarios[{i}].name: every scenario needs a name of letters, digits, '_', '.' or "
                            f"'-' (at most 64, used as a folder name), got {short_repr(name)}")
        names.append(name)
    dupes = sorted({n for n in names if isinstance(n, str) and names.count(n) > 1})
    if dupes:
        problems.append(f"scenarios: names must be unique, repeated: {', '.join(dupes)}")
    return problems


def _scenario_runs(i: int, entry: dict, defaults: _FileDefaults
                   ) -> tuple[ScenarioInfo, list[RunSpec], InvalidScenario | None]:
    """One scenario: its description, and its runs (one per seed) or why it cannot run."""
    name = entry["name"]
    where = f"scenarios[{i}] ({name})"
    described = entry.get("description")
    info = ScenarioInfo(scenario=name, position=i, description="" if described is None else str(described),
                        overrides=entry["overrides"] if isinstance(entry.get("overrides"), dict) else {})
    problems = [f"{where}.{k}: {unknown_key_message(k, list(SCENARIO_KEYS))}" for k in entry if k not in SCENARIO_KEYS]
    config, scenario_base = _scenario_config(entry, where, defaults, problems)
    config, tables = _scenario_assumptions(entry, config, where, defaults.relative_to, problems)
    scenario_census, census_problems = _census_path(entry.get("census"), where, defaults.relative_to)
    problems += census_problems
    scenario_census = scenario_census or defaults.census
    scenario_plugin = entry.get("plugin", defaults.plugin)
    if scenario_plugin is not None and scenario_plugin not in defaults.engines:
        problems.append(f"{where}.plugin: unknown engine plugin {short_repr(scenario_plugin)}; "
                        f"{_lower_first(engine_choice(defaults.engines))}")
    seeds, seed_problems = _seeds(entry.get("seeds", defaults.seeds), where,
                                  (config or scenario_base or defaults.base).random_seed)
    problems += seed_problems
    info = attrs.evolve(info, replaced_tables=tuple(tables.replaced()) if tables else ())
    if problems:
        return info, [], InvalidScenario(scenario=name, problems=tuple(problems), seeds=tuple(seeds))
    hashes = {n: t.sha256 for n, t in tables.tables.items()}
    overrides = entry.get("overrides") or {}
    runs = []
    for seed in seeds:
        run_config = config if seed == config.random_seed else config.with_overrides(random_seed=seed)
        runs.append(RunSpec(
            run_id=f"{name}/seed-{seed}", scenario=name, seed=seed, config=run_config.to_dict(),
            census=str(scenario_census) if scenario_census else None, plugin=scenario_plugin,
            folder=str(defaults.output / "runs" / name / f"seed-{seed}"),
            fingerprint=_fingerprint(run_config, scenario_census, scenario_plugin, hashes), overrides=overrides))
    return info, runs, None


def _scenario_config(entry: dict, where: str, defaults: _FileDefaults, problems: list[str]):
    """(the scenario's configuration or None when invalid, the configuration its overrides apply to)."""
    overrides = entry.get("overrides") or {}
    config, scenario_base = None, defaults.base
    if entry.get("config") is not None:
        scenario_base, config_problems = _load_base(entry["config"], f"{where}.config", defaults.relative_to,
                                                    recorded=True)
        problems += config_problems
    if not isinstance(overrides, dict):
        problems.append(f"{where}.overrides: expected a mapping of configuration keys, got {short_repr(overrides)}")
    elif scenario_base is not None:
        try:
            config = scenario_base.with_overrides(**_flatten(overrides))
        except ConfigError as exc:
            problems += [f"{where}.overrides: {p}" for p in exc.problems]
    return config, scenario_base


def plan_ensemble(seeds: int, output: str | Path, base_config: PlanwiseConfig | None = None,
                  census: str | Path | None = None, plugin: str | None = None, first_seed: int | None = None,
                  name: str = "ensemble") -> BatchPlan:
    """One configuration over ``seeds`` consecutive seeds from ``first_seed`` (default: the config's seed)."""
    base = base_config or PlanwiseConfig()
    first = base.random_seed if first_seed is None else first_seed
    scenario = {"name": name, "seeds": [first + i for i in range(seeds)]}
    if not 1 <= seeds <= MAX_SEEDS:
        raise BatchError(f"{option('seeds')} must be between 1 and {MAX_SEEDS}, got {seeds}.")
    if not SCENARIO_NAME.fullmatch(name):
        raise BatchError(f"{option('name')} must be letters, digits, '_', '.' or '-' (at most 64; it names the run folders), "
                         f"got {short_repr(name)}.")
    plan = plan_scenarios([scenario], output, source=f"ensemble of {seeds} seeds", base_config=base,
                          census=census, plugin=plugin, kind="ensemble")
    if plan.invalid:
        raise BatchError("Invalid ensemble:\n" + "\n".join(f"  - {p}" for p in plan.invalid[0].problems))
    return plan
