"""`Cache-Control: no-store` on every API answer that may carry a token or personal data.

An /api response gets it when the request is authenticated (a bearer token or a session
cookie), when it carries a guest cart token, when the response sets a cookie, or when it is
under a path that deals in accounts, carts or checkout. Anonymous catalogue reads keep their
public caching.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PRIVATE_PREFIXES = (
    "/api/auth/",
    "/api/user",
    "/api/admin/",
    "/api/cart",
    "/api/checkout",
    "/api/orders",
)


class NoStoreMiddleware:
    """Pure ASGI: decides from the request line and headers, and the response's cookies."""

    def __init__(self, app: ASGIApp, *, session_cookies: Iterable[str]) -> None:
        self.app = app
        self.cookie_markers = tuple(f"{name}=".encode() for name in session_cookies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/"):
            await self.app(scope, receive, send)
            return
        private = path.startswith(PRIVATE_PREFIXES) or self._personal_request(scope)

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if private or "set-cookie" in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_no_store)

    def _personal_request(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name in (b"authorization", b"x-cart-token"):
                return True
            if name == b"cookie" and any(marker in value for marker in self.cookie_markers):
                return True
        return False
