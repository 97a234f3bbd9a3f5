"""Cross-site request rules: CORS for the storefront's origins, and no cookie-signed writes
from anywhere else.

A browser sends the session cookie with any request to the shop, even one a foreign page
started; so a write (POST, PUT, PATCH, DELETE) under /api authenticated by the cookie must
carry an `Origin` (or, failing that, a `Referer`) from the allowed list: CORS_ORIGINS and
PUBLIC_BASE_URL. Calls with `Authorization: Bearer` are not affected (a foreign page cannot
set that header), nor are calls without the cookie. The back office under /admin has its own
CSRF tokens and SameSite=Strict cookie.
"""

from __future__ import annotations

from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from elysium.errors import problem_response

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def origin_of(url: str) -> str | None:
    """`https://shop.example/path` → `https://shop.example` (None when not an absolute URL)."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


class CrossSiteWriteGuard:
    """403 for a cookie-authenticated /api write whose Origin is not on the allowed list."""

    def __init__(
        self, app: ASGIApp, *, allowed: Iterable[str], cookie_names: Iterable[str]
    ) -> None:
        self.app = app
        self.allowed = {o for o in (origin_of(a) for a in allowed) if o}
        self.cookie_names = set(cookie_names)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] not in SAFE_METHODS
            and scope["path"].startswith("/api/")
            and not self._allowed(scope)
        ):
            response = problem_response(
                403,
                "Not allowed",
                "A signed-in write must come from the shop's own pages "
                "(or use an Authorization: Bearer token).",
                type_slug="cross-site-request",
                instance=scope["path"],
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        headers = {k.lower(): v for k, v in scope["headers"]}
        if b"authorization" in headers or not self._has_session_cookie(headers.get(b"cookie")):
            return True
        origin = headers.get(b"origin", b"").decode("latin-1")
        if not origin or origin == "null":
            origin = origin_of(headers.get(b"referer", b"").decode("latin-1")) or ""
        return origin_of(origin) in self.allowed if origin else False

    def _has_session_cookie(self, raw: bytes | None) -> bool:
        if not raw:
            return False
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(raw.decode("latin-1"))
        except Exception:  # a malformed Cookie header carries no session either
            return False
        return any(name in jar and jar[name].value for name in self.cookie_names)
