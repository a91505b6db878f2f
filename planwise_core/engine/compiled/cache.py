"""The compiled-SQL cache: one signed file per (project fingerprint, catalog, phase, compile vars) (docs/compiled_engine.md).

A phase is what one engine step runs: the foundation, or a year's start population (``year_start``) or its yearly
models (``yearly``). Its entry holds dbt's compiled statements in DAG order with their materializations, and the
project facts the engine answers without dbt (year tables, own relations, transition checks). Entries live beside
the parsed manifest, under the project's fingerprint (engine/project.py), so another checkout, project version or
dbt version never reads them; they are signed with the user's cache key (engine/cache_auth.py) and carry their own
key, so a damaged, forged or misplaced entry is refused (warned) and the phase is compiled again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from pathlib import Path

import attrs

from planwise_core.engine.cache_auth import read_authenticated, write_authenticated
from planwise_core.engine.project import DbtProject, parse_cache_dir, project_fingerprint

FORMAT = 5  # 2: year-agnostic entries (engine/compiled/agnostic.py); 3: each node lists the models it reads;
# 4: a model that has no rows in this configuration says so (``empty``); 5: keyed by the vars the compile read
FOUNDATION_PHASE = "foundation"
_MAX_READS = 16  # sets of vars kept per phase in its reads index (each a branch of the project's Jinja)
_log = logging.getLogger("planwise.cache")


@attrs.frozen
class Node:
    """One compiled node: a model (``materialized``: table, scratch_table or year_partition) or a data test."""

    name: str
    kind: str  # "model" or "test"
    sql: str
    materialized: str | None = None
    relation: str | None = None  # the model's quoted relation, "catalog"."schema"."name"
    schema: str | None = None
    year_column: str | None = None
    severity: str | None = None  # tests: dbt's severity, warn_if, error_if and fail_calc
    warn_if: str | None = None
    error_if: str | None = None
    fail_calc: str | None = None
    # the models the node reads by ref (an ephemeral model's own reads in its place), for the year's split into a
    # head and a tail (engine/compiled/split.py)
    depends_on: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    # the model declares (dbt ``meta.empty_unless``) a var that is false in this configuration: it has no rows, so
    # after its query ran once in a run, a year only clears its rows (engine/compiled/executor.py)
    empty: bool = False


@attrs.frozen
class ProjectFacts:
    """What the host asks an engine about the project (engines.Engine), read from the manifest at compile time."""

    models: tuple[str, ...] = attrs.field(converter=tuple)
    year_tables: tuple[str, ...] = attrs.field(converter=tuple)
    checks: tuple[str, ...] = attrs.field(converter=tuple)


@attrs.frozen
class Entry:
    """One phase's compiled statements, in DAG order, and the project facts."""

    key: dict
    nodes: tuple[Node, ...] = attrs.field(converter=tuple)
    facts: ProjectFacts


def fingerprint(project: DbtProject) -> str:
    return project_fingerprint(project.project_dir)


def entry_key(project: DbtProject, fingerprint: str, phase: str, dbt_vars: dict, years: str) -> dict:
    """What a phase's compiled SQL depends on: the project (``fingerprint``: files, versions, folder), the catalog,
    the phase, which years it serves (``years``: first, later or run) and every var it is compiled with (the
    representative simulation year and the year's resolved rates included: engine/compiled/agnostic.py)."""
    return {"format": FORMAT, "fingerprint": fingerprint, "catalog": project.database.stem, "phase": phase,
            "years": years, "vars": json.loads(_canonical(dbt_vars))}


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def cache_dir(project: DbtProject, fingerprint: str) -> Path:
    return parse_cache_dir() / fingerprint / project.database.stem / "compiled"


def entry_path(project: DbtProject, key: dict) -> Path:
    digest = hashlib.sha256(_canonical(key).encode()).hexdigest()[:32]
    return cache_dir(project, key["fingerprint"]) / f"{key['phase']}-{key['years']}-{digest}.json.signed"


def narrowed(key: dict, reads) -> dict:
    """``key`` with only the vars the phase's compile looked up (``reads``), and which of them were unset: the compiled
    SQL depends on nothing else of the configuration, so every configuration that agrees on them shares the entry
    (docs/compiled_engine.md, "The cache")."""
    names = sorted(set(reads))
    return {**key, "vars": {name: key["vars"][name] for name in names if name in key["vars"]},
            "unset": [name for name in names if name not in key["vars"]], "reads": names}


def find_entry(project: DbtProject, key: dict) -> Entry | None:
    """The entry for the full ``key``: saved under it, or under it narrowed to one of the sets of vars that
    compiles of this phase have read (the phase's reads index); None when none matches."""
    for candidate in _candidates(project, key):
        entry = load_entry(project, candidate)
        if entry is not None:
            return entry
    return None


def entry_file(project: DbtProject, key: dict) -> Path:
    """The file find_entry reads for the full ``key`` (the first candidate that exists), else the full key's."""
    paths = [entry_path(project, candidate) for candidate in _candidates(project, key)]
    return next((path for path in paths if path.exists()), paths[0])


def _candidates(project: DbtProject, key: dict) -> list[dict]:
    return [key] + [narrowed(key, reads) for reads in known_reads(project, key)]


