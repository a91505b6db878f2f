"""The dbt project on disk, and its parse: shared by every process that runs the same project files."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import tempfile
import time
from pathlib import Path

import attrs

from planwise_core.engine.cache_auth import read_authenticated, write_authenticated
from planwise_core.errors import SimulationError

PROJECT_SUFFIXES = (".sql", ".yml", ".yaml", ".csv")
DBT_PROJECT_DIR = Path(os.environ.get("PLANWISE_DBT_DIR", Path(__file__).resolve().parent.parent / "dbt_project"))


@attrs.define
class DbtProject:
    """Where dbt reads the project and writes its target/log folders for one database."""

    database: Path
    threads: int = 1
    project_dir: Path = DBT_PROJECT_DIR

    @property
    def work_dir(self) -> Path:
        # One folder per database, so concurrent runs never share dbt's target or logs.
        return self.database.parent / f".{self.database.stem}.dbt"

    def common_args(self) -> list[str]:
        return ["--project-dir", str(self.project_dir), "--profiles-dir", str(self.project_dir),
                "--target-path", str(self.work_dir / "target"), "--log-path", str(self.work_dir / "logs")]

    def env(self) -> dict[str, str]:
        return {"PLANWISE_DATABASE": str(self.database), "PLANWISE_THREADS": str(self.threads),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


# Parsed manifests of this process, by project fingerprint and database catalog name. Every var is read in
# model bodies, which dbt renders when it runs a node, so a manifest serves any --vars: the year within a
# run, and another run's configuration in a process that runs many (a batch worker).
_MANIFESTS: dict[tuple, object] = {}
_PARSE_CLOCK: dict[tuple, float] = {}  # seconds this process spent parsing, per manifest key


def parse_cache_dir() -> Path:
    """Where parses leave dbt's partial_parse.msgpack for the next process (PLANWISE_CACHE_DIR overrides)."""
    if os.environ.get("PLANWISE_CACHE_DIR"):
        return Path(os.environ["PLANWISE_CACHE_DIR"]) / "dbt-parse"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "planwise" / "dbt-parse"


