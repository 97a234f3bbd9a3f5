"""`orders.place.place_order` hands back the same kind of order, fresh or replayed: one the
session tracks, so a change made after placing is saved (it was lost on a fresh checkout)."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import inspect, select

from elysium.config import Settings
from elysium.models import Order, User
from elysium.orders.place import place_order
from elysium.orders.schemas import CheckoutRequest
from elysium.payments.service import BANK_TRANSFER
from factories import Shopper, shopper, stocked_piece


async def _place(app: FastAPI, settings: Settings, who: Shopper, key: str, note: str) -> bool:
    """Place (or replay) the order, change it afterwards, commit; whether it was a replay."""
    request = CheckoutRequest(
        shipping_address_id=uuid.UUID(who.address_id),
        billing_address_id=uuid.UUID(who.address_id),
    )
    async with app.state.sessionmaker() as session, session.begin():
        user = await session.get(User, uuid.UUID(who.account.id))
        assert user is not None
        placed = await place_order(session, settings, user, request, key, provider=BANK_TRANSFER)
        assert inspect(placed.order).persistent
        placed.order.tracking_number = note
    return placed.replayed


async def _tracking(app: FastAPI) -> str | None:
    async with app.state.sessionmaker() as session:
        [tracking] = (await session.scalars(select(Order.tracking_number))).all()
        return tracking


async def test_a_change_to_the_placed_order_is_saved_fresh_or_replayed(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    who = await shopper(app, client, await stocked_piece(app))
    assert await _place(app, settings, who, "key-1", "set after placing") is False
    assert await _tracking(app) == "set after placing"
    assert await _place(app, settings, who, "key-1", "set after the replay") is True
    assert await _tracking(app) == "set after the replay"
