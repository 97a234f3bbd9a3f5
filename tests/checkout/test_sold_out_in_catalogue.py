"""Selling the last piece drops cached catalogue pages at once; so does its coming back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from httpx import AsyncClient

from elysium.models import Product
from factories import make_account, placed_order, shopper, stocked_piece


async def _after_next_notice(app: FastAPI, change: Callable[[], Awaitable[object]]) -> None:
    """Run `change`, then wait until this instance has dropped its cache for it."""
    cache = app.state.catalog_cache
    before = cache.generation
    await change()
    for _ in range(100):
        if cache.generation > before:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the catalogue change notice never arrived")


async def _listed_in_stock(client: AsyncClient, product: Product) -> bool:
    items = (await client.get("/api/products", params={"limit": 100})).json()["items"]
    return bool(next(i["in_stock"] for i in items if i["slug"] == product.slug))


async def _until(check: Callable[[], Awaitable[bool]]) -> bool:
    for _ in range(100):
        if await check():
            return True
        await asyncio.sleep(0.02)
    return False


async def test_the_last_piece_sold_shows_as_sold_out_on_cached_pages_at_once(
    app: FastAPI, client: AsyncClient
) -> None:
    staff = await make_account(app, client, "staff")
    holder: list[Product] = []

    async def stock_one() -> None:
        holder.append(await stocked_piece(app, client, staff, level=1))

    await _after_next_notice(app, stock_one)
    product = holder[0]
    assert await _listed_in_stock(client, product) is True  # cached from here on (30 s)

    buyer = await shopper(client, product)
    order = await placed_order(client, buyer)

    async def sold_out() -> bool:
        return not await _listed_in_stock(client, product)

    assert await _until(sold_out), "a cached page kept offering the sold piece"

    cancelled = await client.post(f"/api/orders/{order['id']}/cancel", headers=buyer.headers)
    assert cancelled.status_code == 200, cancelled.text

    async def back() -> bool:
        return await _listed_in_stock(client, product)

    assert await _until(back), "the piece given back stayed sold out on cached pages"
