"""Reserving, releasing, selling and expiring stock through the service other domains call."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from elysium.errors import OutOfStockError
from elysium.inventory import service
from elysium.inventory.reservations import convert_to_sale, expire_reservations, release
from elysium.kit.clock import utcnow
from elysium.models import StockItem, StockMovement, StockReservation
from elysium.models.inventory import ReservationOwner
from factories import HALF_CARAT_KEY, ONE_CARAT_KEY, create_product, set_stock
from inventory_helpers import available, hold, ledger_sums, line, stock_row


async def test_reserve_takes_units_and_writes_the_ledger(app: FastAPI) -> None:
    product = await create_product(app)
    await set_stock(app, product, {HALF_CARAT_KEY: 3})
    owner = uuid.uuid4()
    [reservation] = await hold(app, [line(product, quantity=2)], owner)
    assert (reservation.quantity, reservation.owner_id) == (2, owner)
    item = await stock_row(app, product)
    assert (item.stock_level, item.reserved) == (3, 2)
    assert await available(app, product) == 1
    assert await ledger_sums(app, item) == (3, 2)


async def test_demand_for_one_variant_is_summed_across_lines(app: FastAPI) -> None:
    product = await create_product(app)
    await set_stock(app, product, {HALF_CARAT_KEY: 3})
    with pytest.raises(OutOfStockError) as refused:
        await hold(app, [line(product, quantity=2), line(product, quantity=2)])
    assert refused.value.extra["lines"] == [
        {
            "product_slug": product.slug,
            "variant_key": HALF_CARAT_KEY,
            "requested": 4,
            "available": 3,
        }
    ]
    [reservation] = await hold(app, [line(product, quantity=2), line(product, quantity=1)])
    assert reservation.quantity == 3


async def test_shortage_lists_every_short_line_and_writes_nothing(app: FastAPI) -> None:
    product = await create_product(app)
    other = await create_product(app)
    await set_stock(app, product, {HALF_CARAT_KEY: 5, ONE_CARAT_KEY: 1})
    lines = [
        line(product, HALF_CARAT_KEY, 2),
        line(product, ONE_CARAT_KEY, 2),
        line(other, HALF_CARAT_KEY, 1),
    ]
    with pytest.raises(OutOfStockError) as refused:
        await hold(app, lines)
    assert refused.value.status == 409
    assert refused.value.extra["lines"] == [
        {
            "product_slug": product.slug,
            "variant_key": ONE_CARAT_KEY,
            "requested": 2,
            "available": 1,
        },
        {"product_slug": other.slug, "variant_key": HALF_CARAT_KEY, "requested": 1, "available": 0},
    ]
    item = await stock_row(app, product, HALF_CARAT_KEY)
    assert item.reserved == 0
    assert await ledger_sums(app, item) == (5, 0)


async def test_made_to_order_lines_are_never_stock_limited(app: FastAPI) -> None:
    bespoke = await create_product(app, made_to_order=True)
    stocked = await create_product(app)
    await set_stock(app, stocked, {HALF_CARAT_KEY: 1})
    held = await hold(app, [line(bespoke, quantity=50), line(stocked)])
    assert [r.quantity for r in held] == [1]  # the made-to-order line needs no reservation
    assert await available(app, bespoke) is None
    async with app.state.sessionmaker() as session:
        in_stock = await service.available_for_products(session, [bespoke, stocked])
    assert in_stock == {bespoke.id: True, stocked.id: False}


async def test_release_gives_units_back_once(app: FastAPI) -> None:
    product = await create_product(app)
    await set_stock(app, product, {HALF_CARAT_KEY: 2})
    owner = uuid.uuid4()
    await hold(app, [line(product, quantity=2)], owner)
    for expected in (2, 0):
        async with app.state.sessionmaker() as session, session.begin():
            released = await release(
                session,
                owner_type=ReservationOwner.ORDER,
                owner_id=owner,
                reason="cancelled",
                actor_id=None,
            )
        assert released == expected
    item = await stock_row(app, product)
    assert (item.stock_level, item.reserved) == (2, 0)
    assert await ledger_sums(app, item) == (2, 0)


async def test_convert_to_sale_lowers_stock_and_reserved_once(app: FastAPI) -> None:
    product = await create_product(app)
    await set_stock(app, product, {HALF_CARAT_KEY: 5, ONE_CARAT_KEY: 1})
    order = uuid.uuid4()
    await hold(app, [line(product, HALF_CARAT_KEY, 2), line(product, ONE_CARAT_KEY, 1)], order)
    for expected in (3, 0):
        async with app.state.sessionmaker() as session, session.begin():
            sold = await convert_to_sale(
                session,
                owner_type=ReservationOwner.ORDER,
                owner_id=order,
                order_id=order,
                actor_id=None,
            )
        assert sold == expected
    item = await stock_row(app, product, HALF_CARAT_KEY)
    assert (item.stock_level, item.reserved) == (3, 0)
    assert await ledger_sums(app, item) == (3, 0)
    async with app.state.sessionmaker() as session:
        sales = (
            await session.scalars(select(StockMovement).where(StockMovement.reason == "sale"))
        ).all()
    assert {(m.delta, m.reserved_delta, m.order_id) for m in sales} == {
        (-2, -2, order),
        (-1, -1, order),
    }


async def _expire_now(app: FastAPI, owner: uuid.UUID) -> None:
    """Move a reservation's expiry into the past, as if its time had run out."""
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(StockReservation)
            .where(StockReservation.owner_id == owner)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


