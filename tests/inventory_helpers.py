"""Inventory test helpers: reservations and stock reads, each in a transaction of its own."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from elysium.inventory import service
from elysium.inventory.reservations import ReservationLine, reserve
from elysium.kit.clock import utcnow
from elysium.models import Product, StockItem, StockMovement, StockReservation
from elysium.models.inventory import ReservationOwner
from factories import HALF_CARAT_KEY


def line(product: Product, key: str = HALF_CARAT_KEY, quantity: int = 1) -> ReservationLine:
    return ReservationLine(product.id, key, quantity, product.slug)


async def hold(
    app: FastAPI,
    lines: Sequence[ReservationLine],
    owner_id: uuid.UUID | None = None,
    expires_at: datetime | None = None,
    owner_type: ReservationOwner = ReservationOwner.ORDER,
) -> list[StockReservation]:
    """Reserve in a committed transaction of its own."""
    async with app.state.sessionmaker() as session, session.begin():
        return await reserve(
            session,
            lines,
            owner_type=owner_type,
            owner_id=owner_id or uuid.uuid4(),
            expires_at=expires_at or utcnow() + timedelta(minutes=30),
            actor_id=None,
            reason="checkout",
        )


async def stock_row(app: FastAPI, product: Product, key: str = HALF_CARAT_KEY) -> StockItem:
    sessions: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    async with sessions() as session:
        item = await session.scalar(
            select(StockItem).where(
                StockItem.product_id == product.id, StockItem.variant_key == key
            )
        )
    assert item is not None
    return item


async def ledger_sums(app: FastAPI, item: StockItem) -> tuple[int, int]:
    """(sum of delta, sum of reserved_delta) over the item's ledger."""
    async with app.state.sessionmaker() as session:
        row = (
            await session.execute(
                select(
                    func.coalesce(func.sum(StockMovement.delta), 0),
                    func.coalesce(func.sum(StockMovement.reserved_delta), 0),
                ).where(StockMovement.stock_item_id == item.id)
            )
        ).one()
    return int(row[0]), int(row[1])


async def available(app: FastAPI, product: Product, key: str = HALF_CARAT_KEY) -> int | None:
    async with app.state.sessionmaker() as session:
        return await service.available_quantity(session, product, key)
