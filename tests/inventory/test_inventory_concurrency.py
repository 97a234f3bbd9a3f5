"""Races on real PostgreSQL: many transactions fight for the last units and nobody oversells."""

from __future__ import annotations

import asyncio
import random
import uuid

from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from elysium.errors import OutOfStockError
from elysium.inventory.reservations import ReservationLine, convert_to_sale
from elysium.models import Product
from elysium.models.inventory import ReservationOwner
from factories import HALF_CARAT_KEY, ONE_CARAT_KEY, create_product, set_stock
from inventory_helpers import hold, ledger_sums, line, stock_row

DEADLOCK = "40P01"


def _sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)


async def _race(app: FastAPI, lines: list[ReservationLine]) -> str:
    """One shopper's checkout in its own transaction: 'held', 'short' or 'deadlock'."""
    try:
        await hold(app, lines, uuid.uuid4())
    except OutOfStockError:
        return "short"
    except DBAPIError as error:
        if _sqlstate(error) == DEADLOCK:
            return "deadlock"
        raise
    return "held"


def _basket(product: Product, other: Product, i: int) -> list[ReservationLine]:
    """Overlapping baskets: A alone, A+B, B+A, and A+B spread over two products."""
    shapes = [
        [line(product, HALF_CARAT_KEY)],
        [line(product, HALF_CARAT_KEY), line(product, ONE_CARAT_KEY)],
        [line(product, ONE_CARAT_KEY), line(product, HALF_CARAT_KEY)],
        [line(other, HALF_CARAT_KEY), line(product, HALF_CARAT_KEY)],
        [line(product, HALF_CARAT_KEY), line(other, HALF_CARAT_KEY), line(product, ONE_CARAT_KEY)],
    ]
    return shapes[i % len(shapes)]


async def test_fifty_shoppers_race_for_three_units(app: FastAPI) -> None:
    product = await create_product(app)
    other = await create_product(app)
    await set_stock(app, product, {HALF_CARAT_KEY: 3, ONE_CARAT_KEY: 100})
    await set_stock(app, other, {HALF_CARAT_KEY: 100})
    baskets = [_basket(product, other, i) for i in range(50)]
    random.Random(7).shuffle(baskets)
    outcomes = await asyncio.gather(*(_race(app, basket) for basket in baskets))
    assert outcomes.count("deadlock") == 0
    assert outcomes.count("held") == 3
    assert outcomes.count("short") == 47
    item = await stock_row(app, product, HALF_CARAT_KEY)
    assert (item.stock_level, item.reserved) == (3, 3)
    assert await ledger_sums(app, item) == (3, 3)
    for variant, owner in (
        (await stock_row(app, product, ONE_CARAT_KEY), product),
        (await stock_row(app, other), other),
    ):
        assert variant.reserved <= 3, owner.slug
        assert await ledger_sums(app, variant) == (100, variant.reserved)


async def test_concurrent_sales_and_releases_never_go_negative(app: FastAPI) -> None:
    product = await create_product(app)
    await set_stock(app, product, {HALF_CARAT_KEY: 10, ONE_CARAT_KEY: 10})
    owners = [uuid.uuid4() for _ in range(10)]
    for owner in owners:
        await hold(app, [line(product, ONE_CARAT_KEY), line(product, HALF_CARAT_KEY)], owner)

    async def settle(owner: uuid.UUID) -> int:
        async with app.state.sessionmaker() as session, session.begin():
            return await convert_to_sale(
                session,
                owner_type=ReservationOwner.ORDER,
                owner_id=owner,
                order_id=owner,
                actor_id=None,
            )

    # every order is settled twice at once (a webhook retried): each sells exactly once
    sold = await asyncio.gather(*(settle(o) for o in owners + owners))
    assert sum(sold) == 20
    for key in (HALF_CARAT_KEY, ONE_CARAT_KEY):
        item = await stock_row(app, product, key)
        assert (item.stock_level, item.reserved) == (0, 0)
        assert await ledger_sums(app, item) == (0, 0)
