"""Year checkpoints: the year-end snapshot (workforce and plan state) as an Arrow stream, optionally LZ4-framed."""

from __future__ import annotations

import hashlib
import io
import json
from collections import OrderedDict
from pathlib import Path

import lz4.frame
import pyarrow as pa
import pyarrow.ipc

from planwise_core.errors import PlanwiseError
from planwise_core.fileio import atomic_write_bytes, atomic_write_text

class CheckpointError(PlanwiseError):
    """A year checkpoint (or the checkpoint manifest) is missing, unreadable or does not match its hash."""


SNAPSHOT_SQL = "select * from fct_workforce_snapshot where simulation_year = {year:d} order by employee_id"


class StateManager:
    """Writes one checkpoint per completed year and serves them back through an LRU cache."""

    def __init__(self, directory: Path, enable_compression: bool = False, batch_size: int = 10_000,
                 cache_size: int = 3):
        self.directory = Path(directory)
        self.enable_compression = enable_compression
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._cache: OrderedDict[int, pa.Table] = OrderedDict()
        self._stats = {"raw_bytes": 0, "stored_bytes": 0, "hits": 0, "misses": 0, "checkpoints": 0}

    @classmethod
    def for_database(cls, database: Path, **kwargs) -> StateManager:
        """The checkpoints of the newest build for ``database`` (they live in its build folder)."""
        from planwise_core.database.workspace import Workspace

        return cls(Workspace(database).state_dir, **kwargs)

    def _path(self, year: int) -> Path:
        return self.directory / f"year_{year}.arrow"

    def checkpoint(self, con, year: int) -> Path:
        """Store the year-end snapshot of ``year``; the manifest entry is written last, so it marks completion."""
        self.directory.mkdir(parents=True, exist_ok=True)
        reader = con.execute(SNAPSHOT_SQL.format(year=year)).fetch_record_batch(self.batch_size)
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
        raw = sink.getvalue()
        stored = lz4.frame.compress(raw) if self.enable_compression else raw
        path = atomic_write_bytes(self._path(year), stored)
        self._stats.update(raw_bytes=self._stats["raw_bytes"] + len(raw),
                           stored_bytes=self._stats["stored_bytes"] + len(stored),
                           checkpoints=self._stats["checkpoints"] + 1)
        manifest = self.manifest()
        manifest[str(year)] = {"sha256": hashlib.sha256(raw).hexdigest(), "compressed": self.enable_compression,
                               "raw_bytes": len(raw), "stored_bytes": len(stored)}
        self._write_manifest(manifest)
        return path

    def _write_manifest(self, manifest: dict) -> None:
        atomic_write_text(self.directory / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True))

    def manifest(self) -> dict:
        """Year -> checkpoint entry; a damaged manifest counts as none (those years are simulated again)."""
        path = self.directory / "manifest.json"
        try:
            manifest = json.loads(path.read_text()) if path.exists() else {}
            return {str(int(y)): dict(e) for y, e in manifest.items()}
        except (OSError, ValueError, TypeError, AttributeError):
            return {}

    def completed_years(self) -> list[int]:
        return sorted(int(y) for y in self.manifest())

    def load(self, year: int) -> pa.Table:
        """The checkpointed snapshot of ``year`` (verified against its sha256)."""
        if year in self._cache:
            self._stats["hits"] += 1
            self._cache.move_to_end(year)
            return self._cache[year]
        self._stats["misses"] += 1
        try:
            entry = self.manifest()[str(year)]
            stored = self._path(year).read_bytes()
            raw = lz4.frame.decompress(stored) if entry["compressed"] else stored
            if hashlib.sha256(raw).hexdigest() != entry["sha256"]:
                raise ValueError("its content does not match its sha256")
            table = pa.ipc.open_stream(raw).read_all()
        except (OSError, KeyError, ValueError, RuntimeError, pa.ArrowException) as exc:
            raise CheckpointError(f"the checkpoint of {year} in {self.directory} is damaged ({exc})") from None
        self._cache[year] = table
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return table

    def matches_database(self, con, year: int) -> bool:
        """True when the database still holds exactly the checkpointed snapshot of ``year``."""
        current = con.execute(SNAPSHOT_SQL.format(year=year)).fetch_arrow_table()
        return current.equals(self.load(year))

    def discard_from(self, year: int) -> None:
        manifest = {y: e for y, e in self.manifest().items() if int(y) < year}
        for stale in self.completed_years():
            if stale >= year:
                self._path(stale).unlink(missing_ok=True)
                self._cache.pop(stale, None)
        if self.directory.exists():
            self._write_manifest(manifest)

    def get_performance_metrics(self) -> dict:
        raw, stored = self._stats["raw_bytes"], self._stats["stored_bytes"]
        lookups = self._stats["hits"] + self._stats["misses"]
        return {"checkpoints": self._stats["checkpoints"], "compression_enabled": self.enable_compression,
                "raw_bytes": raw, "stored_bytes": stored,
                "compression_ratio": round(raw / stored, 3) if stored else 1.0,
                "compression_savings_bytes": raw - stored, "cache_hits": self._stats["hits"],
                "cache_misses": self._stats["misses"],
                "hit_rate": round(self._stats["hits"] / lookups, 4) if lookups else 0.0,
                "memory_efficiency": round(stored / raw, 4) if raw else 1.0}
