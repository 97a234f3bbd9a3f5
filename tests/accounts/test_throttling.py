"""Sign-in throttling per account and per IP, shared by app instances through PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select

from elysium.app import create_app
from elysium.config import Settings
from elysium.models import AuthSession
from factories import make_account, register_customer, unique_email


@pytest.fixture
async def second_client(settings: Settings) -> AsyncIterator[AsyncClient]:
    """A second, independent app instance (its own engine and pool) on the same database."""
    other: FastAPI = create_app(settings)
    async with LifespanManager(other):
        transport = ASGITransport(app=other, client=("198.51.100.7", 40000))
        async with AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def _fail(client: AsyncClient, email: str) -> int:
    response = await client.post(
        "/api/auth/login", json={"email": email, "password": "wrong-guess-42"}
    )
    return response.status_code


async def test_account_locks_after_ten_failures_across_two_instances(
    client: AsyncClient, second_client: AsyncClient
) -> None:
    account = await register_customer(client)
    statuses = [await _fail(client if i % 2 else second_client, account.email) for i in range(10)]
    assert statuses == [401] * 10
    locked = await client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password}
    )
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert (
        await second_client.post(
            "/api/auth/login", json={"email": account.email, "password": account.password}
        )
    ).status_code == 429


async def test_success_before_the_limit_resets_the_account_counter(client: AsyncClient) -> None:
    account = await register_customer(client)
    for _ in range(9):
        assert await _fail(client, account.email) == 401
    ok = await client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password}
    )
    assert ok.status_code == 200
    assert await _fail(client, account.email) == 401


async def test_one_ip_is_throttled_across_many_accounts(settings: Settings) -> None:
    strict = settings.model_copy(update={"login_max_failures_per_ip": 3})
    app = create_app(strict)
    async with LifespanManager(app):
        transport = ASGITransport(app=app, client=("192.0.2.99", 1234))
        async with AsyncClient(transport=transport, base_url="http://testserver") as http:
            statuses = [await _fail(http, unique_email()) for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


async def test_forwarded_for_is_used_only_behind_a_trusted_proxy(settings: Settings) -> None:
    proxied = settings.model_copy(
        update={"login_max_failures_per_ip": 2, "trusted_proxies": ["10.0.0.0/8"]}
    )
    app = create_app(proxied)
    async with LifespanManager(app):
        transport = ASGITransport(app=app, client=("10.1.2.3", 1234))
        async with AsyncClient(transport=transport, base_url="http://testserver") as http:

            async def fail_from(ip: str) -> int:
                response = await http.post(
                    "/api/auth/login",
                    json={"email": unique_email(), "password": "wrong-guess-42"},
                    headers={"X-Forwarded-For": f"6.6.6.6, {ip}"},
                )
                return response.status_code

            first_shopper = [await fail_from("192.0.2.1") for _ in range(3)]
            second_shopper = await fail_from("192.0.2.2")
    assert first_shopper == [401, 401, 429]
    assert second_shopper == 401


async def test_a_forwarded_for_that_is_not_an_ip_address_is_ignored(settings: Settings) -> None:
    proxied = settings.model_copy(update={"trusted_proxies": ["10.0.0.0/8"]})
    app = create_app(proxied)
    async with LifespanManager(app):
        account = await make_account(app)
        transport = ASGITransport(app=app, client=("10.1.2.3", 1234))
        shop = {"Origin": settings.public_base_url}  # as the shop's own pages send it
        async with AsyncClient(
            transport=transport, base_url="http://testserver", headers=shop
        ) as http:
            for forwarded in ("not-an-ip", "192.0.2.7:8080", "192.0.2.8, evil\nlog", "192.0.2.9"):
                response = await http.post(
                    "/api/auth/login",
                    json={"email": account.email, "password": account.password},
                    headers={"X-Forwarded-For": forwarded},
                )
                assert response.status_code == 200, response.text
        async with app.state.sessionmaker() as session:
            ips = list(
                await session.scalars(
                    select(AuthSession.ip)
                    .where(
                        AuthSession.user_id == uuid.UUID(account.id), AuthSession.ip.is_not(None)
                    )
                    .order_by(AuthSession.created_at)
                )
            )
    assert ips == ["10.1.2.3", "10.1.2.3", "10.1.2.3", "192.0.2.9"]
