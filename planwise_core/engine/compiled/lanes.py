"""The second lane: a year's tail run on its own DuckDB connection, in a thread (docs/compiled_engine.md, two lanes).

The tail's connection belongs to the DuckDB instance the engine's Keeper holds, sets the DuckDB variables of its
year, and runs the whole tail in ONE transaction whose snapshot is taken before the other lane writes anything of
the next year: every table the tail reads (a scratch table the next year replaces, a year table that gains the next
year's rows) reads as it was at the end of the year's head, exactly as when the tail ran right after the head. The
tail writes only its own models' tables, which no statement of the next year's head writes or reads, so the two
lanes never write the same table. DuckDB's Python client releases the GIL while a statement runs: with one DuckDB
thread, each lane's statements run on its own thread, so two lanes use two cores.

A failure rolls the tail's transaction back and is raised by ``finish``; ``stop`` interrupts the running statement
and waits for the thread. The connection is closed by the thread before ``finish`` or ``stop`` returns.
"""

from __future__ import annotations

import threading
import time

import duckdb

from planwise_core.engine.compiled.agnostic import set_variables
from planwise_core.engine.compiled.cache import Node
from planwise_core.engine.compiled.executor import Tally, run_nodes


class TailLane:
    """One year's tail, running in a thread on a connection of its own (``start``), joined by ``finish``/``stop``."""

    def __init__(self, database, nodes: tuple[Node, ...], year: int, variables: dict[str, str], pin: str,
                 ran_once: set | None = None):
        # ran_once: the run's own (executor.Tally), so a model without rows runs its query once in the run, whichever
        # lane runs it first
        self.nodes, self.year, self.tally = nodes, year, Tally(ran_once=set() if ran_once is None else ran_once)
        self.error: BaseException | None = None
        self.started = self.ended = 0.0
        self._con = duckdb.connect(str(database))
        try:
            set_variables(self._con, variables)
            self._con.execute("begin transaction")
            # the snapshot is taken when the transaction first reads the database: before the other lane writes
            self._con.execute(f"select 1 from {pin} limit 0").fetchall()
        except BaseException:
            self._con.close()
            raise
        # Set by the thread once its connection is closed. Waited on instead of Thread.join: a join interrupted by
        # Ctrl-C can mark a running thread as stopped (CPython's bpo-45274 handling), an Event cannot.
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._work, name=f"planwise-tail-{year}", daemon=True)

    def start(self) -> TailLane:
        self.started = time.perf_counter()
        self._thread.start()
        return self

    def _work(self) -> None:
        con = self._con
        try:
            run_nodes(con, self.nodes, self.year, self.tally, transaction=False)
            con.execute("commit")
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread by finish()
            self.error = exc
            try:
                con.execute("rollback")
            except duckdb.Error:
                pass  # an interrupted or failed transaction may already be gone: nothing of it is committed
        finally:
            self.ended = time.perf_counter()
            con.close()
            self.done.set()

    def finish(self) -> None:
        """Wait for the tail; raise its error. Interrupted meanwhile (Ctrl-C), stop it first, then propagate."""
        try:
            self.done.wait()
        except BaseException:
            self.stop()
            raise
        self._thread.join()
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        """Interrupt the tail's running statement and wait until its thread is gone (its work rolled back); a
        second Ctrl-C meanwhile is raised once the thread is gone."""
        pending = None
        while not self.done.is_set():
            try:
                self._con.interrupt()
                self.done.wait(0.05)
            except duckdb.Error:
                pass  # closed meanwhile: the thread is ending
            except BaseException as exc:  # noqa: BLE001 - raised below, once no thread writes any more
                pending = exc
        self._thread.join()
        if pending is not None:
            raise pending
