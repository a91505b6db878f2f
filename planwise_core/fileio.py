"""Files that PlanWise writes: whole or not at all, never through a symlink planted in their place.

Every output and every file a later run reads goes through :func:`atomic_write_bytes`: the bytes go to a
fresh temporary file in the same folder (``mkstemp``: created exclusively, never following a symlink),
are flushed to disk, and the file is renamed over its final name. A reader sees the old file or the new
one, never half of one; a failure (full disk, Ctrl-C) leaves the old file and no temporary file behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import tempfile
from pathlib import Path

from planwise_core.errors import PlanwiseError

_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_bytes(path: Path | str, data: bytes) -> Path:
    """Replace ``path`` with ``data`` atomically; creates its folder. Returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with reserved_temp(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    return path


def atomic_write_text(path: Path | str, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def reserved_temp(path: Path, suffix: str = ".tmp"):
    """A new, empty temporary file beside ``path`` (for writers that take a file name); removed unless renamed."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.fchmod(fd, 0o666 & ~_UMASK)  # the mode a plain open() would give, not mkstemp's 0600
    os.close(fd)
    try:
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def open_no_follow(path: Path, flags: int = os.O_RDWR | os.O_CREAT, mode: int = 0o644) -> int:
    """``os.open`` that refuses a symlink (or anything but a regular file) at ``path``."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    except OSError as exc:
        if os.path.islink(path):
            raise PlanwiseError(f"{path} is a symbolic link: PlanWise does not write through links. "
                                "Remove it and run again.") from None
        raise PlanwiseError(f"Cannot open {path}: {exc.strerror}.") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise PlanwiseError(f"{path} is not a regular file: remove it and run again.")
    return fd


@contextlib.contextmanager
def exclusive_lock(path: Path, busy):
    """Hold an exclusive ``flock`` on ``path`` (created, never through a symlink) for the block; yields its fd.

    When another process holds it, or removed the file while we waited for it (the lock then guards nothing),
    raises ``busy(fd)``: the caller's one message, which may read what the holder wrote into the file.
    """
    fd = open_no_follow(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if not _same_file(fd, path):
                raise BlockingIOError
        except BlockingIOError:
            raise busy(fd) from None
        yield fd
    finally:
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def file_sha256(path: Path | str) -> str:
    """The sha256 of a file's bytes (identifies a census whatever its name)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
