"""The nightly purge: product views past retention and expired guest carts, in batches."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select, update

from elysium.analytics import service as analytics_service
from elysium.analytics.service import trending_cache
from elysium.analytics.tasks import purge_old_product_views
from elysium.cart.tasks import purge_expired_guest_carts
from elysium.jobs import dispose_job_engine
from elysium.kit.clock import utcnow
from elysium.models import Cart, CartItem, Product, ProductView
from factories import (
    GUEST_SESSION,
    HALF_CARAT,
    create_product,
    shopper,
    stocked_piece,
)
from job_helpers import settings_env


@pytest.fixture(autouse=True)
def _fresh_trending_cache() -> Iterator[None]:
    trending_cache.clear()
    yield
    trending_cache.clear()


async def _views(app: FastAPI, product: Product, days_ago: float, count: int = 1) -> None:
    at = utcnow() - timedelta(days=days_ago)
    async with app.state.sessionmaker() as session, session.begin():
        session.add_all(
            ProductView(product_id=product.id, session_id=GUEST_SESSION, viewed_at=at)
            for _ in range(count)
        )


async def _view_ages(app: FastAPI) -> list[int]:
    async with app.state.sessionmaker() as session:
        ages = await session.scalars(select(ProductView.viewed_at).order_by(ProductView.viewed_at))
    return [(utcnow() - at).days for at in ages]


async def _purge(batch_size: int = 5000) -> None:
    try:
        await purge_old_product_views(timestamp=0, batch_size=batch_size)
        await purge_expired_guest_carts(timestamp=0, batch_size=batch_size)
    finally:
        await dispose_job_engine()


async def test_views_past_retention_are_deleted_in_batches(
    app: FastAPI, client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ring, brooch = await create_product(app), await create_product(app)
    await _views(app, ring, days_ago=400, count=5)
    await _views(app, ring, days_ago=40)
    await _views(app, brooch, days_ago=2, count=2)
    await _views(app, ring, days_ago=1)
    batches: list[int] = []
    real = analytics_service.delete_product_views_before

    async def counted(*args: object) -> int:
        batches.append(await real(*args))  # type: ignore[arg-type]
        return batches[-1]

    monkeypatch.setattr(analytics_service, "delete_product_views_before", counted)
    await _purge(batch_size=2)

    assert batches == [2, 2, 1]  # 180 days by default: only the five old views go
    assert await _view_ages(app) == [40, 2, 2, 1]
    with settings_env(PRODUCT_VIEW_RETENTION_DAYS="30"):
        await _purge()
    assert await _view_ages(app) == [2, 2, 1]

    trending = (await client.get("/api/analytics/trending")).json()["items"]
    assert [(i["product_slug"], i["views"]) for i in trending] == [(brooch.slug, 2), (ring.slug, 1)]
    recent = await client.get(f"/api/analytics/recently-viewed?session_id={GUEST_SESSION}")
    assert [i["product_slug"] for i in recent.json()["items"]] == [ring.slug, brooch.slug]


async def _guest_cart(client: AsyncClient, product: Product) -> str:
    body = {"product_slug": product.slug, "configuration": HALF_CARAT, "quantity": 1}
    response = await client.post("/api/cart", json=body)
    assert response.status_code == 201, response.text
    token: str = response.json()["cart_token"]
    return token


async def _cart_id(client: AsyncClient, token: str) -> uuid.UUID:
    response = await client.get("/api/cart", headers={"X-Cart-Token": token})
    return uuid.UUID(response.json()["id"])


async def test_expired_guest_carts_go_with_their_lines(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_piece(app)
    signed_in = await shopper(app, client, product)
    expired_token, live_token = (
        await _guest_cart(client, product),
        await _guest_cart(client, product),
    )
    expired_id = await _cart_id(client, expired_token)
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Cart).where(Cart.id == expired_id).values(expires_at=utcnow() - timedelta(1))
        )
        await session.execute(  # a signed-in user's cart never expires, whatever it says
            update(Cart).where(Cart.user_id.is_not(None)).values(expires_at=utcnow() - timedelta(1))
        )

    await _purge(batch_size=1)

    async with app.state.sessionmaker() as session:
        assert await session.get(Cart, expired_id) is None
        orphans = select(func.count()).where(CartItem.cart_id == expired_id)
        assert await session.scalar(orphans) == 0
        assert await session.scalar(select(func.count()).select_from(Cart)) == 2
    live = await client.get("/api/cart", headers={"X-Cart-Token": live_token})
    assert [i["product_slug"] for i in live.json()["items"]] == [product.slug]
    mine = await client.get("/api/cart", headers=signed_in.headers)
    assert [i["product_slug"] for i in mine.json()["items"]] == [product.slug]
