"""Authenticated cache files: nothing another user wrote is ever loaded (docs/configuration.md, "The parse cache").

A cache file is ``MAGIC + HMAC-SHA256(key, payload) + payload``, keyed by a per-user secret kept outside the cache
(``$XDG_CONFIG_HOME/planwise/cache.key``, else ``~/.config/planwise/cache.key``, mode 0600; or the file named by
``PLANWISE_CACHE_KEY``). A file is read only when it is a regular file (not a link) owned by this user, writable by
nobody else, and its MAC verifies; anything else is ignored with a warning, and the caller rebuilds what it held.
Every saved cache (the parsed manifest, dbt's partial parse, any later compiled-SQL cache) goes through here.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path

MAGIC = b"PLANWISE-CACHE-1\n"
_MAC_SIZE = hashlib.sha256().digest_size
_log = logging.getLogger("planwise.cache")


def key_path() -> Path:
    if os.environ.get("PLANWISE_CACHE_KEY"):
        return Path(os.environ["PLANWISE_CACHE_KEY"])
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "planwise" / "cache.key"


def _owned_private(info: os.stat_result) -> str | None:
    """Why a file may not be trusted, or None."""
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file"
    if info.st_uid != os.geteuid():
        return f"is owned by another user (uid {info.st_uid})"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "is writable by other users"
    return None


def user_key() -> bytes | None:
    """This user's cache key, created on first use; None (with a warning) when it is not private."""
    path = key_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            problem = _owned_private(info) or ("is readable by other users" if info.st_mode & 0o044 else None)
            key = fh.read(64)
    except OSError as exc:
        _log.warning("Cache key %s cannot be used (%s): caches are not read or written.", path, exc.strerror)
        return None
    if problem or len(key) < 32:
        _log.warning("Cache key %s %s: caches are not read or written; remove it to get a new one.", path,
                     problem or "is too short")
        return None
    return key


def read_authenticated(path: Path) -> bytes | None:
    """The payload of a cache file this user wrote, or None (missing, foreign, unsafe or altered: warned)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        _log.warning("Cache file %s ignored (%s); rebuilding it.", path, exc.strerror or exc)
        return None
    with os.fdopen(fd, "rb") as fh:
        problem = _owned_private(os.fstat(fh.fileno()))
        data = b"" if problem else fh.read()
    if problem:
        _log.warning("Cache file %s ignored: it %s; rebuilding it.", path, problem)
        return None
    key = user_key()
    if key is None:
        return None
    head, mac, payload = data[:len(MAGIC)], data[len(MAGIC):len(MAGIC) + _MAC_SIZE], data[len(MAGIC) + _MAC_SIZE:]
    if head != MAGIC or not hmac.compare_digest(mac, hmac.new(key, payload, hashlib.sha256).digest()):
        _log.warning("Cache file %s ignored: it was not written by this user's PlanWise (no valid signature); "
                     "rebuilding it.", path)
        return None
    return payload


def write_authenticated(path: Path, payload: bytes, scratch: Path) -> bool:
    """Write ``payload`` signed, atomically (through ``scratch``, a private folder on the same file system)."""
    key = user_key()
    if key is None:
        return False
    partial = scratch / (path.name + ".partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(MAGIC + hmac.new(key, payload, hashlib.sha256).digest() + payload)
        os.replace(partial, path)
        return True
    except OSError:
        partial.unlink(missing_ok=True)
        return False
