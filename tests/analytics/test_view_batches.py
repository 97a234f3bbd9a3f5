"""Tracked views are written in batches; product_views is partitioned by month and retention
drops whole months."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select, text

from elysium.analytics.tasks import purge_old_product_views
from elysium.app import create_app
from elysium.config import Settings
from elysium.jobs import dispose_job_engine
from elysium.kit.clock import utcnow
from elysium.models import Product, ProductView, RecentView
from factories import GUEST_SESSION, create_product
from job_helpers import settings_env


async def _count_views(app: FastAPI) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(ProductView)) or 0)


async def _track(client: AsyncClient, slug: str, session_id: str = GUEST_SESSION) -> None:
    body = {"product_slug": slug, "session_id": session_id}
    response = await client.post("/api/analytics/track-view", json=body)
    assert response.status_code == 202, response.text


async def test_views_wait_in_the_buffer_and_are_written_in_one_batch(
    app: FastAPI, client: AsyncClient
) -> None:
    piece = await create_product(app)
    buffer = app.state.view_buffer
    await buffer.stop()  # no timed flush during the test (stop writes what waits)
    try:
        for _ in range(5):
            await _track(client, piece.slug)
        assert buffer.pending == 5
        assert await _count_views(app) == 0  # acknowledged, not yet written
        assert await buffer.flush() == 5
        assert buffer.pending == 0
        assert await _count_views(app) == 5
    finally:
        buffer.start()
    async with app.state.sessionmaker() as session:  # kept by the trigger: one row per piece
        last_seen = (
            await session.execute(select(RecentView.session_id, RecentView.product_id))
        ).all()
    assert last_seen == [(GUEST_SESSION, piece.id)]
    recent = await client.get(f"/api/analytics/recently-viewed?session_id={GUEST_SESSION}")
    assert [i["product_slug"] for i in recent.json()["items"]] == [piece.slug]


async def test_the_buffer_flushes_on_its_own_and_on_shutdown(
    app: FastAPI, settings: Settings
) -> None:
    piece = await create_product(app)
    quick = create_app(settings.model_copy(update={"view_flush_seconds": 0.05}))
    async with LifespanManager(quick):
        transport = ASGITransport(app=quick)
        async with AsyncClient(transport=transport, base_url="http://testserver") as http:
            await _track(http, piece.slug)
            async with asyncio.timeout(10):  # the loop writes it within VIEW_FLUSH_SECONDS
                while await _count_views(app) != 1:  # noqa: ASYNC110 (polls the database)
                    await asyncio.sleep(0.02)
    slow = create_app(settings.model_copy(update={"view_flush_seconds": 1.0}))
    async with LifespanManager(slow):
        transport = ASGITransport(app=slow)
        async with AsyncClient(transport=transport, base_url="http://testserver") as http:
            for _ in range(3):
                await _track(http, piece.slug)
    assert await _count_views(app) == 4  # the graceful stop wrote what was waiting


async def _partitions(app: FastAPI) -> list[str]:
    async with app.state.sessionmaker() as session:
        rows = await session.scalars(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = 'product_views'::regclass ORDER BY 1"
            )
        )
        return list(rows.all())


def _name(month: datetime) -> str:
    return f"product_views_y{month:%Y}m{month:%m}"


async def test_retention_drops_whole_months_and_makes_the_coming_ones(app: FastAPI) -> None:
    piece: Product = await create_product(app)
    now = utcnow()
    old = (now - timedelta(days=250)).replace(day=15)
    old_month = datetime(old.year, old.month, 1, tzinfo=UTC)
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(text(f'DROP TABLE IF EXISTS "{_name(old_month)}"'))
        session.add_all(  # no partition for that month: they land in the default one
            ProductView(product_id=piece.id, session_id="old-session", viewed_at=old)
            for _ in range(3)
        )
        session.add(ProductView(product_id=piece.id, session_id="new-session", viewed_at=now))
    async with app.state.sessionmaker() as session, session.begin():
        made = await session.scalar(
            text("SELECT product_views_ensure_partition(:m)"), {"m": old_month.date()}
        )
    assert made is True
    assert _name(old_month) in await _partitions(app)
    async with app.state.sessionmaker() as session:
        in_default = await session.scalar(text("SELECT count(*) FROM product_views_default"))
        in_month = await session.scalar(text(f'SELECT count(*) FROM "{_name(old_month)}"'))
    assert (in_default, in_month) == (0, 3)  # moved out of the default partition

    try:
        with settings_env(PRODUCT_VIEW_RETENTION_DAYS="180"):
            assert await purge_old_product_views(timestamp=0) == 0  # no row deleted one by one
    finally:
        await dispose_job_engine()
    partitions = await _partitions(app)
    assert _name(old_month) not in partitions
    coming = [now + timedelta(days=31 * n) for n in range(3)]
    assert all(_name(datetime(m.year, m.month, 1)) in partitions for m in coming)
    async with app.state.sessionmaker() as session:
        sessions = (await session.scalars(select(ProductView.session_id))).all()
    assert sessions == ["new-session"]
