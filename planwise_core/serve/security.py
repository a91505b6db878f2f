"""The HTTP gate, as pure ASGI middleware so it covers every route, static files and 404s alike:
Host allowlist, cross-site refusal, token / cookie / bearer authentication, CSRF, security headers and an
access log that never holds a query string (docs/serve.md, "Security model")."""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import time
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs, urlencode

from planwise_core.serve.settings import Settings

access_log = logging.getLogger("planwise.serve.access")

PUBLIC = ("/api/v1/health", "/login")
PUBLIC_PREFIXES = ("/static/",)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
FORM_LIMIT = 1024 * 1024
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin"),
           (b"cross-origin-opener-policy", b"same-origin"), (b"cross-origin-resource-policy", b"same-origin")]


def cookie_name(port: int) -> str:
    return f"planwise_{port}"  # cookies ignore ports: the name carries it


def same_token(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode())


def session_cookie(settings: Settings, port: int) -> str:
    ident = secrets.token_hex(16)
    return f"{cookie_name(port)}={ident}.{settings.sign('cookie:' + ident)}; HttpOnly; SameSite=Lax; Path=/"


class Gate:
    def __init__(self, app, settings: Settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), [0]
        state = scope.setdefault("state", {})
        state["request_id"] = secrets.token_hex(3)
        path = scope["path"]

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"content-security-policy"
                           or path.endswith("report.html")]
                if not any(h[0].lower() == b"content-security-policy" for h in headers):
                    headers += HEADERS[:1]
                framed = path.endswith("/report.html")  # the run page shows the report in a sandboxed frame
                headers += [(k, b"SAMEORIGIN" if framed and k == b"x-frame-options" else v) for k, v in HEADERS[1:]]
                headers.append((b"x-request-id", state["request_id"].encode()))
                if not path.startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self._gate(scope, receive, send_with_headers)
        finally:
            access_log.info("%s %s %s %.0fms", scope["method"], path, status[0],
                            1000 * (time.perf_counter() - started))

    async def _gate(self, scope, receive, send):
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host")
        if not host:
            return await _reply(scope, send, 400, "bad_request", "the request has no Host header")
        port = (scope.get("server") or (None, self.settings.port))[1]
        if host not in self.settings.hosts(port):
            return await _reply(scope, send, 421, "host_not_allowed", "this Host is not served here")
        origin = headers.get("origin")
        if origin == "null" and headers.get("sec-fetch-site") == "same-origin":
            origin = f"http://{host}"  # the browser says so itself; pages cannot forge Sec-Fetch-* headers
        if headers.get("sec-fetch-site") in ("cross-site", "same-site") or (origin and origin != f"http://{host}"):
            return await _reply(scope, send, 403, "cross_origin", "requests from other sites are refused")
        path, method = scope["path"], scope["method"]
        if path in PUBLIC or path.startswith(PUBLIC_PREFIXES):
            return await self.app(scope, receive, send)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if "token" in query and method == "GET":
            return await self._exchange(scope, send, query, port)
        auth, ident = self._authenticate(headers, port)
        state = scope["state"]
        state["auth"] = auth
        if auth is None:
            if path.startswith("/api/") or method not in SAFE_METHODS:
                return await _reply(scope, send, 401, "unauthorized",
                                    "sign in: open the URL printed by `planwise serve`, or send "
                                    "'Authorization: Bearer <token>'")
            return await _redirect(send, "/login?" + urlencode({"next": path}))
        if auth == "cookie":
            state["csrf"] = self.settings.sign("csrf:" + ident)
        if self.settings.read_only and method not in SAFE_METHODS and path != "/logout":
            return await _reply(scope, send, 403, "read_only", "this server was started with --read-only")
        if auth == "cookie" and method not in SAFE_METHODS:
            if origin != f"http://{host}":
                return await _reply(scope, send, 403, "csrf", "the request's Origin is not this server")
            return await self._csrf(scope, receive, send, headers)
        return await self.app(scope, receive, send)

    def _authenticate(self, headers: dict, port: int) -> tuple[str | None, str]:
        bearer = headers.get("authorization", "")
        if bearer.lower().startswith("bearer "):
            return ("bearer", "") if same_token(bearer[7:].strip(), self.settings.token) else (None, "")
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except CookieError:  # a malformed Cookie header authenticates nobody
            return None, ""
        morsel = cookie.get(cookie_name(port))
        if morsel is None:
            return None, ""
        ident, _, signature = morsel.value.partition(".")
        if ident and same_token(signature, self.settings.sign("cookie:" + ident)):
            return "cookie", ident
        return None, ""

    async def _exchange(self, scope, send, query: dict, port: int):
        """``/?token=...``: a cookie in exchange, then the same path without the token (out of the history)."""
        if not same_token(query["token"][0], self.settings.token):
            return await _reply(scope, send, 401, "unauthorized", "wrong token")
        rest = {k: v for k, v in query.items() if k != "token"}
        location = scope["path"] + ("?" + urlencode(rest, doseq=True) if rest else "")
        return await _redirect(send, location, session_cookie(self.settings, port))

    async def _csrf(self, scope, receive, send, headers: dict):
        expected = scope["state"]["csrf"]
        given = headers.get("x-csrf-token")
        if given is not None:
            if same_token(given, expected):
                return await self.app(scope, receive, send)
            return await _reply(scope, send, 403, "csrf", "missing or wrong CSRF token")
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "multipart/form-data":
            scope["state"]["csrf_pending"] = expected  # the streamed upload checks it before writing a byte
            return await self.app(scope, receive, send)
        if kind != "application/x-www-form-urlencoded":
            return await _reply(scope, send, 403, "csrf", "missing CSRF token")
        body = await _read_body(receive, FORM_LIMIT)
        if body is None:
            return await _reply(scope, send, 413, "too_large", "form over 1 MB")
        field = parse_qs(body.decode("latin-1")).get("csrf_token", [""])[0]
        if not same_token(field, expected):
            return await _reply(scope, send, 403, "csrf", "missing or wrong CSRF token")
        return await self.app(scope, _replay(body), send)


async def _read_body(receive, limit: int) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes):
    sent = [False]

    async def receive():
        if not sent[0]:
            sent[0] = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}
    return receive


async def _reply(scope, send, status: int, code: str, message: str):
    payload = {"error": {"status": status, "code": code, "message": message,
                         "request_id": scope["state"].get("request_id")}}
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _redirect(send, location: str, cookie: str | None = None):
    headers = [(b"location", location.encode()), (b"content-length", b"0")]
    if cookie:
        headers.append((b"set-cookie", cookie.encode()))
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
