"""Error answers never leak SQL, file paths or stack traces, however the error arises."""

from __future__ import annotations

from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from elysium.app import create_app
from elysium.config import Settings
from elysium.db import SessionDep

LEAKS = ("SELECT", "Traceback", "/src/elysium", ".py", "asyncpg", "sqlalchemy", "secret_table")


async def test_forced_failures_answer_a_plain_problem(settings: Settings, app: FastAPI) -> None:
    broken = create_app(settings)

    @broken.get("/api/test-only/crash")
    async def crash() -> None:
        raise RuntimeError("boom in /src/elysium/orders/service.py: SELECT * FROM secret_table")

    @broken.get("/api/test-only/bad-sql")
    async def bad_sql(session: SessionDep) -> None:
        await session.execute(text("SELECT * FROM secret_table"))

    @broken.get("/api/test-only/bad-value")
    async def bad_value(session: SessionDep) -> None:
        await session.execute(text("SELECT 'x'::int"))

    transport = ASGITransport(app=broken, raise_app_exceptions=False)
    async with (
        LifespanManager(broken),
        AsyncClient(transport=transport, base_url="http://t") as http,
    ):
        for path, status in (
            ("/api/test-only/crash", 500),
            ("/api/test-only/bad-sql", 500),
            ("/api/test-only/bad-value", 422),
        ):
            response = await http.get(path)
            assert response.status_code == status, path
            assert response.headers["content-type"].startswith("application/problem+json")
            for leak in LEAKS:
                assert leak not in response.text, (path, leak)
