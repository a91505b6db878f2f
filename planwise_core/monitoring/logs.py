"""Logging set-up for the CLI: plain or JSON lines, to stderr and optionally a file."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from pathlib import Path

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_BASE_KEYS = ("ts", "level", "logger", "message")


class JsonFormatter(logging.Formatter):
    """One JSON object per line; ``extra`` fields (event, year, ...) become keys."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
                   "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        for key, value in vars(record).items():
            if key not in _STANDARD:
                # An event field never replaces a base key: `level` is always the logging level.
                payload[f"field_{key}" if key in _BASE_KEYS else key] = value
        payload.setdefault("event", "log")
        return json.dumps(payload, default=str)


def setup_logging(verbose: bool = False, structured: bool = False, log_file: str | None = None) -> None:
    logger = logging.getLogger("planwise")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    formatter = JsonFormatter() if structured else logging.Formatter("%(levelname)s %(name)s: %(message)s")
    console = logging.StreamHandler()
    console.setLevel(logging.DEBUG if verbose else logging.INFO if structured else logging.WARNING)
    console.setFormatter(formatter)
    logger.addHandler(console)
    if log_file:
        file_handler = logging.FileHandler(log_file)
        file_handler.setLevel(logging.DEBUG)
        file_handler.setFormatter(JsonFormatter() if structured else
                                  logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(file_handler)


@contextlib.contextmanager
def log_to(path: Path, level: int = logging.INFO):
    """Send the ``planwise`` logger to ``path`` only for the block (not to the process's stderr), then restore it."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("planwise")
    saved = root.level, root.propagate
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        root.propagate = saved[1]
        handler.close()
