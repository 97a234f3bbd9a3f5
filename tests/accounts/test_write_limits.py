"""Limits that hold: counted atomically, per address and per account, on every guest write."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from elysium.app import create_app
from elysium.config import Settings
from elysium.kit.ratelimit import PostgresRateLimiter
from elysium.models import AuditEvent
from factories import Account, make_account, queued_emails

ENQUIRY = {
    "name": "Ada Lovelace",
    "email": "victim@example.com",
    "piece_type": "ring",
    "notes": "An emerald-cut sapphire on a platinum band.",
}


@asynccontextmanager
async def _app_with(settings: Settings, **limits: Any) -> AsyncIterator[FastAPI]:
    """An app with the production defaults for the limits under test (tests raise them)."""
    defaults = Settings.model_fields
    values = {
        name: defaults[name].default
        for name in (
            "enquiries_per_hour",
            "account_requests_per_hour",
            "coupon_attempts_per_hour",
            "coupon_attempts_per_cart",
            "acknowledgements_per_address_per_day",
        )
    }
    strict = create_app(settings.model_copy(update=values | limits))
    async with LifespanManager(strict):
        yield strict


def _client(app: FastAPI, ip: str) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app=app, client=(ip, 1234)), base_url="http://t")


async def test_postgres_limiter_is_atomic_under_concurrency(app: FastAPI) -> None:
    limiter = PostgresRateLimiter(app.state.engine)
    key, other = f"test:{uuid.uuid4().hex}", f"test:{uuid.uuid4().hex}"
    results = await asyncio.gather(
        *(limiter.reserve([(key, 5), (other, 100)], 60) for _ in range(40))
    )
    assert sum(r.granted for r in results) == 5
    refused = next(r for r in results if not r.granted)
    assert 0 < refused.retry_after <= 61
    await limiter.release(next(r for r in results if r.granted), key)
    assert (await limiter.reserve([(key, 5)], 60)).granted


async def test_concurrent_wrong_passwords_get_at_most_the_limit_of_checks(
    app: FastAPI, client: AsyncClient, customer: Account, settings: Settings
) -> None:
    body = {"email": customer.email, "password": "wrong-guess-2026"}
    statuses = await asyncio.gather(*(client.post("/api/auth/login", json=body) for _ in range(60)))
    limit = settings.login_max_failures_per_account
    assert sorted(s.status_code for s in statuses) == [401] * limit + [429] * (60 - limit)
    async with app.state.sessionmaker() as session:
        checked = await session.scalar(
            select(func.count()).where(
                AuditEvent.action == "auth.sign_in_failed",
                AuditEvent.target_id == customer.id,
            )
        )
    assert checked == limit  # each 401 was one argon2 check; no 429 ran one


async def test_signed_in_enquiries_are_limited_per_account(
    app: FastAPI, settings: Settings
) -> None:
    async with _app_with(settings) as strict:
        account = await make_account(strict)
        statuses = []
        for n in range(14):  # from a new address each time: the account's limit still holds
            async with _client(strict, f"198.51.100.{n + 1}") as http:
                response = await http.post("/api/bespoke", json=ENQUIRY, headers=account.headers)
                statuses.append(response.status_code)
    limit = Settings.model_fields["enquiries_per_hour"].default
    assert statuses == [201] * limit + [429] * (14 - limit)


async def test_acknowledgements_to_an_unverified_address_are_capped(
    app: FastAPI, settings: Settings
) -> None:
    async with _app_with(settings, enquiries_per_hour=100) as strict:
        for n in range(6):
            async with _client(strict, f"203.0.113.{n + 1}") as http:
                assert (await http.post("/api/bespoke", json=ENQUIRY)).status_code == 201
        acks = await queued_emails(strict, "bespoke_enquiry_ack")
        notices = await queued_emails(strict, "bespoke_enquiry_staff")
    cap = Settings.model_fields["acknowledgements_per_address_per_day"].default
    assert len(acks) == cap
    assert {a.to for a in acks} == {"victim@example.com"}
    assert len(notices) == 6  # the atelier still hears of every enquiry


async def test_coupon_attempts_are_limited_per_cart(app: FastAPI, settings: Settings) -> None:
    async with _app_with(settings) as strict:
        cart_token = None
        statuses = []
        for n in range(13):
            async with _client(strict, f"192.0.2.{n + 10}") as http:  # a new address each time
                headers: dict[str, str] = {"X-Cart-Token": cart_token} if cart_token else {}
                response = await http.post(
                    "/api/cart/coupon", json={"code": f"GUESS{n}"}, headers=headers
                )
                statuses.append(response.status_code)
                cart_token = cart_token or response.headers.get("x-cart-token")
    per_cart = Settings.model_fields["coupon_attempts_per_cart"].default
    assert 429 not in statuses[:per_cart]
    assert statuses[per_cart:] == [429] * (13 - per_cart)


async def test_guest_cart_writes_are_limited(app: FastAPI, settings: Settings) -> None:
    async with (
        _app_with(settings, anonymous_writes_per_minute=2) as strict,
        _client(strict, "192.0.2.200") as http,
    ):
        statuses = [(await http.delete("/api/cart")).status_code for _ in range(3)]
        saved = await http.post(
            "/api/cart/save-configuration",
            json={"product_slug": "nothing", "configuration": {}},
        )
    assert statuses[2] == 429
    assert saved.status_code == 429


async def test_registrations_are_limited_per_address(app: FastAPI, settings: Settings) -> None:
    async with (
        _app_with(settings, account_requests_per_hour=3) as strict,
        _client(strict, "192.0.2.201") as http,
    ):
        statuses = []
        for _ in range(4):
            body = {
                "email": f"new-{uuid.uuid4().hex[:8]}@example.com",
                "password": "velvet-sapphire-2026",
                "name": "New Client",
            }
            statuses.append((await http.post("/api/auth/register", json=body)).status_code)
    assert statuses == [201, 201, 201, 429]
