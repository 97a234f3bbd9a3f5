"""The per-process catalogue cache, dropped in every app instance when the catalogue changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from catalog_helpers import deliver_webhook, demo_document, eventually
from elysium.app import create_app
from elysium.catalog.pricing import variant_keys_for
from elysium.catalog.service import get_product, product_spec
from elysium.config import Settings
from elysium.inventory.service import import_stock_csv

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
async def second_client(settings: Settings) -> AsyncIterator[AsyncClient]:
    """A second app instance (its own cache and LISTEN connection) on the same database."""
    other: FastAPI = create_app(settings)
    async with LifespanManager(other):
        transport = ASGITransport(app=other)
        async with AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def _titles(client: AsyncClient) -> tuple[str, str]:
    detail = (await client.get("/api/products/vesper-diamond-studs")).json()["title"]
    listed = (await client.get("/api/products?category=earrings")).json()["items"]
    return detail, next(i["title"] for i in listed if i["slug"] == "vesper-diamond-studs")


async def _write_behind_the_cache(app: FastAPI, title: str) -> None:
    """Change a title without telling anyone: only a cache would keep showing the old one."""
    async with app.state.engine.begin() as conn:
        await conn.execute(
            text("UPDATE products SET title = :title WHERE slug = 'vesper-diamond-studs'"),
            {"title": title},
        )


async def test_a_webhook_on_one_instance_clears_the_cache_of_both(
    app: FastAPI, client: AsyncClient, second_client: AsyncClient
) -> None:
    original = ("Vesper Diamond Stud Earrings",) * 2
    assert await _titles(client) == original
    assert await _titles(second_client) == original
    await _write_behind_the_cache(app, "Silently Renamed")
    assert await _titles(client) == original  # served from each process's cache
    assert await _titles(second_client) == original

    doc = demo_document("product.vesper-diamond-studs") | {
        "_rev": "rev-vesper-2",
        "title": "Vesper Studs",
    }
    response = await deliver_webhook(client, doc)
    assert response.json()["status"] == "applied"

    async def both_fresh() -> bool:
        expected = ("Vesper Studs",) * 2
        return await _titles(client) == expected and await _titles(second_client) == expected

    await eventually(both_fresh)


async def test_a_rolled_back_write_does_not_clear_the_cache(
    app: FastAPI, client: AsyncClient
) -> None:
    assert (await _titles(client))[0] == "Vesper Diamond Stud Earrings"
    await _write_behind_the_cache(app, "Silently Renamed")
    async with app.state.engine.connect() as conn:
        await conn.execute(text("SELECT pg_notify('catalog_changed', '')"))
        await conn.rollback()
    await asyncio.sleep(0.2)
    assert (await _titles(client))[0] == "Vesper Diamond Stud Earrings"


async def test_prices_follow_a_price_change(client: AsyncClient) -> None:
    configuration = {"metal": "18k-yellow-gold", "carat": "0.50"}

    async def price() -> str:
        response = await client.post(
            "/api/products/vesper-diamond-studs/price", json={"configuration": configuration}
        )
        amount: str = response.json()["unit_price"]["amount"]
        return amount

    assert await price() == "1450.00"
    doc = demo_document("product.vesper-diamond-studs") | {"_rev": "rev-3", "basePrice": 1500}
    assert (await deliver_webhook(client, doc)).json()["status"] == "applied"

    async def repriced() -> bool:
        return await price() == "1500.00"

    await eventually(repriced)


async def test_a_stock_change_reaches_cached_catalogue_pages(
    app: FastAPI, client: AsyncClient
) -> None:
    async def vesper_in_stock() -> bool:
        listed = (await client.get("/api/products?category=earrings")).json()["items"]
        return bool(next(i["in_stock"] for i in listed if i["slug"] == "vesper-diamond-studs"))

    assert await vesper_in_stock() is True  # now cached
    async with app.state.sessionmaker() as session, session.begin():
        product = await get_product(session, "vesper-diamond-studs")
        rows = [
            {"product_slug": product.slug, "variant_key": key, "stock_level": "0"}
            for key in variant_keys_for(product_spec(product))
        ]
        report = await import_stock_csv(session, rows)
    assert not report.errors

    async def sold_out() -> bool:
        return not await vesper_in_stock()

    await eventually(sold_out)
