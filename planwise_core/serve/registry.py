"""The running servers of this user: each records itself in ``<cache>/serve/<pid>.json`` (0600) once it listens
and removes the record when it stops; ``planwise serve list`` reads them, skipping (and removing) the records of
servers that are gone. A record holds no token: the list reads it from the workspace's ``.serve/token``."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import psutil

from planwise_core.fileio import atomic_write_text


def folder() -> Path:
    """``$PLANWISE_CACHE_DIR/serve``, else ``$XDG_CACHE_HOME/planwise/serve`` (``~/.cache/planwise/serve``)."""
    if os.environ.get("PLANWISE_CACHE_DIR"):
        return Path(os.environ["PLANWISE_CACHE_DIR"]) / "serve"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "planwise" / "serve"


def record(workspace: Path, url: str, token_from_env: bool) -> Path:
    path = folder() / f"{os.getpid()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({
        "pid": os.getpid(), "create_time": psutil.Process().create_time(), "workspace": str(workspace), "url": url,
        "token_from_env": token_from_env, "started_at": dt.datetime.now().isoformat(timespec="seconds")}))
    os.chmod(path, 0o600)
    return path


def remove() -> None:
    (folder() / f"{os.getpid()}.json").unlink(missing_ok=True)


def _alive(entry: dict) -> bool:
    try:
        return psutil.Process(entry["pid"]).create_time() == entry["create_time"]
    except (psutil.Error, KeyError, TypeError):
        return False


def running() -> list[dict]:
    """The servers still running, oldest first; a record of a server that is gone is removed."""
    found = []
    for path in sorted(folder().glob("*.json")) if folder().is_dir() else []:
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if _alive(entry):
            found.append(entry)
        else:
            path.unlink(missing_ok=True)
    return sorted(found, key=lambda e: e.get("started_at", ""))


def sign_in_url(entry: dict) -> str:
    """The server's sign-in URL with the workspace's token, or a note where the token is."""
    if entry.get("token_from_env"):
        return f"{entry['url']}/  (token: the PLANWISE_SERVE_TOKEN it was started with)"
    try:
        token = (Path(entry["workspace"]) / ".serve" / "token").read_text(encoding="utf-8").strip()
    except OSError:
        return f"{entry['url']}/  (token: unreadable)"
    return f"{entry['url']}/?token={token}"
