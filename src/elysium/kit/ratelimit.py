"""Sliding-window rate limits shared by every worker process: PostgreSQL, or Redis when set.

A limit is checked and counted in ONE atomic step (`reserve`): of N concurrent attempts on a key
with room for k, exactly k are let through, whatever the interleaving. Reading the count first
and recording afterwards let 60 concurrent wrong passwords through a limit of 10.

Counts are written in their own short transaction, so a failed sign-in is remembered even
though the request that saw it answers an error and rolls back; a reservation can be given back
(`release`) when the attempt turns out not to count (a successful sign-in).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from elysium.errors import RateLimitedError
from elysium.kit.batching import Batcher

Limit = tuple[str, int]
"""A key and how many events it may have in the window."""


@dataclass(frozen=True)
class Reservation:
    """The outcome of `reserve`: every key counted once, or none of them and a wait."""

    event_ids: dict[str, str]  # key -> the event counted for it; empty when refused
    retry_after: int = 0  # seconds to wait, when refused

    @property
    def granted(self) -> bool:
        return bool(self.event_ids)


class RateLimiter(Protocol):
    """Counts events per key over a sliding window."""

    async def reserve(self, limits: Sequence[Limit], window: int) -> Reservation:
        """Atomically: count one event for each key, unless any key is already at its limit
        in `window` (then count nothing and say how long to wait)."""
        ...

    async def release(self, reservation: Reservation, key: str) -> None:
        """Give back the event `reservation` counted for `key` (it did not count after all)."""
        ...

    async def clear(self, key: str) -> None:
        """Forget the events of `key` (a successful sign-in clears the account's failures)."""
        ...


async def reserve_or_refuse(
    limiter: RateLimiter, limits: Sequence[Limit], window: int, detail: str
) -> Reservation:
    """`reserve`, or 429 (`RateLimitedError` saying `detail`, with Retry-After) when a key is
    already at its limit: the one way every limit of the shop is checked and counted."""
    reservation = await limiter.reserve(limits, window)
    if not reservation.granted:
        raise RateLimitedError(detail, retry_after=reservation.retry_after)
    return reservation


def _wait(window: int, oldest: float, now: float) -> int:
    return max(1, int(window - (now - oldest)) + 1)


class PostgresRateLimiter:
    """Events as rows of `rate_events`. One short transaction per check: transaction-scoped
    advisory locks on the keys (in a fixed order) serialise the check-and-count of those keys
    only; then the counts are read (a fresh snapshot, after the locks) and the events inserted.
    Three statements whatever the number of keys."""

    _LOCK = text(
        "SELECT count(pg_advisory_xact_lock(h)) FROM "
        "(SELECT DISTINCT hashtextextended(k, 7351) AS h FROM unnest(CAST(:keys AS text[])) k "
        "ORDER BY 1) locks"
    )
    _COUNT = text(
        "SELECT key, count(*) AS n, min(occurred_at) AS oldest FROM rate_events "
        "WHERE key = ANY(CAST(:keys AS text[])) "
        "AND occurred_at > now() - make_interval(secs => :window) GROUP BY key"
    )
    _INSERT = text(
        "INSERT INTO rate_events (key, occurred_at) "
        "SELECT k, clock_timestamp() FROM unnest(CAST(:keys AS text[])) k RETURNING id, key"
    )

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def reserve(self, limits: Sequence[Limit], window: int) -> Reservation:
        keys = [key for key, _ in limits]
        async with self.engine.begin() as conn:
            await conn.execute(self._LOCK, {"keys": keys})
            counts = {
                row.key: row
                for row in await conn.execute(self._COUNT, {"keys": keys, "window": window})
            }
            full = [counts[k] for k, limit in limits if k in counts and counts[k].n >= limit]
            if full:
                oldest = max(row.oldest.timestamp() for row in full)
                return Reservation({}, _wait(window, oldest, time.time()))
            inserted = await conn.execute(self._INSERT, {"keys": keys})
            return Reservation({row.key: str(row.id) for row in inserted})

    async def release(self, reservation: Reservation, key: str) -> None:
        event_id = reservation.event_ids.get(key)
        if event_id is None:
            return
        async with self.engine.begin() as conn:
            await conn.execute(
                text("DELETE FROM rate_events WHERE id = :id"), {"id": int(event_id)}
            )

    async def clear(self, key: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text("DELETE FROM rate_events WHERE key = :key"), {"key": key})


# A batch of reservations in one script, so in one round trip, each atomic in Redis. For each
# reservation in turn: trim each key's window; if any key is full answer its oldest event's
# time, else add one event to every key (and answer ""). ARGV: now, then per reservation its
# window, member, number of keys and each key's limit; KEYS: every reservation's keys in order.
_RESERVE_SCRIPT = """
local now = tonumber(ARGV[1])
local arg, key = 2, 1
local answers = {}
while arg <= #ARGV do
  local window, member, count = tonumber(ARGV[arg]), ARGV[arg + 1], tonumber(ARGV[arg + 2])
  local oldest_full = nil
  for i = 0, count - 1 do
    local name = KEYS[key + i]
    redis.call('ZREMRANGEBYSCORE', name, 0, now - window)
    if redis.call('ZCARD', name) >= tonumber(ARGV[arg + 3 + i]) then
      local oldest = tonumber(redis.call('ZRANGE', name, 0, 0, 'WITHSCORES')[2])
      if oldest_full == nil or oldest > oldest_full then oldest_full = oldest end
    end
  end
  if oldest_full ~= nil then
    answers[#answers + 1] = tostring(oldest_full)
  else
    for i = 0, count - 1 do
      redis.call('ZADD', KEYS[key + i], now, member)
      redis.call('EXPIRE', KEYS[key + i], window)
    end
    answers[#answers + 1] = ""
  end
  arg, key = arg + 3 + count, key + count
end
return answers
"""


@dataclass(frozen=True)
class _Request:
    limits: Sequence[Limit]
    window: int
    member: str


class RedisRateLimiter:
    """Events as members of one sorted set per key, scored by time.

    Reservations made while a round trip is under way wait for it and then go together, in one
    script call (`kit.batching`): under load a process makes one round trip for many requests
    instead of one each (measured: the per-request round trip was most of a tracked view's
    CPU). Each reservation stays atomic, and they are counted in the order they were made.
    """

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url)
        self._reserve = self.redis.register_script(_RESERVE_SCRIPT)
        self._batches: Batcher[_Request, str] = Batcher(self._send)

    async def reserve(self, limits: Sequence[Limit], window: int) -> Reservation:
        request = _Request(limits, window, uuid.uuid4().hex)
        oldest = await self._batches.submit(request)
        if not oldest:
            return Reservation({key: request.member for key, _ in limits})
        return Reservation({}, _wait(window, float(oldest), time.time()))

    async def _send(self, batch: list[_Request]) -> list[str]:
        names: list[str] = []
        args: list[str | int | float] = [time.time()]
        for request in batch:
            names += [f"elysium:rl:{key}" for key, _ in request.limits]
            args += [request.window, request.member, len(request.limits)]
            args += [limit for _, limit in request.limits]
        answers = await self._reserve(keys=names, args=args)
        return [a.decode() if isinstance(a, bytes) else str(a or "") for a in answers]

    async def release(self, reservation: Reservation, key: str) -> None:
        member = reservation.event_ids.get(key)
        if member is not None:
            await self.redis.zrem(f"elysium:rl:{key}", member)

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
