"""Cross-site rules: cookie-signed writes only from the shop's origins; CORS for the storefront;
security headers everywhere; /docs served offline under a strict CSP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from elysium.app import create_app
from elysium.config import Settings
from factories import Account

STOREFRONT = "https://shop.elysium.example"


@asynccontextmanager
async def _cookie_client(
    app: FastAPI, account: Account, origin: str | None
) -> AsyncIterator[AsyncClient]:
    """A browser-like client signed in by the session cookie, sending `origin` (if any)."""
    headers = {"Origin": origin} if origin else {}
    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="http://t", headers=headers
    ) as http:
        http.cookies.set(app.state.settings.session_cookie_name, account.token)
        yield http


async def test_cookie_writes_from_a_foreign_origin_are_refused(
    app: FastAPI, customer: Account
) -> None:
    async with _cookie_client(app, customer, "https://evil.example") as http:
        for method, path in (
            ("POST", "/api/auth/logout"),
            ("POST", "/api/notifications/read-all"),
            ("DELETE", "/api/cart"),
            ("PUT", "/api/user/profile"),
        ):
            response = await http.request(method, path, json={} if method == "PUT" else None)
            assert response.status_code == 403, (method, path)
            assert response.json()["type"].endswith("/cross-site-request")
        # nothing happened: the session still works
        session = await http.get("/api/auth/session")
        assert session.status_code == 200


async def test_cookie_writes_without_an_origin_are_refused(app: FastAPI, customer: Account) -> None:
    async with _cookie_client(app, customer, None) as http:
        assert (await http.post("/api/auth/logout")).status_code == 403
        referred = await http.post(
            "/api/auth/logout", headers={"Referer": "http://127.0.0.1:8000/account"}
        )
        assert referred.status_code == 204


async def test_bearer_writes_and_the_shops_origin_are_unaffected(
    app: FastAPI, customer: Account
) -> None:
    async with _cookie_client(app, customer, "https://evil.example") as http:
        bearer = await http.post("/api/notifications/read-all", headers=customer.headers)
        assert bearer.status_code in (200, 204)
    async with _cookie_client(app, customer, "http://127.0.0.1:8000") as http:
        assert (await http.post("/api/notifications/read-all")).status_code in (200, 204)


async def test_cors_allows_only_the_storefront_with_credentials(
    app: FastAPI, settings: Settings
) -> None:
    shop = create_app(settings.model_copy(update={"cors_origins": [STOREFRONT]}))
    async with (
        LifespanManager(shop),
        AsyncClient(transport=ASGITransport(app=shop), base_url="http://t") as http,
    ):
        preflight = {"Access-Control-Request-Method": "POST"}
        ok = await http.options("/api/cart", headers={"Origin": STOREFRONT, **preflight})
        assert ok.headers["access-control-allow-origin"] == STOREFRONT
        assert ok.headers["access-control-allow-credentials"] == "true"
        foreign = await http.options(
            "/api/cart", headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in foreign.headers
        listed = await http.get("/api/products", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in listed.headers


async def test_security_headers_everywhere_and_hsts_only_over_https(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    for path in ("/api/products", "/health/live", "/api/nothing-here"):
        response = await client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"]
        assert "camera=()" in response.headers["permissions-policy"]
        assert "strict-transport-security" not in response.headers
    behind = create_app(settings.model_copy(update={"trusted_proxies": ["10.0.0.0/8"]}))
    async with (
        LifespanManager(behind),
        AsyncClient(
            transport=ASGITransport(app=behind, client=("10.1.2.3", 1)), base_url="http://t"
        ) as http,
    ):
        proxied = await http.get("/health/live", headers={"X-Forwarded-Proto": "https"})
        assert proxied.headers["strict-transport-security"].startswith("max-age=")
    secure = AsyncClient(transport=ASGITransport(app=app), base_url="https://t")
    async with secure:
        assert "strict-transport-security" in (await secure.get("/health/live")).headers


async def test_docs_are_served_offline_under_a_strict_csp(client: AsyncClient) -> None:
    for path in ("/docs", "/redoc"):
        page = await client.get(path)
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "script-src 'self';" in csp
        assert "cdn" not in page.text
        assert "<script>" not in page.text  # no inline script: every script is a served file
        for asset in re.findall(r'(?:src|href)="(/[^"]+)"', page.text):
            served = await client.get(asset)
            assert served.status_code == 200, asset
            assert len(served.content) > 10
