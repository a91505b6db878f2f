"""error_context: failures of an operation classified, with troubleshooting guidance."""

from __future__ import annotations

import contextlib
import functools
import re
import sys
from typing import Iterator

from planwise_core.errors import DatabaseBusyError, PlanwiseError



class OperationError(PlanwiseError):
    """An operation inside error_context failed. ``__cause__`` is the original exception.

    ``operation``: the operation's name; ``kinds``: the detected error kinds ("database", "memory",
    "dependency"); ``guidance``: the automatic troubleshooting lines for those kinds. The error raised is
    also an instance of the original exception's type whenever Python allows it, so ``except MemoryError``
    around an error_context still catches a MemoryError.
    """

    def __init__(self, message: str, operation: str, kinds: tuple[str, ...], guidance: tuple[str, ...]):
        Exception.__init__(self, message)
        self.message = message
        self.operation = operation
        self.kinds = kinds
        self.guidance = guidance

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        # The combined class is made at run time: it pickles as "the same combination with the same original".
        return _make, (getattr(type(self), "original", Exception), self.message, self.operation, self.kinds,
                       self.guidance)


@functools.lru_cache(maxsize=None)
def _combined(original: type[BaseException]) -> type[OperationError]:
    """``OperationError`` that is also an ``original`` (MemoryError, duckdb.IOException, ...)."""
    if issubclass(original, OperationError) or not issubclass(original, Exception):
        return OperationError
    try:
        return type(f"OperationError[{original.__name__}]", (OperationError, original),
                    {"__module__": __name__, "__qualname__": f"OperationError[{original.__qualname__}]",
                     "original": original})
    except TypeError:  # a built-in with an incompatible layout, or a final class
        return OperationError


def _make(original: type[BaseException], *args) -> OperationError:
    try:
        return _combined(original)(*args)
    except Exception:  # noqa: BLE001 - the original type's __new__ refuses these arguments
        return OperationError(*args)


GUIDANCE: dict[str, tuple[str, ...]] = {
    "database": (
        "Check that the database path is reachable and its folder exists (connectivity).",
        "Check read/write permissions on the database file and its folder.",
        "Check the free disk space where the database lives.",
        "Another planwise run may hold the database (its <database>.lock file): wait for it to finish, "
        "or use another database path.",
    ),
    "memory": (
        "Reduce batch_size (rows per record batch when writing year checkpoints).",
        "Enable state compression (enable_state_compression=True, --enable-compression).",
        "Use fewer workers (max_workers) or a lower optimization level.",
    ),
    "dependency": (
        "Run the years sequentially with a conservative level: OptimizationLevel.LOW (one dbt invocation "
        "per model) or OptimizationLevel.FALLBACK (the legacy engine).",
        "Reinstall the dependencies: `make test` builds .venv with `pip install -e .[test]` "
        "(remove .venv first for a clean install).",
        "Validate the inputs: validate_configuration() / `planwise validate-config FILE`, and the census file.",
    ),
}


# Whole words only: "block" is not a lock, "dbtx" is not dbt.
_DATABASE_WORDS = re.compile(r"\b(lock|locked|locking|locks|database|databases)\b")
_MEMORY_WORDS = re.compile(r"\bout of memory\b")
_DEPENDENCY_WORDS = re.compile(r"\b(dbt|depends|dependency|dependencies)\b")


def _error_kinds(exc: BaseException) -> tuple[str, ...]:
    """The error kinds of ``exc``, in the order database, memory, dependency."""
    message = str(exc).lower()
    duckdb = sys.modules.get("duckdb")  # a duckdb error can only exist once duckdb is imported
    duckdb_memory = duckdb is not None and isinstance(exc, duckdb.OutOfMemoryException)
    duckdb_error = duckdb is not None and isinstance(exc, duckdb.Error) and not duckdb_memory
    kinds = []
    if isinstance(exc, DatabaseBusyError) or duckdb_error or _DATABASE_WORDS.search(message):
        kinds.append("database")
    if isinstance(exc, MemoryError) or duckdb_memory or _MEMORY_WORDS.search(message):
        kinds.append("memory")
    if isinstance(exc, ImportError) or _DEPENDENCY_WORDS.search(message):
        kinds.append("dependency")
    return tuple(kinds)


@contextlib.contextmanager
def error_context(operation: str, troubleshooting_guide: str = "") -> Iterator[None]:
    """Re-raise any exception of the block as an OperationError (a PlanwiseError) chained from it,
    which is also an instance of the original type (``except MemoryError`` still catches it).

    The message is "<operation> failed: <original>", then ``troubleshooting_guide``, then automatic
    guidance for each detected kind: database errors (duckdb errors, a held run lock, "lock"/"database"
    in the message), memory errors (MemoryError, "out of memory") and dependency errors (ImportError,
    "dbt"/"depends" in the message). An OperationError from a nested error_context passes unchanged;
    KeyboardInterrupt, SystemExit and cancellation are never wrapped.
    """
    try:
        yield
    except OperationError:
        raise
    except Exception as exc:
        kinds = _error_kinds(exc)
        guidance = tuple(line for kind in kinds for line in GUIDANCE[kind])
        parts = [f"{operation} failed: {exc}"]
        if troubleshooting_guide.strip():
            parts.append(troubleshooting_guide.strip())
        for kind in kinds:
            parts.append(f"{kind.capitalize()} error guidance:\n" + "\n".join(f"  - {g}" for g in GUIDANCE[kind]))
        raise _make(type(exc), "\n\n".join(parts), operation, kinds, guidance) from exc
