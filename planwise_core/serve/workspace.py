"""The workspace folder: its layout, canonical ids and the only way to turn an id into a path (docs/serve.md)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
from pathlib import Path

from planwise_core.errors import PlanwiseError
from planwise_core.fileio import atomic_write_text

MARKER = "planwise-workspace.json"
KINDS = {"run": "runs", "cen": "censuses", "bat": "batches", "exp": "exports", "fit": "fits"}
ID_PATTERN = re.compile(r"(run|cen|bat|exp|fit)_\d{8}_\d{6}_[0-9a-f]{6}")
SCENARIO_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
FOLDERS = ("scenarios", "censuses", "runs", "batches", "fits", ".serve", ".serve/tmp")


class WorkspaceError(PlanwiseError):
    """The folder cannot be used as a workspace."""


class BadId(ValueError):
    """A request named a malformed id (400, before any path is built)."""


def new_id(kind: str) -> str:
    stamp = dt.datetime.now().strftime("%Y%m%d_%H%M%S")
    return f"{kind}_{stamp}_{secrets.token_hex(3)}"


def check_id(kind: str, value: str) -> str:
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value) or not value.startswith(kind + "_"):
        raise BadId(f"malformed {KINDS.get(kind, kind)[:-1]} id")
    return value


def check_scenario(name: str) -> str:
    if not isinstance(name, str) or not SCENARIO_PATTERN.fullmatch(name):
        raise BadId("malformed scenario name (letters, digits, '_', '.', '-'; at most 64)")
    return name


class Workspace:
    """One workspace folder. Paths are built only from checked ids and fixed names, never from request text."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    @classmethod
    def open(cls, path: str | Path) -> "Workspace":
        root = Path(path)
        if root.exists() and not root.is_dir():
            raise WorkspaceError(f"{path} is a file, not a workspace folder.")
        if root.is_dir() and any(root.iterdir()) and not (root / MARKER).is_file():
            raise WorkspaceError(f"{path} is a non-empty folder that is not a PlanWise workspace (no {MARKER}): "
                                 "name a new or empty folder.")
        root.mkdir(parents=True, exist_ok=True)
        ws = cls(root)
        if not (ws.root / MARKER).is_file():
            from importlib.metadata import version

            atomic_write_text(ws.root / MARKER, json.dumps({
                "format": 1, "created_at": dt.datetime.now().isoformat(timespec="seconds"),
                "planwise_version": version("planwise")}, indent=2))
        for folder in FOLDERS:
            (ws.root / folder).mkdir(exist_ok=True)
        return ws

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def serve_dir(self) -> Path:
        return self.root / ".serve"

    def folder(self, kind: str, ident: str) -> Path:
        """``<root>/<kind folder>/<id>`` for a canonical id; BadId otherwise; no symlink on the way."""
        check_id(kind, ident)
        return self._inside(self.root / KINDS[kind] / ident)

    def scenario_folder(self, name: str) -> Path:
        return self._inside(self.root / "scenarios" / check_scenario(name))

    def _inside(self, path: Path) -> Path:
        current = self.root
        for part in path.relative_to(self.root).parts:
            current = current / part
            if current.is_symlink():
                raise FileNotFoundError(part)  # a symlink is never followed: it is as if nothing were there
        if not path.resolve().is_relative_to(self.root):
            raise FileNotFoundError(path.name)
        return path

    def relative(self, path: str | Path) -> str:
        path = Path(path)
        absolute = path if path.is_absolute() else self.root / path
        try:
            return absolute.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return path.name

    def scrub(self, text: str) -> str:
        """Text with the workspace's absolute prefix replaced by '.' (no absolute path leaves the server)."""
        return text.replace(str(self.root), ".") if isinstance(text, str) else text

    def disk_usage(self) -> dict:
        total = 0
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                try:
                    total += os.lstat(os.path.join(dirpath, name)).st_size
                except OSError:
                    pass
        stat = os.statvfs(self.root)
        return {"bytes_on_disk": total, "free_bytes": stat.f_bavail * stat.f_frsize}


def scrub_value(ws: Workspace, value):
    """``value`` (JSON-like) with every string scrubbed."""
    if isinstance(value, str):
        return ws.scrub(value)
    if isinstance(value, dict):
        return {k: scrub_value(ws, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_value(ws, v) for v in value]
    return value


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(payload, indent=2, default=str))
