"""Behind a real PgBouncer in transaction pooling mode: requests (checkouts among them) and the
jobs they enqueue run through it; LISTEN/NOTIFY and the job queue use DATABASE_DIRECT_URL."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from elysium.app import create_app
from elysium.config import Settings
from elysium.db import libpq_url, pgbouncer_connect_query
from factories import checkout, shopper, stocked_piece
from job_helpers import run_jobs, settings_env
from pg_cluster import pgbouncer

pytestmark = pytest.mark.slow  # starts PgBouncer


def _through(database_url: str, port: int) -> str:
    return make_url(database_url).set(host="127.0.0.1", port=port).render_as_string(False)


def _transactions_served(port: int, database: str) -> int:
    admin = f"postgresql://postgres@127.0.0.1:{port}/pgbouncer"
    with psycopg.connect(admin, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        cursor = conn.execute("SHOW STATS")
        names = [c.name for c in cursor.description or []]
        for row in cursor.fetchall():
            stats = dict(zip(names, row, strict=True))
            if stats["database"] == database:
                return int(stats["total_xact_count"])
    return 0


async def test_requests_and_jobs_run_through_pgbouncer(
    app: FastAPI, settings: Settings, database_url: str
) -> None:
    upstream = make_url(database_url)
    socket_host = str(upstream.query.get("host", "")) or ""
    if upstream.host in (None, "") or socket_host.startswith("/"):
        pytest.skip(
            "PgBouncer reaches PostgreSQL over TCP; the throwaway embedded cluster listens on a "
            "Unix socket only (set TEST_DATABASE_URL to a TCP server to run this test)"
        )
    database = str(upstream.database)
    with pgbouncer(
        upstream.port or 5432, pool_size=2, connect_query=pgbouncer_connect_query(settings)
    ) as port:
        bounced = settings.model_copy(
            update={
                "database_url": _through(database_url, port),
                "database_direct_url": database_url,
                "db_pgbouncer": True,
            }
        )
        behind = create_app(bounced, bounced.database_url)
        async with LifespanManager(behind):
            http = AsyncClient(transport=ASGITransport(app=behind), base_url="http://testserver")
            piece = await stocked_piece(behind, level=20)
            buyers = [await shopper(behind, http, piece) for _ in range(6)]
            # concurrent transactions share PgBouncer's two server connections: each one's
            # statements must not depend on a statement another connection prepared
            answers = await asyncio.gather(
                *(checkout(http, buyer) for buyer in buyers),
                *(http.get(f"/api/products/{piece.slug}") for _ in range(10)),
                *(http.get("/api/cart", headers=buyer.headers) for buyer in buyers),
            )
            assert [a.status_code for a in answers[:6]] == [201] * 6
            assert all(a.status_code == 200 for a in answers[6:])
            async with behind.state.engine.connect() as conn:
                timeout = (await conn.execute(text("SHOW statement_timeout"))).scalar_one()
            assert timeout == f"{settings.db_statement_timeout_ms // 1000}s"  # connect_query
            await http.aclose()
        assert _transactions_served(port, database) > 20

        env = {
            "DATABASE_URL": bounced.database_url or "",
            "DATABASE_DIRECT_URL": database_url,
            "DB_PGBOUNCER": "true",
        }
        with settings_env(**env):
            await run_jobs()
    with psycopg.connect(libpq_url(database_url)) as conn:
        statuses = conn.execute(
            "SELECT task_name, status, count(*) FROM procrastinate_jobs"
            " WHERE queue_name <> 'maintenance' GROUP BY 1, 2"  # periodic housekeeping left out
        ).fetchall()
    assert statuses == [("deliver_email", "succeeded", 6)]  # the six order confirmations
