"""Concurrency on real PostgreSQL: the last piece, and one key sent many times at once."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from elysium.models import Order, StockItem, StockReservation
from factories import checkout, shopper, stocked_piece


async def test_twenty_customers_race_for_the_last_piece(app: FastAPI, client: AsyncClient) -> None:
    product = await stocked_piece(app, level=1)
    customers = [await shopper(app, client, product) for _ in range(20)]
    # the last piece can be in every cart: carts hold no stock
    answers = await asyncio.gather(*(checkout(client, who) for who in customers))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [409] * 19, [a.text for a in answers if a.status_code not in (201, 409)]
    async with app.state.sessionmaker() as session:
        item = await session.scalar(select(StockItem).where(StockItem.product_id == product.id))
        orders = await session.scalar(select(func.count()).select_from(Order))
        holds = await session.scalar(select(func.count()).select_from(StockReservation))
    assert item is not None
    assert (item.stock_level, item.reserved, orders, holds) == (1, 1, 1, 1)


async def test_ten_identical_requests_at_once_make_one_order(
    app: FastAPI, client: AsyncClient
) -> None:
    product = await stocked_piece(app, level=5)
    who = await shopper(app, client, product)
    answers = await asyncio.gather(*(checkout(client, who, key="same-key") for _ in range(10)))
    assert [a.status_code for a in answers] == [201] * 10, [a.text for a in answers]
    assert len({a.json()["order"]["id"] for a in answers}) == 1
    async with app.state.sessionmaker() as session:
        orders = await session.scalar(select(func.count()).select_from(Order))
        item = await session.scalar(select(StockItem).where(StockItem.product_id == product.id))
    assert item is not None
    assert (orders, item.reserved) == (1, 1)
