"""SIGTERM under load: in-flight requests finish, later ones are refused cleanly (never a 500
or a dropped response), and every queued job is run once the worker is back: none lost."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from elysium.models import Order, SentEmail
from factories import queue_welcome, shopper, stocked_piece
from run_helpers import LoadResult, shop_until, start_elysium_run, stop

pytestmark = pytest.mark.slow  # `elysium run` and `elysium worker` as real processes

EMAILS = 30


async def _wait_unsent(app: FastAPI, within: float) -> int:
    deadline = time.monotonic() + within
    while True:
        async with app.state.sessionmaker() as session:
            query = select(func.count()).select_from(SentEmail).where(SentEmail.status != "sent")
            unsent = int(await session.scalar(query) or 0)
        if unsent == 0 or time.monotonic() > deadline:
            return unsent
        await asyncio.sleep(0.5)


def _start_worker(database_url: str, outbox: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {"DATABASE_URL": database_url, "EMAIL_OUTBOX_DIR": str(outbox)}
    return subprocess.Popen([sys.executable, "-m", "elysium.cli", "worker"], env=env)


def _outbox_files(outbox: Path) -> int:
    return len(list(outbox.glob("*.eml")))


async def test_sigterm_under_load_answers_or_refuses_and_loses_no_job(
    app: FastAPI, client: AsyncClient, database_url: str, tmp_path: Path
) -> None:
    piece = await stocked_piece(app, level=10_000)
    shoppers = [await shopper(app, client) for _ in range(4)]
    proc, base = start_elysium_run(database_url, tmp_path)
    for n in range(EMAILS):
        await queue_welcome(app, f"shutdown{n}@example.com")
    result = LoadResult()
    stop_at = asyncio.Event()
    load = [
        asyncio.create_task(shop_until(base, who, piece.slug, stop_at, result, retry=False))
        for who in shoppers
    ]
    await asyncio.sleep(2)
    proc.terminate()  # SIGTERM to the supervisor, which passes it on
    await asyncio.sleep(3)  # the load goes on while the service shuts down
    stop_at.set()
    await asyncio.gather(*load)
    assert await asyncio.to_thread(stop, proc) == 0

    assert not result.problems, result.problems[:5]
    assert result.orders  # some checkouts were answered before the shutdown...
    assert result.refused  # ...and later ones refused (connection refused, not a 500)
    # every checkout that was processed was answered: none was cut off mid-way (a request
    # refused or reset before the server read it left nothing behind)
    async with app.state.sessionmaker() as session:
        stored = await session.scalar(select(func.count()).select_from(Order))
    assert stored == len(result.orders)

    # a worker started again runs every job left (a job cut off is retried): none lost
    outbox = tmp_path / "outbox"
    worker = _start_worker(database_url, outbox)
    try:
        assert await _wait_unsent(app, within=150) == 0
    finally:
        worker.terminate()
        assert await asyncio.to_thread(worker.wait, 60) == 0
    async with app.state.sessionmaker() as session:
        logged = await session.scalar(select(func.count()).select_from(SentEmail))
    assert logged is not None
    assert logged >= EMAILS
    assert await asyncio.to_thread(_outbox_files, outbox) == logged  # each sent once
