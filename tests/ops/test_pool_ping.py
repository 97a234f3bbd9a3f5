"""A pooled connection the server closed (failover, PgBouncer restart, pg_terminate_backend):
one unused for DB_PING_AFTER_IDLE_SECONDS is pinged at checkout and replaced, so the request
never sees it; one used a moment ago is handed out unpinged (a ping is three round trips), so
its request answers 503 + Retry-After, and the whole pool is replaced for the next one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from elysium.app import create_app
from elysium.config import Settings
from elysium.db import create_engine
from factories import GUEST_SESSION

RECENT = f"/api/analytics/recently-viewed?session_id={GUEST_SESSION}"
TERMINATE_THE_APPS = text(
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    " AND application_name = 'elysium' AND backend_type = 'client backend'"
)


@asynccontextmanager
async def _shop(settings: Settings, idle: float) -> AsyncIterator[AsyncClient]:
    app = create_app(settings.model_copy(update={"db_ping_after_idle_seconds": idle}))
    async with LifespanManager(app):
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def _terminate(settings: Settings) -> int:
    """Close every connection of the app's pool from the server side."""
    outsider = create_engine(settings, application_name="elysium-test-terminator")
    try:
        async with outsider.connect() as conn:
            return int((await conn.execute(TERMINATE_THE_APPS)).scalar_one())
    finally:
        await outsider.dispose()


async def test_an_idle_dead_connection_is_pinged_and_replaced(settings: Settings) -> None:
    async with _shop(settings, idle=0.2) as http:
        assert (await http.get(RECENT)).status_code == 200
        assert await _terminate(settings) >= 1
        await asyncio.sleep(0.5)  # longer unused than DB_PING_AFTER_IDLE_SECONDS
        response = await http.get(RECENT)
        assert response.status_code == 200, response.text


async def test_a_just_used_dead_connection_costs_one_503_then_the_pool_is_replaced(
    settings: Settings,
) -> None:
    async with _shop(settings, idle=3600) as http:
        assert (await http.get(RECENT)).status_code == 200
        assert await _terminate(settings) >= 1
        await asyncio.sleep(0.2)  # the backend is gone
        refused = await http.get(RECENT)
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1
        again = await http.get(RECENT)
        assert again.status_code == 200, again.text
