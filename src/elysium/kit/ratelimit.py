"""Sliding-window rate limits shared by every worker process: PostgreSQL, or Redis when set.

Counts are written in their own short transaction, so a failed sign-in is remembered even
though the request that saw it answers an error and rolls back.
"""

from __future__ import annotations

import time
import uuid
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


class RateLimiter(Protocol):
    """Counts events per key over a sliding window."""

    async def retry_after(self, key: str, limit: int, window: int) -> int | None:
        """Seconds to wait when `key` already has `limit` events in `window`, else None."""
        ...

    async def record(self, key: str, window: int) -> None:
        """Count one event for `key`."""
        ...

    async def clear(self, key: str) -> None:
        """Forget the events of `key` (a successful sign-in clears the account's failures)."""
        ...


class PostgresRateLimiter:
    """Events as rows of `rate_events`, each write in its own autocommit statement."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def retry_after(self, key: str, limit: int, window: int) -> int | None:
        sql = text(
            "SELECT count(*) AS n, min(occurred_at) AS oldest FROM rate_events "
            "WHERE key = :key AND occurred_at > now() - make_interval(secs => :window)"
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(sql, {"key": key, "window": window})).one()
        if row.n < limit:
            return None
        waited = time.time() - row.oldest.timestamp()
        return max(1, int(window - waited) + 1)

    async def record(self, key: str, window: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO rate_events (key, occurred_at) VALUES (:key, now())"),
                {"key": key},
            )

    async def clear(self, key: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text("DELETE FROM rate_events WHERE key = :key"), {"key": key})


class RedisRateLimiter:
    """Events as members of one sorted set per key, scored by time."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url)

    async def retry_after(self, key: str, limit: int, window: int) -> int | None:
        now = time.time()
        name = f"elysium:rl:{key}"
        async with self.redis.pipeline(transaction=False) as pipe:  # one round trip
            pipe.zremrangebyscore(name, 0, now - window)
            pipe.zcard(name)
            pipe.zrange(name, 0, 0, withscores=True)
            _, count, entries = await pipe.execute()
        if count < limit or not entries:
            return None
        oldest = float(entries[0][1])
        return max(1, int(window - (now - oldest)) + 1)

    async def record(self, key: str, window: int) -> None:
        name = f"elysium:rl:{key}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(name, {uuid.uuid4().hex: time.time()})
            pipe.expire(name, window)
            await pipe.execute()

    async def clear(self, key: str) -> None:
        await self.redis.delete(f"elysium:rl:{key}")


async def delete_expired_rate_events(engine: AsyncEngine, older_than_seconds: int) -> int:
    """Housekeeping for the PostgreSQL store; returns the rows removed."""
    async with engine.begin() as conn:
        result = await conn.execute(
            text("DELETE FROM rate_events WHERE occurred_at < now() - make_interval(secs => :s)"),
            {"s": older_than_seconds},
        )
    return int(result.rowcount or 0)
