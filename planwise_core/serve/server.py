"""Running the app on uvicorn: loopback by default, the real port printed, no access log (it would print
query strings, hence tokens), and a stop that interrupts running simulations so they can be resumed."""

from __future__ import annotations

import json
import logging
import os
import socket

import uvicorn

from planwise_core.fileio import atomic_write_text
from planwise_core.serve import registry
from planwise_core.serve.settings import TOKEN_ENV, Settings

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Server(uvicorn.Server):
    """uvicorn, with the sockets reported once bound (``--port 0``), and a stop that first ends the open event
    streams (an open stream would otherwise hold the stop for the whole graceful-shutdown delay)."""

    def __init__(self, config, on_bound, on_exit):
        super().__init__(config)
        self.on_bound, self.on_exit = on_bound, on_exit

    def handle_exit(self, sig, frame):
        self.on_exit()
        super().handle_exit(sig, frame)

    async def startup(self, sockets=None):
        await super().startup(sockets)
        if self.started and self.servers:
            self.on_bound(self.servers[0].sockets[0].getsockname()[1])


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; 8401 busy -> 8402..8410; OSError when none is free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    candidates = [port] if port != 8401 else list(range(8401, 8411))
    last = None
    for candidate in candidates:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    raise last


def serve(settings: Settings, announce) -> None:
    from planwise_core.serve.app import create_app

    logging.getLogger("uvicorn.access").disabled = True
    gate = create_app(settings)
    sock = bind(settings.host, settings.port)
    settings.port = sock.getsockname()[1]
    config = uvicorn.Config(gate, http="h11", ws="none", access_log=False, proxy_headers=False,
                            server_header=False, timeout_graceful_shutdown=5, lifespan="on", log_level="warning")

    def on_bound(port: int) -> None:
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        url = f"http://{host}:{port}"
        record = {"pid": os.getpid(), "host": settings.host, "port": port, "url": url}
        path = settings.workspace / ".serve" / "server.json"
        atomic_write_text(path, json.dumps(record))
        os.chmod(path, 0o600)
        registry.record(settings.workspace, url, bool(os.environ.get(TOKEN_ENV)))
        announce(gate.app, url)

    try:
        Server(config, on_bound, lambda: gate.app.state.scheduler.stopping.set()).run(sockets=[sock])
    finally:
        registry.remove()
        (settings.workspace / ".serve" / "server.json").unlink(missing_ok=True)
