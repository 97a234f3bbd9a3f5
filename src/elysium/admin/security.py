"""The back office's browser defences: CSRF tokens on every form, a strict CSP, no framing.

Every `/admin` response gets a Content-Security-Policy that allows only the app's own scripts,
styles and images (no inline script or style), and a CSRF nonce cookie (httpOnly, SameSite=Strict,
path /admin). Each form carries `csrf_token`, the nonce signed with SECRET_KEY; `csrf_protect`
refuses any POST whose token does not match with 403, before the action runs.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from markupsafe import Markup
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from elysium.config import Settings
from elysium.errors import ForbiddenError
from elysium.kit.tokens import new_token, sign, signature_matches

CSRF_COOKIE = "elysium_csrf"
CSRF_FIELD = "csrf_token"
_PURPOSE = "admin-csrf"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


def is_admin_path(path: str) -> bool:
    return path == "/admin" or path.startswith("/admin/")


class CsrfRefusedError(ForbiddenError):
    type_slug = "csrf-refused"

    def __init__(self) -> None:
        super().__init__("This form has expired or did not come from this site; please retry.")


class AdminSecurityMiddleware:
    """CSP and framing headers on `/admin`, and the CSRF nonce behind each page's forms."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.secret = settings.secret_key.get_secret_value()
        self.secure = settings.cookie_secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_admin_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        nonce = HTTPConnection(scope).cookies.get(CSRF_COOKIE, "")
        fresh = None
        if not (20 <= len(nonce) <= 64):
            nonce = fresh = new_token()
        state: dict[str, Any] = scope.setdefault("state", {})
        state["csrf_nonce"] = nonce
        state["csrf_token"] = sign(self.secret, _PURPOSE, nonce)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = CSP
                headers["X-Frame-Options"] = "DENY"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                headers["Cache-Control"] = "no-store"
                if fresh is not None:
                    headers.append("set-cookie", self._cookie(fresh))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _cookie(self, nonce: str) -> str:
        cookie: SimpleCookie = SimpleCookie()
        cookie[CSRF_COOKIE] = nonce
        morsel = cookie[CSRF_COOKIE]
        morsel["path"] = "/admin"
        morsel["httponly"] = True
        morsel["samesite"] = "Strict"
        if self.secure:
            morsel["secure"] = True
        return morsel.OutputString()


def csrf_field(request: Request) -> Markup:
    """The hidden input every `/admin` form carries (a Jinja global)."""
    token = getattr(request.state, "csrf_token", "")
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token)


async def read_form(request: Request) -> dict[str, str]:
    """The posted urlencoded form, first value of each field; read once per request."""
    cached: dict[str, str] | None = getattr(request.state, "form", None)
    if cached is None:
        body = (await request.body()).decode(errors="replace")
        cached = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        request.state.form = cached
    return cached


async def csrf_protect(request: Request) -> None:
    """403 for a POST (or any unsafe method) without this browser's CSRF token; nothing runs."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    nonce = request.cookies.get(CSRF_COOKIE, "")
    sent = (await read_form(request)).get(CSRF_FIELD, "")
    settings: Settings = request.app.state.settings
    secret = settings.secret_key.get_secret_value()
    if not nonce or not sent or not signature_matches(secret, _PURPOSE, nonce, sent):
        raise CsrfRefusedError()
