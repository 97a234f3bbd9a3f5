"""Database limits from the settings: timeouts on every connection, and a spike beyond the
pool either waits for a connection or is refused with 503 + Retry-After, never a 500."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import text

from elysium.app import create_app
from elysium.config import Settings
from elysium.db import connection_budget, libpq_url
from factories import GUEST_SESSION, create_product

RECENT = f"/api/analytics/recently-viewed?session_id={GUEST_SESSION}"


@asynccontextmanager
async def _client(settings: Settings, **changes: object) -> AsyncIterator[AsyncClient]:
    app = create_app(settings.model_copy(update=changes))
    async with LifespanManager(app):
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http


def _app(http: AsyncClient) -> FastAPI:
    app: FastAPI = http.app  # type: ignore[attr-defined]
    return app


def _refused_cleanly(response: Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "3"
    assert response.json()["status"] == 503


async def test_every_connection_runs_with_the_configured_timeouts(settings: Settings) -> None:
    async with (
        _client(
            settings,
            db_statement_timeout_ms=7000,
            db_lock_timeout_ms=1500,
            db_idle_in_transaction_timeout_ms=45000,
        ) as http,
        _app(http).state.engine.connect() as conn,
    ):
        values = [
            (await conn.execute(text(f"SHOW {name}"))).scalar_one()
            for name in (
                "statement_timeout",
                "lock_timeout",
                "idle_in_transaction_session_timeout",
            )
        ]
    assert values == ["7s", "1500ms", "45s"]


async def test_a_spike_beyond_the_pool_waits_for_a_connection(
    app: FastAPI, settings: Settings
) -> None:
    await create_product(app)
    async with _client(settings, db_pool_size=2, db_max_overflow=0, db_pool_timeout=20) as http:
        responses = await asyncio.gather(*(http.get(RECENT) for _ in range(40)))
    assert [r.status_code for r in responses] == [200] * 40


async def test_an_exhausted_pool_answers_503_with_retry_after(settings: Settings) -> None:
    async with _client(
        settings,
        db_pool_size=1,
        db_max_overflow=0,
        db_pool_timeout=0.2,
        db_busy_retry_after_seconds=3,
    ) as http:
        async with _app(http).state.engine.connect() as held:  # the pool's only connection
            await held.execute(text("SELECT 1"))
            responses = await asyncio.gather(*(http.get(RECENT) for _ in range(5)))
            for response in responses:
                _refused_cleanly(response)
        assert (await http.get(RECENT)).status_code == 200  # free again: served


async def test_a_lock_held_too_long_answers_503_not_500(
    settings: Settings, database_url: str
) -> None:
    async with _client(settings, db_lock_timeout_ms=200, db_busy_retry_after_seconds=3) as http:
        with psycopg.connect(libpq_url(database_url)) as blocker:
            blocker.execute("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")
            _refused_cleanly(await http.get(RECENT))
            blocker.rollback()
        assert (await http.get(RECENT)).status_code == 200


async def test_a_statement_past_its_timeout_answers_503(
    settings: Settings, database_url: str
) -> None:
    async with _client(
        settings, db_statement_timeout_ms=150, db_busy_retry_after_seconds=3
    ) as http:
        with psycopg.connect(libpq_url(database_url)) as blocker:
            # lock_timeout stays at its 5 s default: the statement timeout fires first
            blocker.execute("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")
            _refused_cleanly(await http.get(RECENT))
            blocker.rollback()


def test_the_connection_budget_fits_max_connections(settings: Settings) -> None:
    """The documented one-machine deployment (docs/connection-budget.md: 2 web processes, one
    worker of concurrency 4) stays under PostgreSQL's default max_connections of 100, leaving
    the 3 superuser slots and 10 for operators, backups and migrations."""
    budget = connection_budget(settings)
    assert budget.per_web_process() == settings.db_pool_size + settings.db_max_overflow + 1
    assert budget.per_worker_process(4) == 4 + 4
    total = budget.total(web_processes=2, worker_processes=1, worker_concurrency=4)
    assert total == 2 * 21 + 8
    assert total <= 100 - 3 - 10
