"""A per-process cache of rendered catalogue reads, dropped whenever the catalogue changes.

Every catalogue write runs `notify_catalog_changed` in its transaction, so PostgreSQL delivers
`NOTIFY catalog_changed` only on commit; each app process LISTENs on a dedicated connection and
clears its cache on the notification. While that connection is down nothing is cached, and a
short time-to-live bounds staleness of anything the notification does not cover (stock levels).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
import structlog
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from elysium.db import direct_database_url, libpq_url

CHANNEL = "catalog_changed"
CACHE_CONTROL = "public, max-age=60"
T = TypeVar("T")
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class CachedBody:
    """A rendered JSON body and its weak ETag."""

    body: bytes
    etag: str


def render(model: BaseModel) -> CachedBody:
    """Serialise a response model once, with a weak ETag over the bytes."""
    body = model.model_dump_json().encode()
    digest = hashlib.blake2b(body, digest_size=12).hexdigest()
    return CachedBody(body, f'W/"{digest}"')


class CatalogCache:
    """Values by key; `generation` guards against keeping a read older than a clear."""

    def __init__(self, max_entries: int = 2048, ttl_seconds: float = 30.0) -> None:
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self.enabled = False  # only while the LISTEN connection is up
        self.generation = 0
        self._entries: dict[Hashable, tuple[float, Any]] = {}

    def clear(self) -> None:
        """Forget everything, including reads that are still in flight."""
        self.generation += 1
        self._entries.clear()

    def rendered(self, key: Hashable) -> CachedBody | None:
        """The rendered body cached for `key`, if any and still fresh (never builds)."""
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic() and isinstance(entry[1], CachedBody):
            return entry[1]
        return None

    async def remember(self, key: Hashable, build: Callable[[], Awaitable[T]]) -> T:
        """The cached value for `key`, else what `build` returns (kept unless a clear came)."""
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            value: T = entry[1]
            return value
        generation = self.generation
        value = await build()
        if self.enabled and generation == self.generation:
            if len(self._entries) >= self.max_entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (time.monotonic() + self.ttl_seconds, value)
        return value

    async def get_or_build(
        self, key: Hashable, build: Callable[[], Awaitable[BaseModel]]
    ) -> CachedBody:
        """The rendered body for `key`, rendering what `build` returns on a miss."""

        async def rendered() -> CachedBody:
            return render(await build())

        return await self.remember(key, rendered)


async def notify_catalog_changed(session: AsyncSession) -> None:
    """Tell every app process to drop its catalogue cache once this transaction commits."""
    await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


class CacheInvalidator:
    """Holds the LISTEN connection of one app process; reconnects when it drops."""

    def __init__(self, cache: CatalogCache, database_url: str) -> None:
        self.cache = cache
        self.dsn = libpq_url(database_url)
        self._connection: asyncpg.Connection | None = None
        self._reconnect: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> None:
        """Open the connection and LISTEN; caching starts once it is listening."""
        connection = await asyncpg.connect(
            self.dsn, server_settings={"application_name": "elysium-cache"}
        )
        await connection.add_listener(CHANNEL, self._on_notify)
        connection.add_termination_listener(self._on_lost)
        self._connection = connection
        self.cache.clear()
        self.cache.enabled = True

    async def stop(self) -> None:
        """Close the connection and stop caching."""
        self._closing = True
        self.cache.enabled = False
        if self._reconnect is not None:
            self._reconnect.cancel()
        if self._connection is not None and not self._connection.is_closed():
            await self._connection.close()

    def _on_notify(self, *_: Any) -> None:
        self.cache.clear()

    def _on_lost(self, *_: Any) -> None:
        self.cache.enabled = False
        self.cache.clear()
        if not self._closing:
            log.warning("catalog_cache.listener_lost")
            self._reconnect = asyncio.get_running_loop().create_task(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        delay = 0.5
        while not self._closing:
            try:
                await self.start()
                return
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("catalog_cache.reconnect_failed", error=str(exc), delay=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)


def install_catalog_cache(app: FastAPI) -> None:
    """Give the app a cache and the startup/shutdown hooks that keep it honest."""
    app.state.catalog_cache = CatalogCache()

    async def start(app: FastAPI) -> None:
        app.state.catalog_invalidator = CacheInvalidator(
            app.state.catalog_cache, direct_database_url(app.state.settings, app.state.database_url)
        )
        await app.state.catalog_invalidator.start()

    async def stop(app: FastAPI) -> None:
        await app.state.catalog_invalidator.stop()

    app.state.startup_hooks.append(start)
    app.state.shutdown_hooks.append(stop)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def conditional_response(request: Request, entry: CachedBody) -> Response:
    """200 with the body, or 304 when `If-None-Match` names its ETag (weak comparison)."""
    headers = {"ETag": entry.etag, "Cache-Control": CACHE_CONTROL}
    wanted = request.headers.get("if-none-match")
    if wanted and (wanted.strip() == "*" or entry.etag.removeprefix("W/") in _etags(wanted)):
        return Response(status_code=304, headers=headers)
    return Response(entry.body, media_type="application/json", headers=headers)


async def get_catalog_cache(request: Request) -> CatalogCache:
    """The cache of the app serving this request (async: a sync dependency costs a thread hop)."""
    cache: CatalogCache = request.app.state.catalog_cache
    return cache
