"""The per-process buffer of tracked product views, written in batches."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, Request
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from elysium.db import table_of
from elysium.kit.clock import utcnow
from elysium.models import ProductView

log = structlog.get_logger(__name__)

_INSERT_VIEWS = insert(table_of(ProductView))
_FLUSH_LOCK = text("SELECT pg_advisory_xact_lock(7352001)")


class ViewBuffer:
    """Views of one process waiting to be written, one multi-row INSERT per flush.

    A view is acknowledged (202) once it is in the buffer; `run` writes the buffer every
    `interval` seconds, or sooner once `max_rows` are waiting, so a crash of the process loses
    at most the last `interval` seconds of its views (0.2 s by default). When a write fails
    (the database is unreachable) the rows are kept for the next flush, up to ten times
    `max_rows`; beyond that the oldest are dropped and logged.
    """

    def __init__(self, engine: AsyncEngine, interval: float, max_rows: int) -> None:
        self.engine = engine
        self.interval = interval
        self.max_rows = max_rows
        self._rows: list[dict[str, Any]] = []
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._flushing = asyncio.Lock()

    def add(self, product_id: uuid.UUID, user_id: uuid.UUID | None, session_id: str | None) -> None:
        """Queue one view, stamped now."""
        self._rows.append(
            {
                "product_id": product_id,
                "user_id": user_id,
                "session_id": session_id,
                "viewed_at": utcnow(),
            }
        )
        if len(self._rows) >= self.max_rows:
            self._full.set()

    @property
    def pending(self) -> int:
        return len(self._rows)

    async def flush(self) -> int:
        """Write every waiting view now (also the flush hook of tests); the count written."""
        async with self._flushing:
            rows, self._rows = self._rows, []
            self._full.clear()
            if not rows:
                return 0
            try:
                async with self.engine.begin() as conn:
                    # One writer at a time across processes: two batches upserting the same
                    # recent views concurrently deadlocked under load (measured); a flush is a
                    # few milliseconds every 0.2 s per process, so waiting costs nothing.
                    await conn.execute(_FLUSH_LOCK)
                    await conn.execute(_INSERT_VIEWS, rows)
            except Exception as exc:
                kept = (rows + self._rows)[-10 * self.max_rows :]
                lost = len(rows) + len(self._rows) - len(kept)
                self._rows = kept
                log.warning(
                    "analytics.views_not_written",
                    waiting=len(kept),
                    dropped=lost,
                    error=str(exc)[:300],
                )
                raise
            return len(rows)

    async def run(self) -> None:
        """Flush every `interval` seconds (or when full) until cancelled."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), self.interval)
            try:
                await self.flush()
            except Exception:  # kept for the next round; the loop must not die
                await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        """Stop the loop and write what is left (a graceful shutdown loses nothing).

        The loop is cancelled while holding the flush lock, so never in the middle of a write
        (which would drop the rows it had taken)."""
        if self._task is not None:
            async with self._flushing:
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self.flush()


def install_view_buffer(app: FastAPI) -> None:
    """Give the app its buffer: started with the app, flushed and stopped with it."""

    async def start(app: FastAPI) -> None:
        settings = app.state.settings
        app.state.view_buffer = ViewBuffer(
            app.state.engine, settings.view_flush_seconds, settings.view_buffer_max
        )
        app.state.view_buffer.start()

    async def stop(app: FastAPI) -> None:
        await app.state.view_buffer.stop()

    app.state.startup_hooks.append(start)
    app.state.shutdown_hooks.append(stop)


async def get_view_buffer(request: Request) -> ViewBuffer:
    """The app's buffer (async: a sync dependency costs a thread hop per request)."""
    buffer: ViewBuffer = request.app.state.view_buffer
    return buffer


ViewBufferDep = Annotated[ViewBuffer, Depends(get_view_buffer)]