def _reads_path(project: DbtProject, key: dict) -> Path:
    return cache_dir(project, key["fingerprint"]) / f"{key['phase']}-{key['years']}.reads.json.signed"


def known_reads(project: DbtProject, key: dict) -> list[list[str]]:
    """The sets of vars compiles of ``key``'s phase read (most recent first); [] when none is recorded or the index
    is refused (warned) or of another format."""
    return _read_signed(_reads_path(project, key), "reads", [], "reads index", "a list of var names",
                        lambda reads: all(isinstance(names, list) and all(isinstance(n, str) for n in names)
                                          for names in reads))


def _read_signed(path: Path, field: str, empty, what: str, shape: str, valid):
    """``field`` of the signed index ``path`` of this cache format; ``empty`` when the file is missing or of another
    format, or refused (unsigned, altered: warned) or not ``valid`` (warned as not ``shape``)."""
    payload = read_authenticated(path)
    try:
        data = json.loads(payload) if payload is not None else {}
        value = data.get(field, empty) if data.get("format") == FORMAT else empty
        if not valid(value):
            raise ValueError(f"not {shape}")
        return value
    except (ValueError, AttributeError, TypeError) as exc:
        _log.warning("Compiled-SQL %s %s ignored (%s).", what, path, exc)
        return empty


def _write_signed(path: Path, field: str, value) -> bool:
    return _write(path, _canonical({"format": FORMAT, field: value}).encode())


def remember_reads(project: DbtProject, key: dict) -> None:
    """Add the vars of ``key`` (a narrowed key) to its phase's reads index, written signed and atomically."""
    known = known_reads(project, key)
    if key.get("reads") is None or key["reads"] in known:
        return
    _write_signed(_reads_path(project, key), "reads", [key["reads"], *known][:_MAX_READS])


def cost_name(node: Node) -> str:
    """What a node's recorded cost is filed under: its kind and name, and whether it had rows (a model without rows
    costs a delete a year, not its query)."""
    return f"{node.kind}:{node.name}" + (":empty" if node.empty else "")


def _costs_path(project: DbtProject, fingerprint: str) -> Path:
    return cache_dir(project, fingerprint) / "node-costs.json.signed"


def load_costs(project: DbtProject, fingerprint: str, rows: int) -> dict[str, float]:
    """Each node's seconds per census row as the last runs of this project measured them, for a census of ``rows``
    (engine/compiled/split.py balances the lanes with them): only costs recorded on a census of half to twice as many
    rows (a small census's costs are mostly planning, which does not grow with the rows); {} when none is recorded
    or the file is refused (warned) or malformed."""
    recorded = _recorded_costs(project, fingerprint)
    return {name: per_row for name, (per_row, at) in recorded.items() if at / 2 <= rows <= 2 * at}


def _recorded_costs(project: DbtProject, fingerprint: str) -> dict[str, list]:
    return _read_signed(_costs_path(project, fingerprint), "costs", {}, "node costs",
                        "a table of seconds per row and rows by node",
                        lambda costs: all(isinstance(name, str) and isinstance(cost, list) and len(cost) == 2
                                          and isinstance(cost[0], float) and cost[0] >= 0 and isinstance(cost[1], int)
                                          and cost[1] > 0 for name, cost in costs.items()))


def save_costs(project: DbtProject, fingerprint: str, node_seconds: dict[str, list[float]], rows: int) -> None:
    """Record this run's mean seconds per census row of each node it ran, with the census's rows, over what earlier
    runs recorded, signed and atomically; nothing when it ran none or had no census rows."""
    if not node_seconds or rows <= 0:
        return
    costs = _recorded_costs(project, fingerprint)
    costs.update({name: [sum(seconds) / len(seconds) / rows, rows] for name, seconds in node_seconds.items() if seconds})
    _write_signed(_costs_path(project, fingerprint), "costs", costs)


def load_entry(project: DbtProject, key: dict) -> Entry | None:
    """The cached entry for ``key``, or None (missing, or refused with a warning: unsigned, altered, foreign)."""
    path = entry_path(project, key)
    payload = read_authenticated(path)
    if payload is None:
        return None
    try:
        data = json.loads(payload)
        if _canonical(data["key"]) != _canonical(key):
            raise ValueError("it was compiled for another project, phase or configuration")
        nodes = tuple(Node(**node) for node in data["nodes"])
        return Entry(data["key"], nodes, ProjectFacts(**data["facts"]))
    except (ValueError, KeyError, TypeError) as exc:
        _log.warning("Compiled-SQL cache file %s ignored (%s); compiling again.", path, exc)
        return None


def save_entry(project: DbtProject, entry: Entry) -> bool:
    """Write ``entry`` signed and atomically; False when the cache cannot be written (the run goes on)."""
    payload = _canonical({"key": entry.key, "nodes": [attrs.asdict(n) for n in entry.nodes],
                          "facts": attrs.asdict(entry.facts)}).encode()
    return _write(entry_path(project, entry.key), payload)


def _write(path: Path, payload: bytes) -> bool:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="compiled-", dir=path.parent) as work:
            return write_authenticated(path, payload, Path(work))
    except OSError as exc:
        _log.warning("Compiled-SQL cache %s not written (%s).", path.parent, exc.strerror or exc)
        return False
