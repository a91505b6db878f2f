"""What one server was started with, and its secrets (the token and the key cookies are signed with)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import attrs

from planwise_core.fileio import atomic_write_text

TOKEN_ENV = "PLANWISE_SERVE_TOKEN"
MIN_TOKEN = 32


@attrs.define
class Settings:
    workspace: Path
    token: str
    host: str = "127.0.0.1"
    port: int = 8401
    allowed_hosts: tuple[str, ...] = ()
    max_concurrent: int = 1
    max_queued: int = 100
    max_upload_bytes: int = 512 * 1024 * 1024
    cancel_grace: float = 30.0
    read_only: bool = False
    worker: str | None = None  # a script run instead of the real worker (tests: a quick fake one)
    stream_seconds: float = 25.0  # every SSE stream ends after this; the browser reconnects with Last-Event-ID

    @property
    def secret(self) -> bytes:
        return hashlib.sha256(b"planwise-serve:" + self.token.encode()).digest()

    def sign(self, text: str) -> str:
        return hmac.new(self.secret, text.encode(), hashlib.sha256).hexdigest()

    def hosts(self, port: int) -> set[str]:
        names = {"127.0.0.1", "localhost", "[::1]", *self.allowed_hosts}
        return {f"{name}:{port}" for name in names} | set(self.allowed_hosts)


def load_token(serve_dir: Path, new: bool = False) -> str:
    """The workspace's token: from the environment, else ``.serve/token`` (0600), created when missing."""
    from_env = os.environ.get(TOKEN_ENV)
    if from_env:
        if len(from_env) < MIN_TOKEN:
            raise ValueError(f"{TOKEN_ENV} must hold at least {MIN_TOKEN} characters")
        return from_env
    path = serve_dir / "token"
    if path.is_file() and not new:
        return path.read_text(encoding="utf-8").strip()
    token = secrets.token_urlsafe(32)
    atomic_write_text(path, token)
    os.chmod(path, 0o600)
    return token
