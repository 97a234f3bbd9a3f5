"""With REDIS_URL set, sign-in throttling lives in Redis and still spans app instances."""

from __future__ import annotations

import asyncio
import socket
import uuid

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from elysium.app import create_app
from elysium.config import Settings
from elysium.kit.ratelimit import RedisRateLimiter
from factories import register_customer

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _redis_answers(), reason="no Redis on 127.0.0.1:6379")


async def test_redis_limiter_counts_and_clears() -> None:
    limiter = RedisRateLimiter(REDIS_URL)
    key = f"test:{uuid.uuid4().hex}"
    for _ in range(3):
        assert (await limiter.reserve([(key, 3)], 60)).granted
    refused = await limiter.reserve([(key, 3)], 60)
    assert not refused.granted
    assert 0 < refused.retry_after <= 61
    await limiter.clear(key)
    assert (await limiter.reserve([(key, 3)], 60)).granted


async def test_redis_limiter_is_atomic_under_concurrency() -> None:
    limiter = RedisRateLimiter(REDIS_URL)
    key, other = f"test:{uuid.uuid4().hex}", f"test:{uuid.uuid4().hex}"
    results = await asyncio.gather(
        *(limiter.reserve([(key, 5), (other, 100)], 60) for _ in range(40))
    )
    assert sum(r.granted for r in results) == 5
    granted = next(r for r in results if r.granted)
    await limiter.release(granted, key)
    assert (await limiter.reserve([(key, 5)], 60)).granted


async def test_lockout_is_shared_by_two_instances_through_redis(settings: Settings) -> None:
    with_redis = settings.model_copy(update={"redis_url": REDIS_URL})
    first, second = create_app(with_redis), create_app(with_redis)
    async with LifespanManager(first), LifespanManager(second):
        peer = (f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}", 1)
        shop = {"Origin": settings.public_base_url}  # as the shop's pages send it
        a = AsyncClient(
            transport=ASGITransport(app=first, client=peer), base_url="http://a", headers=shop
        )
        b = AsyncClient(
            transport=ASGITransport(app=second, client=peer), base_url="http://b", headers=shop
        )
        account = await register_customer(a)
        limiter = RedisRateLimiter(REDIS_URL)
        await limiter.clear(f"login:account:{account.email}")
        await limiter.clear(f"login:ip:{peer[0]}")
        bad = {"email": account.email, "password": "wrong-guess-42"}
        statuses = [
            (await (a if i % 2 else b).post("/api/auth/login", json=bad)).status_code
            for i in range(10)
        ]
        good = {"email": account.email, "password": account.password}
        locked = await a.post("/api/auth/login", json=good)
        await a.aclose()
        await b.aclose()
    assert statuses == [401] * 10
    assert locked.status_code == 429
