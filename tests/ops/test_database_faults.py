"""A database blip (every connection terminated, as a failover, a PgBouncer restart or
`pg_terminate_backend` does) under checkout load: the service keeps answering, requests in the
blip get 503 + Retry-After and never a 500, the worker outlives it, and nothing is lost."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from elysium.db import libpq_url
from elysium.models import Order, SentEmail
from factories import queue_welcome, shopper, stocked_piece
from run_helpers import LoadResult, orders_intact, shop_until, start_elysium_run, stop

pytestmark = pytest.mark.slow  # `elysium run` as a real process

SHOPPERS = 6
BLIPS = 3
EMAILS = 20

TERMINATE_ALL = """
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid()
"""


def _terminate_connections(database_url: str) -> int:
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        row = conn.execute(TERMINATE_ALL).fetchone()
    return int(row[0]) if row else 0


async def _unsent_emails(app: FastAPI, within: float) -> tuple[int, int]:
    """(emails not sent, emails logged) once every one is sent or `within` runs out."""
    deadline = time.monotonic() + within
    while True:
        async with app.state.sessionmaker() as session:
            total = int(await session.scalar(select(func.count()).select_from(SentEmail)) or 0)
            query = select(func.count()).select_from(SentEmail).where(SentEmail.status != "sent")
            unsent = int(await session.scalar(query) or 0)
        if unsent == 0 or time.monotonic() > deadline:
            return unsent, total
        await asyncio.sleep(0.5)


async def test_terminated_connections_under_load_lose_nothing(
    app: FastAPI, client: AsyncClient, database_url: str, tmp_path: Path
) -> None:
    piece = await stocked_piece(app, level=10_000)
    shoppers = [await shopper(app, client) for _ in range(SHOPPERS)]
    proc, base = start_elysium_run(database_url, tmp_path)
    try:
        for n in range(EMAILS):
            await queue_welcome(app, f"blip{n}@example.com", key=f"blip-{n}")
        result = LoadResult()
        stop_at = asyncio.Event()
        load = [
            asyncio.create_task(shop_until(base, who, piece.slug, stop_at, result))
            for who in shoppers
        ]
        terminated = []
        for _ in range(BLIPS):
            await asyncio.sleep(1.5)
            terminated.append(await asyncio.to_thread(_terminate_connections, database_url))
        await asyncio.sleep(1.5)
        stop_at.set()
        await asyncio.gather(*load)
        # The failure came 20-30 s after the blips: the worker died, then the server.
        await asyncio.sleep(30)

        assert all(count > 0 for count in terminated), terminated
        assert proc.poll() is None, "elysium run exited"
        async with httpx.AsyncClient(base_url=base) as http:
            assert (await http.get("/health/ready")).status_code == 200
        assert not result.problems, result.problems[:5]
        assert result.reset == 0  # no connection dropped: the server never went away
        assert result.orders, result.statuses
        assert await orders_intact(base, result) == []
        async with app.state.sessionmaker() as session:
            stored = await session.scalar(select(func.count()).select_from(Order))
        assert stored == len(result.orders)
        # the worker came back: every email job (queued before and during the blips) ran;
        # one cut off mid-run is retried once its worker is found stalled
        unsent, total = await _unsent_emails(app, within=150)
        assert total >= EMAILS
        assert unsent == 0
    finally:
        assert stop(proc) == 0
