"""One pure-ASGI middleware: request IDs, client IP, body cap, security headers, logs, metrics."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence

import orjson
import structlog
from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from elysium.kit.client_ip import resolve_client_ip, trusted_peer
from elysium.kit.context import client_ip_var, request_id_var
from elysium.kit.metrics import LATENCY, REQUESTS

log = structlog.get_logger("elysium.access")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(self)"),
]
# Only over HTTPS (directly, or as a trusted proxy says): browsers ignore it on plain HTTP.
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


class BodyTooLarge(HTTPException):
    """Raised while reading a body past the configured cap (rendered as a 413 problem)."""

    def __init__(self) -> None:
        super().__init__(413, "The request body is too large.")


class RequestContextMiddleware:
    """Wraps every HTTP request; cheap enough for the hot path."""

    def __init__(
        self, app: ASGIApp, *, max_body: int, trusted_proxies: Sequence[str], access_log: bool
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.trusted = list(trusted_proxies)
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = _request_id(headers.get(b"x-request-id"))
        peer = scope["client"][0] if scope.get("client") else None
        forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1") or None
        ip = resolve_client_ip(peer, forwarded, self.trusted)
        rid_token, ip_token = request_id_var.set(request_id), client_ip_var.set(ip)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        declared = headers.get(b"content-length")
        if declared is not None and _too_large(declared, self.max_body):
            await _send_too_large(send, request_id, self.max_body)
            return
        status_holder = [500]
        started = time.perf_counter()
        https = scope.get("scheme") == "https" or (
            headers.get(b"x-forwarded-proto") == b"https" and trusted_peer(peer, self.trusted)
        )
        try:
            await self.app(
                scope,
                self._capped(receive),
                self._decorated(send, request_id, status_holder, https),
            )
        except BodyTooLarge:
            await _send_too_large(send, request_id, self.max_body)
            status_holder[0] = 413
        finally:
            self._observe(scope, status_holder[0], time.perf_counter() - started, ip)
            structlog.contextvars.unbind_contextvars("request_id")
            request_id_var.reset(rid_token)
            client_ip_var.reset(ip_token)

    def _capped(self, receive: Receive) -> Receive:
        seen = 0

        async def capped_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge
            return message

        return capped_receive

    def _decorated(
        self, send: Send, request_id: str, status_holder: list[int], https: bool
    ) -> Send:
        async def decorated_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                own = list(message.get("headers", []))
                present = {name.lower() for name, _ in own}
                extra = [(b"x-request-id", request_id.encode())]
                extra += [h for h in SECURITY_HEADERS if h[0] not in present]
                if https:
                    extra.append(HSTS)
                message["headers"] = [*own, *extra]
            await send(message)

        return decorated_send

    def _observe(self, scope: Scope, status: int, seconds: float, ip: str) -> None:
        route = scope.get("route")
        template = getattr(route, "path", "unmatched")
        method = scope["method"]
        REQUESTS.labels(method, template, str(status)).inc()
        LATENCY.labels(method, template).observe(seconds)
        if self.access_log:
            log.info(
                "request",
                method=method,
                path=scope["path"],
                route=template,
                status=status,
                ms=round(seconds * 1000, 2),
                client_ip=ip,
            )


def _request_id(raw: bytes | None) -> str:
    if raw:
        candidate = raw.decode("latin-1")
        if REQUEST_ID_RE.match(candidate):
            return candidate
    return uuid.uuid4().hex


def _too_large(declared: bytes, cap: int) -> bool:
    try:
        return int(declared) > cap
    except ValueError:
        return True


async def _send_too_large(send: Send, request_id: str, cap: int) -> None:
    body = orjson.dumps(
        {
            "type": "https://elysium.example/problems/payload-too-large",
            "title": "Request body too large",
            "status": 413,
            "detail": f"Request bodies are limited to {cap} bytes.",
        }
    )
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()),
        *SECURITY_HEADERS,
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