def project_fingerprint(project_dir: Path) -> str:
    """Identifies one dbt project: its folder, every file's content, and the planwise and dbt versions.

    dbt's saved parse records absolute paths (a seed's file, a model's path), so a parse may only be reused
    by the very same project folder with the very same files, read by the same code.
    """
    from importlib import metadata

    digest = hashlib.sha256(str(project_dir.resolve()).encode())
    for name in ("planwise", "dbt-core", "dbt-duckdb"):
        try:
            digest.update(f"|{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"|{name}=?".encode())
    # Hidden files are not the project's: dbt writes its anonymous user id (.user.yml) into the profiles folder
    # (this one) the first time it runs without the host's environment, which must not void every cache.
    for path in sorted(p for p in project_dir.rglob("*") if p.is_file() and p.suffix in PROJECT_SUFFIXES
                       and not p.name.startswith(".")
                       and not {"target", "logs"} & set(p.relative_to(project_dir).parts)):
        digest.update(f"|{path.relative_to(project_dir)}|".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:20]


def _parse(project: DbtProject, fingerprint: str):
    """Parse the project for a database named like ``project.database``, reusing an earlier process's parse.

    dbt accepts a saved partial parse only when the command-line vars and the profile's connection values
    match. So the parse always sees the same vars (none: every var is rendered at run time) and a
    stand-in database path with the real file's name (the catalog every node records); the real path only
    matters when a command runs. The saved parse lives under the project's fingerprint, so another checkout
    or another version never reads it. A process works in its own target folder, seeded from the cache and
    published back with an atomic rename, so concurrent processes never read a half-written file; a saved
    parse that dbt cannot use is simply parsed again and replaced.
    """
    from dbt.cli.main import dbtRunner

    cache = parse_cache_dir() / fingerprint / project.database.stem
    try:
        cache.mkdir(parents=True, exist_ok=True)
        scratch, shared = cache, cache / PARTIAL_PARSE
    except OSError:  # no writable cache: parse in the run's own folder, as with an empty cache
        project.work_dir.mkdir(parents=True, exist_ok=True)
        scratch, shared = project.work_dir, None
    if shared is not None and (manifest := _load_pickled(cache / MANIFEST_PICKLE)) is not None:
        return manifest
    with tempfile.TemporaryDirectory(prefix="parse-", dir=scratch) as work:
        target = Path(work) / "target"
        target.mkdir()
        if shared is not None and (saved_parse := read_authenticated(shared)) is not None:
            (target / "partial_parse.msgpack").write_bytes(saved_parse)
        env = dict(project.env(), PLANWISE_DATABASE=str(cache / project.database.name))
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            result = dbtRunner().invoke(["parse", "--project-dir", str(project.project_dir), "--profiles-dir",
                                         str(project.project_dir), "--target-path", str(target), "--log-path",
                                         str(project.work_dir / "logs"), "--log-level", "none", "--no-write-json"])
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        if not result.success:
            raise SimulationError(f"dbt could not parse the project in {project.project_dir}: {result.exception}")
        fresh = target / "partial_parse.msgpack"
        if shared is not None and fresh.exists():
            write_authenticated(shared, fresh.read_bytes(), Path(work))
        if shared is not None:
            _save_pickled(result.result, cache / MANIFEST_PICKLE, Path(work))
    return result.result


# The parsed manifest itself, beside dbt's partial parse: loading it takes about 0.1 s where even a partial
# parse starts dbt's CLI and re-validates the saved parse (3-4 s on the project machine). It lives under the
# project's fingerprint (files, planwise, dbt and dbt-duckdb versions) like the partial parse. Both files are
# signed with the user's cache key (engine/cache_auth.py): a pickle is unpickled, and a partial parse used,
# only once its signature shows this user's PlanWise wrote it; anything else is warned about and parsed again.
MANIFEST_PICKLE = "manifest.pickle.signed"
PARTIAL_PARSE = "partial_parse.msgpack.signed"


def _load_pickled(path: Path):
    from dbt.contracts.graph.manifest import Manifest

    payload = read_authenticated(path)
    if payload is None:
        return None
    try:
        return Manifest(**pickle.loads(payload))
    except Exception:  # noqa: BLE001 - our own file from another dbt build: parse again
        return None


def _manifest_fields(manifest) -> dict:
    """The manifest's data fields by name, without its lazily built lookups. Manifest's own __reduce_ex__
    passes its fields by position and leaves `fixtures` out, so once the lookups are built they land in the
    wrong fields of the copy (dbt-core 1.11); rebuilding it by keyword avoids that."""
    return {f.name: getattr(manifest, f.name) for f in dataclasses.fields(manifest)
            if f.init and not f.name.startswith("_")}


def _save_pickled(manifest, path: Path, work: Path) -> None:
    try:
        payload = pickle.dumps(_manifest_fields(manifest), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - the cache is an optimisation: a run never fails for it
        return
    write_authenticated(path, payload, work)


def parsed_manifest(project: DbtProject):
    """The parsed manifest for ``project``, parsed once per process and database file name.

    DuckDB names a file's catalog after its stem, and the manifest records it in every node.
    """
    fingerprint = project_fingerprint(project.project_dir)
    key = (fingerprint, project.database.stem)
    if key not in _MANIFESTS:
        started = time.perf_counter()
        _MANIFESTS[key] = _parse(project, fingerprint)
        _PARSE_CLOCK[key] = _PARSE_CLOCK.get(key, 0.0) + time.perf_counter() - started
    return _MANIFESTS[key]


def parse_clock(fingerprint: str, project: DbtProject) -> float:
    """Seconds this process has spent parsing ``project`` of ``fingerprint`` (project_fingerprint; saved parse
    read or full parse): an engine reads it before and after a run for its one-time cost."""
    return _PARSE_CLOCK.get((fingerprint, project.database.stem), 0.0)
