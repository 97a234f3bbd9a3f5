"""The Redis rate limiter batches concurrent reservations: when Redis is unreachable every
waiting caller gets the failure (none waits forever), and the next call tries again."""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from elysium.kit.ratelimit import RedisRateLimiter
from live_server import free_port


async def test_unreachable_redis_fails_every_waiter_and_recovers_for_the_next_call() -> None:
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    results = await asyncio.wait_for(
        asyncio.gather(
            *(limiter.reserve([(f"k{i}", 5)], 60) for i in range(8)), return_exceptions=True
        ),
        timeout=30,
    )
    assert all(isinstance(r, RedisConnectionError) for r in results), results
    with pytest.raises(RedisConnectionError):
        await asyncio.wait_for(limiter.reserve([("k", 5)], 60), timeout=30)
