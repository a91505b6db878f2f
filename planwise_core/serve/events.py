"""Job events: one JSON line per event in ``events.jsonl``; an event's id is its line number, so a client that
reconnects with ``Last-Event-ID`` misses nothing, even across a server restart (docs/serve.md)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from pathlib import Path

STREAM_SECONDS = 25.0  # every stream ends: an endless one keeps the server from stopping
POLL_SECONDS = 0.2
TERMINAL_EVENT = "finished"


def now() -> str:
    return dt.datetime.now().isoformat(timespec="milliseconds")


def append_event(path: Path, kind: str, **data) -> None:
    event = {"t": now(), "type": kind, **data}
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(event, default=str) + "\n")


def read_events(path: Path, after: int = 0) -> list[tuple[int, dict]]:
    """Events with id > ``after``; a half-written last line is left for the next read."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    lines = text.split("\n")
    complete = lines[:-1]  # the text after the last newline is not a whole line yet
    events = []
    for number, line in enumerate(complete, start=1):
        if number > after and line.strip():
            try:
                events.append((number, json.loads(line)))
            except ValueError:
                continue
    return events


def last_event_id(request_header: str | None, after: int | None) -> int:
    for value in (request_header, after):
        try:
            if value is not None and int(value) >= 0:
                return int(value)
        except (TypeError, ValueError):
            continue
    return 0


def sse_frame(number: int, event: dict) -> str:
    return f"id: {number}\nevent: {event['type']}\ndata: {json.dumps(event, default=str)}\n\n"


async def stream(path: Path, after: int, stopping: asyncio.Event, is_disconnected, seconds: float = STREAM_SECONDS):
    """The SSE body: replay from ``after``, then follow the file; ends after ``seconds``, after the terminal
    event, when the client leaves, or at once when the server stops."""
    yield "retry: 1000\n\n"
    deadline = time.monotonic() + seconds
    while not stopping.is_set() and time.monotonic() < deadline:
        for number, event in read_events(path, after):
            after = number
            yield sse_frame(number, event)
            if event.get("type") == TERMINAL_EVENT:
                return
        if await is_disconnected():
            return
        try:
            await asyncio.wait_for(stopping.wait(), POLL_SECONDS)
        except asyncio.TimeoutError:
            pass
    yield ": stream ends; reconnect with Last-Event-ID\n\n"
