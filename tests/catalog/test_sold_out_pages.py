"""Selling the last piece drops cached catalogue pages at once; so does its coming back."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from catalog_helpers import eventually
from elysium.models import Product
from factories import placed_order, shopper, stocked_piece


async def _listed_in_stock(client: AsyncClient, product: Product) -> bool:
    items = (await client.get("/api/products", params={"limit": 100})).json()["items"]
    return bool(next(i["in_stock"] for i in items if i["slug"] == product.slug))


async def test_the_last_piece_sold_shows_as_sold_out_on_cached_pages_at_once(
    app: FastAPI, client: AsyncClient
) -> None:
    cache = app.state.catalog_cache
    before = cache.generation
    product = await stocked_piece(app, level=1)

    async def stock_change_noticed() -> bool:
        return bool(cache.generation > before)

    await eventually(stock_change_noticed)  # nothing else will drop the cache now
    assert await _listed_in_stock(client, product) is True  # cached from here on (30 s)

    buyer = await shopper(app, client, product)
    order = await placed_order(client, buyer)

    async def sold_out() -> bool:
        return not await _listed_in_stock(client, product)

    await eventually(sold_out)

    cancelled = await client.post(f"/api/orders/{order['id']}/cancel", headers=buyer.headers)
    assert cancelled.status_code == 200, cancelled.text

    async def back_in_stock() -> bool:
        return await _listed_in_stock(client, product)

    await eventually(back_in_stock)