async def test_an_expired_reservation_stops_counting_at_once(app: FastAPI) -> None:
    product = await create_product(app)
    await set_stock(app, product, {HALF_CARAT_KEY: 1})
    first = uuid.uuid4()
    await hold(app, [line(product)], first)
    assert await available(app, product) == 0
    with pytest.raises(OutOfStockError):
        await hold(app, [line(product)])
    await _expire_now(app, first)
    assert await available(app, product) == 1  # no job has run: the query filter alone
    await hold(app, [line(product)])  # the expired hold lapses under the lock
    item = await stock_row(app, product)
    assert (item.stock_level, item.reserved) == (1, 1)
    assert await ledger_sums(app, item) == (1, 1)


async def test_a_lapsed_reservation_cannot_be_sold(app: FastAPI) -> None:
    product = await create_product(app)
    await set_stock(app, product, {HALF_CARAT_KEY: 1})
    late = uuid.uuid4()
    await hold(app, [line(product)], late)
    await _expire_now(app, late)
    await hold(app, [line(product)])  # someone else takes the unit
    async with app.state.sessionmaker() as session, session.begin():
        sold = await convert_to_sale(
            session, owner_type=ReservationOwner.ORDER, owner_id=late, order_id=late, actor_id=None
        )
    assert sold == 0
    assert (await stock_row(app, product)).stock_level == 1


async def test_an_expired_but_unneeded_reservation_can_still_be_sold(app: FastAPI) -> None:
    product = await create_product(app)
    await set_stock(app, product, {HALF_CARAT_KEY: 2})
    order = uuid.uuid4()
    await hold(app, [line(product)], order)
    await _expire_now(app, order)
    async with app.state.sessionmaker() as session, session.begin():
        sold = await convert_to_sale(
            session,
            owner_type=ReservationOwner.ORDER,
            owner_id=order,
            order_id=order,
            actor_id=None,
        )
    assert sold == 1
    item = await stock_row(app, product)
    assert (item.stock_level, item.reserved) == (1, 0)


async def test_periodic_expiry_deletes_expired_holds_and_names_their_owners(app: FastAPI) -> None:
    product = await create_product(app)
    await set_stock(app, product, {HALF_CARAT_KEY: 3, ONE_CARAT_KEY: 3})
    expired, lapsed, live = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await hold(app, [line(product, HALF_CARAT_KEY), line(product, ONE_CARAT_KEY)], expired)
    await hold(app, [line(product, HALF_CARAT_KEY, 2)], lapsed, owner_type=ReservationOwner.STAFF)
    await hold(app, [line(product, ONE_CARAT_KEY)], live)
    await _expire_now(app, expired)
    await _expire_now(app, lapsed)
    await hold(app, [line(product, HALF_CARAT_KEY, 2)])  # lapses both expired holds on A
    async with app.state.sessionmaker() as session, session.begin():
        owners = await expire_reservations(session)
    assert sorted(owners) == sorted([("order", expired), ("staff", lapsed)])
    async with app.state.sessionmaker() as session, session.begin():
        assert await expire_reservations(session) == []
        remaining = (await session.scalars(select(StockReservation.owner_id))).all()
    assert live in remaining
    assert expired not in remaining
    assert lapsed not in remaining
    for key, reserved in ((HALF_CARAT_KEY, 2), (ONE_CARAT_KEY, 1)):
        item = await stock_row(app, product, key)
        assert item.reserved == reserved
        assert await ledger_sums(app, item) == (3, reserved)


async def test_check_constraints_refuse_overselling_written_directly(app: FastAPI) -> None:
    product = await create_product(app)
    await set_stock(app, product, {HALF_CARAT_KEY: 2})
    await hold(app, [line(product, quantity=2)])
    for values in ({"stock_level": 1}, {"reserved": 3}, {"reserved": -1}, {"stock_level": -1}):
        async with app.state.sessionmaker() as session, session.begin():
            with pytest.raises(IntegrityError, match="ck_stock_items"):
                await session.execute(
                    update(StockItem).where(StockItem.product_id == product.id).values(**values)
                )
            await session.rollback()


async def test_the_ledger_is_append_only(app: FastAPI) -> None:
    product = await create_product(app)
    await set_stock(app, product, {HALF_CARAT_KEY: 2})
    for statement in ("UPDATE stock_movements SET delta = 99", "DELETE FROM stock_movements"):
        async with app.state.sessionmaker() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))


async def test_bad_requests_are_programming_errors(app: FastAPI) -> None:
    product = await create_product(app)
    await set_stock(app, product, {HALF_CARAT_KEY: 2})
    with pytest.raises(ValueError, match="owner_type"):
        await hold(app, [line(product)], owner_type="wishlist")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="future"):
        await hold(app, [line(product)], expires_at=utcnow() - timedelta(seconds=1))
    with pytest.raises(ValueError, match="positive"):
        await hold(app, [line(product, quantity=0)])
